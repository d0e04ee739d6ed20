"""A consumer's cancel request the store leaves unanswered is approved by the system after
the store's `cancel_request_timeout_minutes` (default 10), through the merchant's own
`approve_cancel`, so the refund is the same; a merchant answering at the same moment
leaves exactly one outcome (PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from linli.delivery.models import DeliveryTask
from linli.inventory.models import StockItem
from linli.orders.models import Order, StoreOrderSettings
from linli.orders.services import (
    CANCEL_REQUEST_TIMEOUT_NOTE,
    cancel_request_deadline,
    orders_cancel_request_timeout,
)
from linli.orders.tasks import cancel_request_timeout_orders
from linli.payments.models import Refund
from tests.fixtures import make_product, make_store
from tests.orders.lifecycle_helpers import buyer, merchant, paid_order, put
from tests.orders.test_timeouts import _run_concurrently

pytestmark = pytest.mark.django_db


def _requested(store, product, *, key: str, prepare: bool = False):
    """A paid, accepted (optionally preparing) order with a pending cancel request."""
    api, staff = buyer(), merchant(store)
    order = paid_order(api, store, product, key=key)
    assert staff.post(f"/merchant/orders/{order['id']}/accept", {}).status_code == 200
    if prepare:
        assert staff.post(f"/merchant/orders/{order['id']}/prepare", {}).status_code == 200
    asked = api.post(f"/orders/{order['id']}/cancel-request", {"reason": "临时有事"})
    assert asked.status_code == 200, asked.content
    return order, api, staff


def _asked_ago(order_id: str, minutes: float) -> Order:
    Order.objects.filter(public_id=order_id).update(
        cancel_request_at=timezone.now() - timedelta(minutes=minutes))
    return Order.objects.get(public_id=order_id)


def test_the_beat_schedule_runs_the_cancel_request_timer():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "linli.orders.tasks.cancel_request_timeout_orders" in tasks


def test_an_unanswered_request_is_approved_and_refunded_like_a_merchant_approval(
        django_capture_on_commit_callbacks):
    store = make_store()
    product = make_product(store, price_fen=2000, stock=10)
    order, _, staff = _requested(store, product, key="t")
    saved = _asked_ago(order["id"], 9.9)  # default timeout: 10 minutes
    assert cancel_request_deadline(saved) == saved.cancel_request_at + timedelta(minutes=10)
    assert orders_cancel_request_timeout() == 0
    assert Order.objects.get(public_id=order["id"]).status == "accepted"
    _asked_ago(order["id"], 10)
    with django_capture_on_commit_callbacks(execute=True):  # the refund leaves after commit
        assert cancel_request_timeout_orders.delay().get() == 1  # the Celery task, run eagerly
    saved = Order.objects.get(public_id=order["id"])
    assert (saved.status, saved.cancel_request) == ("refunded", "approved")
    assert saved.cancel_reason == CANCEL_REQUEST_TIMEOUT_NOTE
    assert saved.cancel_request_reason == "临时有事"
    assert Refund.objects.get(payment__order=saved).amount_fen == order["total_fen"]
    assert StockItem.objects.get(product=product).quantity == 10
    assert DeliveryTask.objects.get(order=saved).status == "cancelled"
    events = list(saved.events.values_list("action", "from_status", "to_status", "actor_role",
                                           "actor", "note"))
    assert events[-2:] == [
        ("approve_cancel", "accepted", "refunding", "system", None, CANCEL_REQUEST_TIMEOUT_NOTE),
        ("refund_complete", "refunding", "refunded", "system", None, "refund completed")]
    assert orders_cancel_request_timeout() == 0  # nothing left; the refund is not repeated
    assert Refund.objects.count() == 1
    # the merchant answering afterwards is told it is too late, and nothing changes
    late = staff.post(f"/merchant/orders/{order['id']}/cancel-request/decline", {"reason": "已出餐"})
    assert (late.status_code, late.json()["code"]) == (409, "illegal_transition")
    assert Order.objects.get(public_id=order["id"]).status == "refunded"


def test_a_request_while_preparing_times_out_too(django_capture_on_commit_callbacks):
    store = make_store()
    order, _, _ = _requested(store, make_product(store, stock=10), key="p", prepare=True)
    _asked_ago(order["id"], 11)
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_cancel_request_timeout() == 1
    assert Order.objects.get(public_id=order["id"]).status == "refunded"
    event = Order.objects.get(public_id=order["id"]).events.get(action="approve_cancel")
    assert (event.from_status, event.actor_role) == ("preparing", "system")


def test_each_store_has_its_own_timeout(django_capture_on_commit_callbacks):
    quick, slow = make_store(), make_store()
    StoreOrderSettings.objects.create(store=quick, cancel_request_timeout_minutes=2)
    StoreOrderSettings.objects.create(store=slow, cancel_request_timeout_minutes=30)
    quick_order, _, _ = _requested(quick, make_product(quick, stock=5), key="q")
    slow_order, _, _ = _requested(slow, make_product(slow, stock=5), key="s")
    _asked_ago(quick_order["id"], 3)
    _asked_ago(slow_order["id"], 29)
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_cancel_request_timeout() == 1
    assert Order.objects.get(public_id=quick_order["id"]).status == "refunded"
    assert Order.objects.get(public_id=slow_order["id"]).status == "accepted"
    _asked_ago(slow_order["id"], 30)
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_cancel_request_timeout() == 1
    assert Order.objects.get(public_id=slow_order["id"]).status == "refunded"


def test_answered_requests_and_orders_without_one_are_left_alone():
    store = make_store()
    product = make_product(store, stock=10)
    declined, _, staff = _requested(store, product, key="d")
    assert staff.post(f"/merchant/orders/{declined['id']}/cancel-request/decline",
                      {"reason": "已在配送"}).status_code == 200
    approved, _, staff2 = _requested(store, product, key="a")
    assert staff2.post(f"/merchant/orders/{approved['id']}/cancel-request/approve", {}).status_code == 200
    plain = paid_order(buyer(), store, product, key="n")
    merchant(store).post(f"/merchant/orders/{plain['id']}/accept", {})
    Order.objects.update(cancel_request_at=timezone.now() - timedelta(hours=1))
    assert orders_cancel_request_timeout() == 0
    assert {o.public_id: o.status for o in Order.objects.all()} == {
        declined["id"]: "accepted", approved["id"]: "refunded", plain["id"]: "accepted"}
    assert Refund.objects.count() == 1  # only the merchant's approval


def test_owner_sets_the_cancel_request_timeout_and_bad_values_change_nothing():
    store = make_store()
    owner = merchant(store, role="owner")
    path = f"/merchant/stores/{store.public_id}/order-settings"
    assert owner.get(path).json()["cancel_request_timeout_minutes"] == 10
    for bad in (0, 61, -5):
        answer = put(owner, path, {"auto_accept": False, "cancel_request_timeout_minutes": bad})
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_input", answer.content
        assert answer.json()["details"]["field"] == "cancel_request_timeout_minutes"
    assert not StoreOrderSettings.objects.filter(store=store).exists()
    answer = put(owner, path, {"auto_accept": False, "cancel_request_timeout_minutes": 3})
    assert answer.status_code == 200 and answer.json()["cancel_request_timeout_minutes"] == 3
    # leaving it out keeps it
    answer = put(owner, path, {"auto_accept": True})
    assert answer.json()["cancel_request_timeout_minutes"] == 3
    assert StoreOrderSettings.objects.get(store=store).cancel_request_timeout_minutes == 3
    cashier = merchant(store)
    refused = put(cashier, path, {"auto_accept": False, "cancel_request_timeout_minutes": 5})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert StoreOrderSettings.objects.get(store=store).cancel_request_timeout_minutes == 3


# --- the race on PostgreSQL: timer and merchant decline at the same moment --------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_timeout_and_merchant_decline_at_the_same_moment_leave_one_outcome():
    store = make_store()
    product = make_product(store, stock=30)
    seen = set()
    for round_ in range(8):
        order, _, staff = _requested(store, product, key=f"race-{round_}")
        _asked_ago(order["id"], 10)
        calls = [lambda: staff.post(f"/merchant/orders/{order['id']}/cancel-request/decline",
                                    {"reason": "已出餐"}),
                 orders_cancel_request_timeout]
        if round_ % 2:
            calls.reverse()
        results = _run_concurrently(calls)
        answer = results[0] if not round_ % 2 else results[1]
        approved = results[1] if not round_ % 2 else results[0]
        saved = Order.objects.get(public_id=order["id"])
        actions = [a for a in saved.events.values_list("action", flat=True)
                   if a in ("approve_cancel", "decline_cancel")]
        refunds = Refund.objects.filter(payment__order=saved).count()
        if answer.status_code == 200:  # the merchant got the row first: the timer skipped it
            assert (saved.status, saved.cancel_request, approved, refunds, actions) == (
                "accepted", "declined", 0, 0, ["decline_cancel"])
        else:  # the timer got it first: the decline is refused, the order refunded once
            assert (answer.status_code, answer.json()["code"]) == (409, "illegal_transition")
            assert (saved.status, saved.cancel_request, approved, refunds, actions) == (
                "refunded", "approved", 1, 1, ["approve_cancel"])
        seen.add(saved.status)
    assert seen <= {"accepted", "refunded"}
    live = Order.objects.filter(status="accepted").count()
    assert StockItem.objects.get(product=product).quantity == 30 - live
