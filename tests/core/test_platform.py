"""Platform endpoints: health, OpenAPI, docs, and translations of every domain error."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client
from django.utils import translation

from linli.core.errors import DomainError

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_cache():
    answer = Client().get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True and body["database"]["vendor"] in {"sqlite", "postgresql"}
    assert body["cache"]["ok"] is True and body["cache"]["backend"] in {"LocMemCache", "RedisCache"}
    assert body["outbox"] == {"pending": 0, "oldest_age_s": None}


def test_healthz_reports_task_sends_waiting_for_the_broker_without_failing():
    from datetime import timedelta

    from django.utils import timezone

    from linli.core.models import OutboxMessage

    row = OutboxMessage.objects.create(task="linli.notifications.tasks.deliver", args=[1], kwargs={},
                                       next_attempt_at=timezone.now())
    OutboxMessage.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=3))
    OutboxMessage.objects.create(task="linli.notifications.tasks.deliver", args=[2], kwargs={},
                                 next_attempt_at=timezone.now())
    answer = Client().get("/healthz")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"  # the app still serves
    outbox = answer.json()["outbox"]
    assert outbox["pending"] == 2 and 170 <= outbox["oldest_age_s"] <= 200


def test_openapi_lists_the_order_loop():
    answer = Client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    for path in ["/api/v1/auth/sms-code", "/api/v1/auth/login", "/api/v1/auth/password-login",
                 "/api/v1/auth/refresh", "/api/v1/me", "/api/v1/stores/nearby", "/api/v1/orders",
                 "/api/v1/orders/{order_id}/payments", "/api/v1/payments/callbacks/{provider}",
                 "/api/v1/rider/tasks/{task_id}/deliver"]:
        assert path in paths, path


def test_interactive_docs_are_served_without_a_cdn():
    page = Client().get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html and "cdn." not in html


def test_malformed_json_body_is_a_clear_400():
    answer = Client().post("/api/v1/auth/sms-code", "not json", content_type="application/json",
                           headers={"Accept-Language": "zh-hans"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "malformed_body" and answer.json()["message"] == "请求内容不是有效的 JSON。"


def test_unknown_api_path_is_json_404():
    answer = Client().get("/api/v1/nothing-here")
    assert answer.status_code == 404


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_domain_error_has_a_code_and_a_chinese_message():
    import linli.api  # noqa: F401  (imports every app's errors)

    codes = set()
    # A payment provider that is down is not the client's mistake: 503 (retry shortly) is
    # the one 5xx a domain error may carry, and only for that.
    upstream_down = {"gateway_unavailable"}
    for cls in _all_subclasses(DomainError):
        assert 400 <= cls.status < 500 or (cls.code in upstream_down and cls.status == 503), cls
        codes.add(cls.code)
        with translation.override("en"):
            english = str(cls.message)
        with translation.override("zh-hans"):
            chinese = str(cls.message)
        assert chinese != english, f"{cls.__name__} lacks a zh-Hans translation"
    assert len(codes) >= 30


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/auth/password-login", '{"login": "a\\u0000b", "password": "x"}'),
    ("/api/v1/stores/sto_%00x", None),
    ("/api/v1/stores/nearby?lat=31&lng=121&category=fo%00od", None),
])
def test_nul_characters_are_a_clear_422_not_a_database_error(path, body):
    client = Client()
    answer = client.post(path, body, content_type="application/json") if body else client.get(path)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_input"


@pytest.mark.parametrize(("entry", "env", "expected"), [
    ("linli.asgi", {}, "0"),  # Django: no persistent connections under ASGI
    ("linli.asgi", {"LINLI_CONN_MAX_AGE": "30"}, "30"),  # an operator's choice stands
    ("linli.wsgi", {}, "60"),
])
def test_persistent_connections_only_under_wsgi(entry, env, expected):
    probe = (f"import {entry}; from django.conf import settings; "
             "print(settings.DATABASES['default']['CONN_MAX_AGE'])")
    base = {k: v for k, v in os.environ.items() if k not in ("LINLI_CONN_MAX_AGE", "DJANGO_SETTINGS_MODULE")}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**base, "LINLI_LOG_LEVEL": "WARNING", **env})
    assert out.stdout.strip().splitlines()[-1] == expected
