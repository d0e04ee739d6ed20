"""The consumer's order page shows the delivery's ETA and, once the food is picked up,
the rider's position; a rider's location report refreshes the page live (SSE)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from linli.accounts.models import User
from linli.core.realtime import subscribe
from linli.delivery.models import DeliveryTask
from linli.orders.services import (
    AddressInput,
    LineInput,
    order_act,
    order_place,
    order_transition_as,
)
from linli.web.events import order_channel
from tests.fixtures import (
    delivery_address,
    make_product,
    make_rider,
    make_staff,
    make_store,
    next_phone,
    token_api,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # rate-limit and push-throttle keys are per rider pk, which tests reuse
    yield
    cache.clear()


@pytest.fixture
def delivery():
    """A paid delivery order accepted by the store, its task assigned to a nearby rider."""
    store = make_store(prep_minutes=12)
    product, staff = make_product(store), make_staff(store)
    rider = make_rider(lat=31.2310, lng=121.4740)
    consumer = User.objects.create_user(username=next_phone())
    order = order_place(consumer=consumer, store_id=store.public_id,
                        lines=[LineInput(product_id=product.public_id, quantity=1)], fulfilment="delivery",
                        address=AddressInput(**delivery_address()), idempotency_key="eta-page").order
    with transaction.atomic():
        order_transition_as(order=order, action="pay", actor=None, role="system")
    order_act(order_id=order.public_id, actor=staff, action="accept")
    task = DeliveryTask.objects.get(order=order)
    assert task.rider is not None and task.rider.user == rider
    return order, consumer, staff, rider, task


def _page(consumer: User, order, *, part: bool = False) -> str:
    client = Client()
    client.force_login(consumer)
    response = client.get(f"/orders/{order.public_id}" + ("?part=status" if part else ""))
    assert response.status_code == 200
    return response.content.decode()


def test_the_order_page_shows_the_eta_and_the_riders_position_once_picked_up(delivery):
    order, consumer, staff, rider, task = delivery
    before = _page(consumer, order)
    assert 'data-testid="order-eta"' in before and 'data-testid="eta-time"' in before
    assert 'data-testid="rider-position"' not in before  # not before the food is on its way
    for action in ("prepare", "ready"):
        order_act(order_id=order.public_id, actor=staff, action=action)
    assert token_api(rider).post(f"/rider/tasks/{task.public_id}/pickup").status_code == 200
    assert token_api(rider).post("/rider/location", {"lat": 31.2320, "lng": 121.4750}).status_code == 200
    after = _page(consumer, order, part=True)  # the part the live page re-reads
    assert 'data-testid="order-eta"' in after and 'data-testid="eta-time"' in after
    assert 'data-lat="31.23200" data-lng="121.47500"' in after
    assert ("公里" in after or "km" in after) and task.rider.name in after  # zh-Hans by default


def test_a_location_report_pushes_to_the_order_page_at_most_every_15_s(delivery):
    order, consumer, staff, rider, task = delivery
    with subscribe(order_channel(order.public_id)) as sub:
        assert token_api(rider).post("/rider/location", {"lat": 31.2312, "lng": 121.4742}).status_code == 200
        event = sub.get(timeout=2)
        assert event is not None and event["type"] == "order" and event["reason"] == "rider_location"
        cache.delete(f"delivery:rider-location-rl:{task.rider_id}")  # past the 3 s report limit
        assert token_api(rider).post("/rider/location", {"lat": 31.2313, "lng": 121.4743}).status_code == 200
        assert sub.get(timeout=0.3) is None  # within 15 s of the last push: no second refresh


def test_no_eta_box_for_a_pickup_order_or_another_consumers_order(delivery):
    order, consumer, staff, rider, task = delivery
    stranger = Client()
    stranger.force_login(User.objects.create_user(username=next_phone()))
    assert stranger.get(f"/orders/{order.public_id}").status_code == 404
    store = make_store()
    product = make_product(store)
    pickup = order_place(consumer=consumer, store_id=store.public_id,
                         lines=[LineInput(product_id=product.public_id, quantity=1)], fulfilment="pickup",
                         address=None, idempotency_key="eta-pickup").order
    assert 'data-testid="order-eta"' not in _page(consumer, pickup)
