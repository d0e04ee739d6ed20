"""Which address counts as the caller's: X-Forwarded-For only as far as our own proxies vouch."""

from __future__ import annotations

from django.test import RequestFactory

from linli.core.ratelimit import client_address
from linli.core.security import client_ip


def _request(remote: str = "10.0.0.5", forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_a_forged_header_is_ignored(settings):
    settings.LINLI_TRUSTED_PROXY_HOPS = 0
    assert client_ip(_request(forwarded="1.2.3.4")) == "10.0.0.5"


def test_one_proxy_hop_takes_the_address_our_proxy_appended(settings):
    settings.LINLI_TRUSTED_PROXY_HOPS = 1
    # the client forged "6.6.6.6"; nginx appended the address it really saw
    assert client_ip(_request(forwarded="6.6.6.6, 203.0.113.7")) == "203.0.113.7"


def test_two_hops_skip_the_load_balancer(settings):
    settings.LINLI_TRUSTED_PROXY_HOPS = 2
    assert client_ip(_request(forwarded="6.6.6.6, 203.0.113.7, 10.1.0.2")) == "203.0.113.7"


def test_a_short_chain_falls_back_to_the_socket(settings):
    settings.LINLI_TRUSTED_PROXY_HOPS = 2
    assert client_ip(_request(forwarded="203.0.113.7")) == "10.0.0.5"
    assert client_ip(_request(forwarded=" , ")) == "10.0.0.5"


def test_no_address_at_all(settings):
    settings.LINLI_TRUSTED_PROXY_HOPS = 0
    request = _request()
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) == ""
    assert client_address(request) == "unknown"
