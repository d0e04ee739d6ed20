"""track() costs microseconds, never raises, and the flush writes batches of at most N."""

from __future__ import annotations

import time

import pytest

from linli.analytics import buffer, track
from linli.analytics.models import Event
from linli.orders.events import order_changed
from linli.orders.models import Order

from .helpers import consumer, order


@pytest.fixture(autouse=True)
def _empty_buffer():
    buffer.clear()
    yield
    buffer.clear()


def test_track_never_raises(settings, monkeypatch):
    track("no_such_kind", props={"x": 1})  # refused, logged
    track("search", props={"q": object()})  # not JSON: written as its str
    working = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    monkeypatch.setattr(buffer, "_redis", None)
    try:
        track("store_view", user=1, store=2)
        assert buffer.ship() == 0  # dropped and logged, not raised
    finally:
        settings.REDIS_URL = working
        buffer._redis = None


@pytest.mark.django_db
def test_events_are_written_in_batches_of_at_most_n():
    for i in range(25):
        track("store_view", user=i, store=7, city="shanghai", channel="h5", device="phone")
    assert buffer.pending() == 25
    assert buffer.flush(batch=10) == 10
    assert buffer.flush(batch=10) == 10
    assert buffer.flush(batch=10) == 5
    assert buffer.flush(batch=10) == 0
    assert Event.objects.count() == 25
    event = Event.objects.first()
    assert (event.kind, event.store_id, event.city_code, event.channel, event.device) == (
        "store_view", 7, "shanghai", "h5", "phone")


def test_track_costs_microseconds():
    n = 2000
    started = time.perf_counter()
    for i in range(n):
        track("impression", user=i, props={"surface": "home"})
    per_call = (time.perf_counter() - started) / n
    assert per_call < 0.0001, f"{per_call * 1e6:.0f} µs per event"  # no I/O on the caller's thread


def test_device_of_user_agents():
    assert buffer.device_of("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile") == "phone"
    assert buffer.device_of("Mozilla/5.0 (X11; Linux x86_64)") == "desktop"
    assert buffer.device_of("linli-app/2.1 Android") == "app"
    assert buffer.device_of("") == "other"


@pytest.mark.django_db
def test_orders_and_payments_come_from_the_order_domain_event(store, product):
    made = order(store, consumer(), paid=None, lines=[(product, 1)], status="pending_payment")
    order_changed.send(sender=Order, order=made)
    made.status = "paid"
    order_changed.send(sender=Order, order=made)
    made.status = "accepted"  # other states are not behaviour events
    order_changed.send(sender=Order, order=made)
    buffer.flush()
    assert list(Event.objects.order_by("id").values_list("kind", "store_id", "user_id")) == [
        ("order", store.pk, made.consumer_id), ("payment", store.pk, made.consumer_id)]


@pytest.mark.django_db
def test_consumer_pages_record_views_carts_and_checkouts(client, store, product):
    client.get(f"/stores/{store.public_id}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Mobile")
    client.post(f"/stores/{store.public_id}/cart", {"product_id": product.public_id, "delta": "1"})
    client.get("/search", {"q": "鸡"})
    buffer.flush()
    kinds = list(Event.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["store_view", "add_to_cart", "search"]
    assert Event.objects.get(kind="store_view").device == "phone"
