"""Schemathesis generates requests from our own OpenAPI document, valid and invalid,
and asserts the API never answers 5xx and that error answers are our JSON shape."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from linli.accounts.models import User
from linli.wsgi import application
from tests.fixtures import make_product, make_store, token_api

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def wsgi_inside_test_transaction():
    """Calling the raw WSGI app fires request signals whose handler closes a connection
    that is inside a transaction (the test's); Django's own test Client unhooks it too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db, wsgi_inside_test_transaction) -> dict[str, str]:
    make_product(make_store())
    user = User.objects.create_user(username="+8613800138000", phone="+8613800138000")
    return {"Authorization": f"Bearer {token_api(user).token}"}


@schema.parametrize()
@settings(max_examples=int(os.environ.get("LINLI_FUZZ_EXAMPLES", "25")), deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail(case, bearer):
    response = case.call(headers=bearer)
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
    content_type = " ".join(response.headers.get("content-type") or [])
    if response.status_code >= 400 and "json" in content_type:
        body = response.json()
        assert isinstance(body.get("code"), str) and body.get("message"), body
