"""Timers: unpaid orders are cancelled and give back their stock; delivered orders complete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.inventory.models import StockItem
from linli.orders.models import Order
from linli.orders.services import orders_auto_complete, orders_cancel_unpaid
from linli.orders.tasks import cancel_unpaid_orders
from tests.fixtures import make_product, make_store, sms_login

pytestmark = pytest.mark.django_db


def _pickup_order(consumer, store, product, key):
    return consumer.post("/orders", {"store_id": store.public_id, "fulfilment": "pickup",
                                     "items": [{"product_id": product.public_id, "quantity": 2}]},
                         headers={"Idempotency-Key": key}).json()["id"]


def test_unpaid_orders_past_their_deadline_are_cancelled_by_the_system():
    store = make_store()
    product = make_product(store, stock=10)
    consumer, _ = sms_login("13800138000")
    late = _pickup_order(consumer, store, product, "late")
    fresh = _pickup_order(consumer, store, product, "fresh")
    Order.objects.filter(public_id=late).update(pay_deadline=timezone.now() - timedelta(seconds=1))
    assert StockItem.objects.get(product=product).quantity == 6
    assert cancel_unpaid_orders.delay().get() == 1  # the Celery task, run eagerly
    assert Order.objects.get(public_id=late).status == "cancelled"
    assert Order.objects.get(public_id=fresh).status == "pending_payment"
    assert StockItem.objects.get(product=product).quantity == 8
    event = Order.objects.get(public_id=late).events.last()
    assert (event.action, event.actor_role, event.actor, event.note) == ("cancel", "system", None, "payment timeout")
    assert orders_cancel_unpaid() == 0


def test_delivered_orders_complete_after_a_day():
    store = make_store()
    product = make_product(store, stock=10)
    consumer, _ = sms_login("13800138000")
    order_id = _pickup_order(consumer, store, product, "x")
    Order.objects.filter(public_id=order_id).update(
        status="delivered", fulfilment="delivery", updated_at=timezone.now() - timedelta(hours=25))
    assert orders_auto_complete() == 1
    order = Order.objects.get(public_id=order_id)
    assert order.status == "completed" and order.completed_at is not None
