"""Security headers on pages and CORS on the API (core/security.py)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_pages_carry_a_content_security_policy_and_framing_is_refused():
    answer = Client().get("/")
    assert answer.status_code == 200
    csp = answer["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert "geolocation=(self)" in answer["Permissions-Policy"]
    assert "Strict-Transport-Security" not in answer  # plain HTTP in the embedded default
    api = Client().get("/api/v1/stores/nearby", {"lat": 31.23, "lng": 121.47})
    assert "Content-Security-Policy" not in api  # JSON: no document to protect


def test_a_page_meant_for_our_own_frame_allows_only_our_origin():
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.views.decorators.clickjacking import xframe_options_sameorigin

    from linli.core.security import security_headers

    view = security_headers(xframe_options_sameorigin(lambda request: HttpResponse("<p>receipt</p>")))
    answer = view(RequestFactory().get("/m/pos/sales/x/receipt"))
    assert "frame-ancestors 'self'" in answer["Content-Security-Policy"]


def test_https_mode_adds_hsts_and_secure_cookies(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = Client().get("/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = Client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


def test_cors_only_for_listed_origins(settings):
    settings.LINLI_CORS_ALLOWED_ORIGINS = ["https://mini.example.com"]
    client = Client()
    preflight = client.options("/api/v1/orders", headers={"Origin": "https://mini.example.com",
                                                          "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://mini.example.com"
    assert "Idempotency-Key" in preflight["Access-Control-Allow-Headers"]
    listed = client.get("/api/v1/stores/nearby", {"lat": 31.23, "lng": 121.47},
                        headers={"Origin": "https://mini.example.com"})
    assert listed["Access-Control-Allow-Origin"] == "https://mini.example.com" and "Origin" in listed["Vary"]
    other = client.get("/api/v1/stores/nearby", {"lat": 31.23, "lng": 121.47}, headers={"Origin": "https://evil.example"})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other
    page = client.get("/", headers={"Origin": "https://mini.example.com"})
    assert "Access-Control-Allow-Origin" not in page  # pages are not an API
