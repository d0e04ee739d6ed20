"""Rate limits and login lockout (core/ratelimit.py) through the real endpoints, and what
happens when the cache (Redis) cannot be reached: limits fail open, orders still go in."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from django.test import Client

from linli.accounts.models import PlatformRole, User
from linli.orders.models import Order
from tests.fixtures import (
    PASSWORD,
    Api,
    delivery_address,
    make_product,
    make_store,
    next_phone,
    token_api,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts():
    caches["default"].clear()
    yield
    caches["default"].clear()


def _staff(password: str = PASSWORD) -> User:
    return User.objects.create_user(username=f"staff-{next_phone()}", password=password,
                                    platform_role=PlatformRole.OPERATOR, is_staff=True)


def test_orders_above_the_budget_get_429_and_nothing_is_placed(settings):
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "order_place": (3, 60)}
    store = make_store()
    product = make_product(store)
    api = token_api(User.objects.create_user(username=next_phone(), phone=next_phone()))
    body = {"store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
            "items": [{"product_id": product.public_id, "quantity": 1}]}
    codes = [api.post("/orders", body, headers={"Idempotency-Key": f"rl-{i}"}).status_code for i in range(4)]
    assert codes == [201, 201, 201, 429]
    refused = api.post("/orders", body, headers={"Idempotency-Key": "rl-5"})
    assert refused.json()["code"] == "rate_limited" and 0 < refused.json()["details"]["retry_after_s"] <= 60
    assert Order.objects.count() == 3
    other = token_api(User.objects.create_user(username=next_phone(), phone=next_phone()))
    assert other.post("/orders", body, headers={"Idempotency-Key": "rl-o"}).status_code == 201  # per user


def test_password_logins_lock_after_repeated_failures_and_success_clears(settings):
    settings.LINLI_LOGIN_MAX_FAILURES = 3
    user = _staff()
    api = Api()
    for _ in range(2):
        assert api.post("/auth/password-login", {"login": user.username, "password": "wrong"}).status_code == 401
    assert api.post("/auth/password-login", {"login": user.username, "password": PASSWORD}).status_code == 200
    for _ in range(3):  # the success cleared the count: three more failures are allowed
        assert api.post("/auth/password-login", {"login": user.username, "password": "wrong"}).status_code == 401
    locked = api.post("/auth/password-login", {"login": user.username, "password": PASSWORD})
    assert locked.status_code == 429 and locked.json()["code"] == "login_locked"
    assert "请" in Api(language="zh-hans").post("/auth/password-login",
                                                {"login": user.username, "password": PASSWORD}).json()["message"]


def test_the_back_office_login_is_locked_the_same_way(settings):
    settings.LINLI_LOGIN_MAX_FAILURES = 2
    user = _staff()
    client = Client()
    for _ in range(2):
        page = client.post("/ops/login/", {"username": user.username, "password": "wrong"})
        assert page.status_code == 200  # the form again, with its error
    assert client.post("/ops/login/", {"username": user.username, "password": PASSWORD}).status_code == 429
    assert "_auth_user_id" not in client.session


def test_limits_fail_open_when_redis_is_unreachable(settings, monkeypatch):
    """A real Redis cache client pointed at a port where nothing listens: requests still pass."""
    from django_redis.cache import RedisCache

    from linli.core import ratelimit

    dead = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient",
                                                            "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}})
    monkeypatch.setattr(ratelimit, "cache", dead)
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "order_place": (1, 60)}
    for _ in range(3):
        ratelimit.limit("order_place", "usr_x")  # never raises: fail open
    ratelimit.login_failed("someone", "1.2.3.4")
    ratelimit.login_check("someone", "1.2.3.4")
    ratelimit.login_succeeded("someone", "1.2.3.4")


def test_a_window_count_expires_with_its_window(settings, monkeypatch):
    """The count is kept only for its window (on Redis: one INCR and, on the first hit, its
    expiry; in the embedded cache: add with a timeout), so a client is never limited for good."""
    from linli.core import ratelimit

    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "order_place": (2, 60)}
    now = 1_800_000_000.0 + 5  # 5 s into a minute: the three hits share one window
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now))  # this module's clock only
    ratelimit.limit("order_place", "usr_ttl")
    ratelimit.limit("order_place", "usr_ttl")
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.limit("order_place", "usr_ttl")
    cache = caches["default"]
    key = ratelimit._key("order_place", "usr_ttl", str(int(now) // 60))
    assert cache.get(key) == 3
    client = ratelimit._redis_client()
    if client is not None:  # Redis: the key carries its window's expiry
        ttl_ms = client.pttl(cache.client.make_key(key))
        assert 0 < ttl_ms <= 60_000
    else:  # the embedded cache (LocMemCache): the key was added with the window's timeout
        assert cache._expire_info[cache.make_key(key)] == pytest.approx(time.time() + 60, abs=10)
