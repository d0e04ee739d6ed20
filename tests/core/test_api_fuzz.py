"""Schemathesis generates requests from our own OpenAPI document, valid and invalid,
and asserts the API never answers 5xx and that error answers are our JSON shape."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from linli.accounts.models import User
from linli.wsgi import application
from tests.fixtures import make_product, make_store, token_api

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def bearer(db) -> dict[str, str]:
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
