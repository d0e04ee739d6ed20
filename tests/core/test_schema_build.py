"""The API's schemas are compiled on first use (`core/schema_build.py`), and a first use
met by many threads at once gives every one of them the answer an eagerly compiled model
gives. Each case runs in a fresh interpreter: what is compiled is process-wide state."""

from __future__ import annotations

import json
import os
import subprocess
import sys

COUNT = """
import inspect, sys
import linli.wsgi
from pydantic import BaseModel
ours = [v for name, m in list(sys.modules.items()) if name.startswith('linli.')
        for v in vars(m).values()
        if inspect.isclass(v) and issubclass(v, BaseModel) and v.__module__ == name]
print(len(ours), sum(bool(m.__pydantic_complete__) for m in ours))
"""

# Three operations whose input fails validation before any query: a query model, a body
# model, another query model. 16 threads call each one's first use at the same moment.
FIRST_USES = """
import io, json, threading
from linli.wsgi import application
CALLS = [("GET", "/api/v1/stores/nearby", "lat=91&lng=abc", b""),
         ("POST", "/api/v1/auth/password-login", "", b'{"login": [], "password": 5}'),
         ("GET", "/api/v1/search", "q=&lat=x", b"")]

def call(method, path, query, body):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
               "SERVER_NAME": "test", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/json", "REMOTE_ADDR": "10.9.8.7",
               "HTTP_ACCEPT_LANGUAGE": "en"}
    status = []
    body = b"".join(application(environ, lambda s, h: status.append(s)))
    return [status[0], json.loads(body)]

answers = {}
for method, path, query, body in CALLS:
    barrier, got = threading.Barrier(16), []
    def first_use():
        barrier.wait()
        try:
            got.append(call(method, path, query, body))
        except Exception as exc:  # reported, so the test shows what broke
            got.append(["raised", repr(exc)])
    threads = [threading.Thread(target=first_use) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers[path] = got
print(json.dumps(answers))
"""

# pydantic's own guarantee at the version pyproject requires: rounds of fresh deferred
# models (nested, with a validator), each first used by 16 threads at once.
PYDANTIC_RACE = """
import threading
import django
django.setup()
from linli.core.schema_build import defer_schema_builds
defer_schema_builds()
from ninja import Schema
from pydantic import field_validator

wrong = 0
for round_ in range(60):
    class Line(Schema):
        sku: str
        qty: int

    class Basket(Schema):
        lines: list[Line]
        note: str = ""

        @field_validator("note")
        @classmethod
        def upper(cls, v):
            return v.upper()

    assert not Basket.__pydantic_complete__
    barrier, got = threading.Barrier(16), []
    def first_use(i):
        barrier.wait()
        try:
            b = Basket.model_validate({"lines": [{"sku": f"s{i}", "qty": str(i)}], "note": "hi", "extra": 1})
            got.append(b.lines[0].qty == i and b.note == "HI" and b.model_dump()["lines"][0]["sku"] == f"s{i}")
        except Exception:
            got.append(False)
    threads = [threading.Thread(target=first_use, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wrong += got.count(False) + 16 - len(got)
print(wrong)
"""


def _run(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("LINLI_DEFER_SCHEMAS", "DJANGO_SETTINGS_MODULE")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**base, "DJANGO_SETTINGS_MODULE": "linli.settings", "LINLI_LOG_LEVEL": "ERROR", **env})
    return out.stdout.strip().splitlines()[-1]


def test_no_api_schema_is_compiled_at_start_up():
    total, compiled = map(int, _run(COUNT).split())
    assert total > 250  # every API module's schemas were imported by the URL conf
    assert compiled == 0


def test_turned_off_every_schema_is_compiled_at_start_up():
    total, compiled = map(int, _run(COUNT, LINLI_DEFER_SCHEMAS="0").split())
    assert total > 250
    assert compiled == total


def test_first_uses_from_many_threads_answer_as_compiled_models_do():
    deferred = json.loads(_run(FIRST_USES))
    eager = json.loads(_run(FIRST_USES, LINLI_DEFER_SCHEMAS="0"))
    for path, answers in deferred.items():
        assert len(answers) == 16
        expected = eager[path][0]
        assert expected[0].startswith("422")
        assert expected[1]["code"] == "invalid_input" and expected[1]["details"]["errors"]
        assert all(answer == expected for answer in answers), path
        assert all(answer == expected for answer in eager[path]), path


def test_pydantic_rebuilds_a_deferred_model_once_under_concurrent_first_use():
    assert _run(PYDANTIC_RACE) == "0"
