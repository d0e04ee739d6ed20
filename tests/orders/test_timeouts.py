"""Timers: unpaid orders are cancelled and give back their stock; paid orders not accepted in
time are rejected and refunded (or accepted, if the store opted in); delivered orders complete.
Races between a timer and a payment or a merchant leave exactly one outcome (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from linli.delivery.models import DeliveryTask
from linli.inventory.models import StockItem
from linli.orders.models import Order, OrderEvent, StoreOrderSettings
from linli.orders.services import orders_accept_timeout, orders_auto_complete, orders_cancel_unpaid
from linli.orders.tasks import accept_timeout_orders, cancel_unpaid_orders
from linli.payments.models import Refund
from tests.fixtures import make_product, make_store, sms_login
from tests.orders.lifecycle_helpers import (
    buyer,
    merchant,
    notify,
    paid_notification,
    paid_order,
    place,
)

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


# --- issue 5: accept timeout, auto-accept, delivered_at, races with payments and merchants -----

def test_the_beat_schedule_runs_every_order_timer():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"linli.orders.tasks.cancel_unpaid_orders", "linli.orders.tasks.auto_complete_delivered",
            "linli.orders.tasks.accept_timeout_orders"} <= tasks


def test_paid_orders_not_accepted_in_time_are_rejected_and_refunded(django_capture_on_commit_callbacks):
    store = make_store()
    product = make_product(store, stock=10)
    api = buyer()
    order = paid_order(api, store, product, key="t")
    saved = Order.objects.get(public_id=order["id"])
    assert saved.accept_deadline == saved.paid_at + timedelta(minutes=5)
    assert orders_accept_timeout(now=saved.accept_deadline - timedelta(seconds=1)) == 0
    assert Order.objects.get(public_id=order["id"]).status == "paid"
    Order.objects.filter(pk=saved.pk).update(accept_deadline=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):  # the refund leaves after commit
        assert accept_timeout_orders.delay().get() == 1  # the Celery task, run eagerly
    saved.refresh_from_db()
    assert saved.status == "refunded" and saved.cancel_reason == "not accepted in time"
    assert Refund.objects.get().amount_fen == order["total_fen"]
    assert StockItem.objects.get(product=product).quantity == 10
    reject = saved.events.get(action="reject")
    assert (reject.from_status, reject.to_status, reject.actor_role, reject.actor) == (
        "paid", "refunding", "system", None)
    assert orders_accept_timeout() == 0
    # the merchant tapping accept afterwards is told it is too late
    answer = merchant(store).post(f"/merchant/orders/{order['id']}/accept", {})
    assert answer.status_code == 409 and answer.json()["code"] == "illegal_transition"


def test_a_store_can_set_its_own_accept_timeout():
    store = make_store()
    StoreOrderSettings.objects.create(store=store, accept_timeout_minutes=2)
    order = paid_order(buyer(), store, make_product(store), key="own")
    saved = Order.objects.get(public_id=order["id"])
    assert saved.accept_deadline == saved.paid_at + timedelta(minutes=2)
    assert order["accept_deadline"] == saved.accept_deadline.isoformat()


def test_stores_that_opted_in_get_their_orders_accepted_at_the_deadline():
    store = make_store()
    StoreOrderSettings.objects.create(store=store, auto_accept=True)
    order = paid_order(buyer(), store, make_product(store), key="auto")
    Order.objects.filter(public_id=order["id"]).update(accept_deadline=timezone.now())
    assert orders_accept_timeout() == 1
    saved = Order.objects.get(public_id=order["id"])
    assert saved.status == "accepted" and not Refund.objects.exists()
    event = saved.events.last()
    assert (event.action, event.actor_role, event.note) == ("accept", "system", "auto-accepted")
    assert DeliveryTask.objects.filter(order=saved).exists()  # accepted as if tapped: a rider is sought


def test_orders_already_answered_are_left_alone_by_the_accept_timer():
    store = make_store()
    product = make_product(store, stock=10)
    api, staff = buyer(), merchant(store)
    accepted = paid_order(api, store, product, key="a")
    staff.post(f"/merchant/orders/{accepted['id']}/accept", {})
    unpaid = place(api, store, product, key="u").json()
    Order.objects.update(accept_deadline=timezone.now() - timedelta(minutes=1))
    assert orders_accept_timeout() == 0
    assert {o.public_id: o.status for o in Order.objects.all()} == {
        accepted["id"]: "accepted", unpaid["id"]: "pending_payment"}


def test_auto_complete_counts_from_delivery_not_from_the_last_change():
    store = make_store()
    product = make_product(store, stock=10)
    consumer, _ = sms_login("13800138001")
    long_ago = _pickup_order(consumer, store, product, "long-ago")
    just_now = _pickup_order(consumer, store, product, "just-now")
    now = timezone.now()
    Order.objects.filter(public_id=long_ago).update(
        status="delivered", fulfilment="delivery", delivered_at=now - timedelta(hours=25))
    Order.objects.filter(public_id=just_now).update(  # touched long ago, delivered an hour ago
        status="delivered", fulfilment="delivery", delivered_at=now - timedelta(hours=1),
        updated_at=now - timedelta(hours=30))
    assert orders_auto_complete() == 1
    assert Order.objects.get(public_id=long_ago).status == "completed"
    assert Order.objects.get(public_id=just_now).status == "delivered"


def test_the_rider_delivering_stamps_delivered_at():
    from linli.orders.services import order_transition_as

    store = make_store()
    order = paid_order(buyer(), store, make_product(store), key="dl")
    saved = Order.objects.get(public_id=order["id"])
    Order.objects.filter(pk=saved.pk).update(status="delivering")
    saved.refresh_from_db()
    order_transition_as(order=saved, action="deliver", actor=None, role="rider")
    saved.refresh_from_db()
    assert saved.status == "delivered" and saved.delivered_at is not None


# --- races on PostgreSQL: exactly one outcome ------------------------------------------------

def _run_concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_unpaid_timeout_and_payment_at_the_same_moment_leave_one_outcome():
    store = make_store()
    product = make_product(store, stock=20)
    outcomes = []
    for round_ in range(6):
        api = buyer()
        order = place(api, store, product, key=f"race-{round_}").json()
        body, headers = paid_notification(api, order["id"])
        Order.objects.filter(public_id=order["id"]).update(
            pay_deadline=timezone.now() - timedelta(seconds=1))
        calls = [lambda: notify(body, headers), orders_cancel_unpaid]
        if round_ % 2:
            calls.reverse()
        results = _run_concurrently(calls)
        outcome = results[0] if not round_ % 2 else results[1]
        cancelled = results[1] if not round_ % 2 else results[0]
        saved = Order.objects.get(public_id=order["id"])
        actions = list(saved.events.values_list("action", flat=True))
        refunds = list(Refund.objects.filter(payment__order=saved).values_list("amount_fen", flat=True))
        if outcome == "paid":  # the payment got the row first: the timer skipped it
            assert (saved.status, cancelled, refunds) == ("paid", 0, [])
            assert actions == ["place", "pay"]
        else:  # the timer got it first: the late payment is given back in full
            assert (outcome, saved.status, cancelled) == ("refunded_late", "cancelled", 1)
            assert refunds == [order["total_fen"]] and actions == ["place", "cancel"]
        outcomes.append(outcome)
    paid = outcomes.count("paid")
    assert StockItem.objects.get(product=product).quantity == 20 - paid
    assert OrderEvent.objects.filter(action="pay").count() == paid


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_accept_timeout_and_merchant_accept_at_the_same_moment_leave_one_outcome():
    store = make_store()
    product = make_product(store, stock=20)
    staff = merchant(store)
    seen = set()
    for round_ in range(6):
        order = paid_order(buyer(), store, product, key=f"acc-{round_}")
        Order.objects.filter(public_id=order["id"]).update(
            accept_deadline=timezone.now() - timedelta(seconds=1))
        calls = [lambda: staff.post(f"/merchant/orders/{order['id']}/accept", {}), orders_accept_timeout]
        if round_ % 2:
            calls.reverse()
        results = _run_concurrently(calls)
        answer = results[0] if not round_ % 2 else results[1]
        rejected = results[1] if not round_ % 2 else results[0]
        saved = Order.objects.get(public_id=order["id"])
        actions = [a for a in saved.events.values_list("action", flat=True) if a in ("accept", "reject")]
        refunds = Refund.objects.filter(payment__order=saved).count()
        if answer.status_code == 200:
            assert (saved.status, rejected, refunds, actions) == ("accepted", 0, 0, ["accept"])
        else:
            assert (answer.status_code, answer.json()["code"]) == (409, "illegal_transition")
            assert (saved.status, rejected, refunds, actions) == ("refunded", 1, 1, ["reject"])
        seen.add(saved.status)
    accepted = Order.objects.filter(status="accepted").count()
    assert StockItem.objects.get(product=product).quantity == 20 - accepted
    assert seen <= {"accepted", "refunded"}
