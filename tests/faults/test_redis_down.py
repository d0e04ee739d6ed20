"""Redis is unreachable (issue 14, docs/reliability.md): the cache and the real-time
broker point at a port where nothing listens, built with the production settings
(`settings.redis_cache`). Orders are still placed, paid and accepted, nearby and search
still answer (the caches are bypassed), rate limits fail open, SMS login codes still go
out, and real-time publishing does not break the request. The health check says so."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from linli import settings as linli_settings
from linli.core import realtime
from linli.orders.models import Order
from tests.fixtures import (
    Api,
    delivery_address,
    make_product,
    make_staff,
    make_store,
    next_phone,
    sms_login,
    token_api,
)

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings):
    settings.CACHES = linli_settings.redis_cache(DEAD_REDIS)
    settings.REDIS_URL = DEAD_REDIS
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "order_place": (1, 60)}
    assert cache.get("anything") is None and cache.add("probe", 1) is None  # really unreachable
    yield
    realtime._broker = None  # the next test builds its broker from its own settings


def test_orders_are_placed_paid_and_accepted_without_redis(redis_down, django_user_model):
    store = make_store(name="断网小馆", delivery_radius_m=10_000)
    product = make_product(store, name="红烧肉", stock=10)
    buyer, _tokens = sms_login(next_phone())  # the SMS cooldown fails open; the daily cap is in the database
    staff = token_api(make_staff(store, role="manager"))
    ids = []
    for i in range(3):  # the order budget is 1 a minute: failing open lets all three in
        placed = buyer.post("/orders", {"store_id": store.public_id, "fulfilment": "delivery",
                                        "address": delivery_address(),
                                        "items": [{"product_id": product.public_id, "quantity": 1}]},
                            headers={"Idempotency-Key": f"no-redis-{i}"})
        assert placed.status_code == 201, placed.content
        ids.append(placed.json()["id"])
    payment = buyer.post(f"/orders/{ids[0]}/payments", {"provider": "sandbox"})
    assert payment.status_code == 201, payment.content
    assert Client().post(payment.json()["pay_url"]).status_code == 302  # notification in-process
    assert Order.objects.get(public_id=ids[0]).status == "paid"
    accepted = staff.post(f"/merchant/orders/{ids[0]}/accept")  # publishes to the live order pages
    assert accepted.status_code == 200, accepted.content
    assert buyer.post(f"/orders/{ids[1]}/cancel").status_code == 200
    product.stock.refresh_from_db()
    assert (product.stock.quantity, product.stock.reserved) == (8, 1)


def test_nearby_and_search_answer_without_redis(redis_down):
    store = make_store(name="断网面馆")
    make_product(store, name="牛肉面")
    api = Api()
    nearby = api.get("/stores/nearby", {"lat": store.lat, "lng": store.lng})
    assert nearby.status_code == 200, nearby.content
    assert [s["id"] for s in nearby.json()["items"]] == [store.public_id]
    found = api.get("/search", {"q": "牛肉面", "lat": store.lat, "lng": store.lng})
    assert found.status_code == 200, found.content
    assert [item["store"]["id"] for item in found.json()["items"]] == [store.public_id]
    home = api.get("/home", {"city": "shanghai", "lat": store.lat, "lng": store.lng})
    assert home.status_code == 200, home.content


def test_realtime_publish_fails_open_and_health_reports_the_cache(redis_down):
    realtime.publish("orders.ord_x", {"type": "order"})  # logged, not raised
    realtime.publish_many(["orders.ord_x", "stores.sto_x"], {"type": "order"})  # nor here
    health = Client().get("/healthz")
    assert health.status_code == 503
    assert health.json()["cache"]["ok"] is False and health.json()["database"]["ok"] is True
