"""Riders: shifts, the nearest-rider rule, and who may move a delivery."""

from __future__ import annotations

import pytest

from linli.delivery.models import DeliveryTask
from linli.delivery.services import dispatch_pending
from linli.orders.models import Order
from linli.orders.services import order_transition_as
from tests.fixtures import (
    delivery_address,
    make_product,
    make_rider,
    make_staff,
    make_store,
    password_login,
    sms_login,
    token_api,
)

pytestmark = pytest.mark.django_db


def _accepted_delivery_order():
    store = make_store()
    product = make_product(store)
    consumer, _ = sms_login("13800138000")
    order = consumer.post("/orders", {
        "store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
        "items": [{"product_id": product.public_id, "quantity": 1}]},
        headers={"Idempotency-Key": "d1"}).json()
    order_transition_as(order=Order.objects.get(public_id=order["id"]), action="pay", actor=None, role="system")
    merchant = password_login(make_staff(store).username)
    assert merchant.post(f"/merchant/orders/{order['id']}/accept", {}).status_code == 200
    return store, order, merchant


def test_nearest_online_rider_gets_the_task():
    near = make_rider(lat=31.2310, lng=121.4740)
    make_rider(lat=31.2500, lng=121.4900)
    make_rider(lat=31.2305, lng=121.4738, online=False)  # nearest, but offline
    _, order, _ = _accepted_delivery_order()
    task = DeliveryTask.objects.get(order__public_id=order["id"])
    assert task.rider.user == near and task.status == "assigned"
    assert list(task.events.values_list("to_status", "actor_role")) == [("unassigned", "system"), ("assigned", "system")]


def test_task_waits_for_a_rider_then_goes_to_the_one_who_comes_online():
    _, order, _ = _accepted_delivery_order()
    task = DeliveryTask.objects.get(order__public_id=order["id"])
    assert task.status == "unassigned" and task.rider is None
    assert dispatch_pending() == 0
    late = make_rider(lat=31.2306, lng=121.4739, online=False)
    answer = token_api(late).post("/rider/shift", {"online": True, "lat": 31.2306, "lng": 121.4739})
    assert answer.status_code == 200 and answer.json()["online"] is True
    task.refresh_from_db()
    assert task.rider.user == late


def test_rider_far_away_is_not_dispatched():
    make_rider(lat=31.40, lng=121.60)
    _, order, _ = _accepted_delivery_order()
    assert DeliveryTask.objects.get(order__public_id=order["id"]).status == "unassigned"


def test_other_riders_and_non_riders_cannot_touch_the_task():
    mine = make_rider(lat=31.2310, lng=121.4740)
    other = make_rider(lat=31.2600, lng=121.5000)
    _, order, merchant = _accepted_delivery_order()
    task = DeliveryTask.objects.get(order__public_id=order["id"])
    assert task.rider.user == mine
    stolen = token_api(other).post(f"/rider/tasks/{task.public_id}/pickup")
    assert stolen.status_code == 404 and stolen.json()["code"] == "delivery_task_not_found"
    not_rider = merchant.post(f"/rider/tasks/{task.public_id}/pickup")
    assert not_rider.status_code == 403 and not_rider.json()["code"] == "not_a_rider"
    # The assigned rider cannot pick up before the kitchen marks it ready.
    early = token_api(mine).post(f"/rider/tasks/{task.public_id}/pickup")
    assert early.status_code == 409 and early.json()["code"] == "illegal_transition"
    skipped = token_api(mine).post(f"/rider/tasks/{task.public_id}/deliver")
    assert skipped.status_code == 409
    assert Order.objects.get(public_id=order["id"]).status == "accepted"


def test_cancelling_after_acceptance_cancels_the_delivery(settings):
    make_rider(lat=31.2310, lng=121.4740)
    _, order, _ = _accepted_delivery_order()
    from linli.accounts.models import PlatformRole, User

    operator = User.objects.create_user(username="ops", password="x" * 12, platform_role=PlatformRole.OPERATOR)
    answer = token_api(operator).post(f"/orders/{order['id']}/cancel", {"note": "商家缺货"})
    assert answer.status_code == 200 and answer.json()["status"] == "refunded"  # paid: refunded
    assert DeliveryTask.objects.get(order__public_id=order["id"]).status == "cancelled"


@pytest.mark.parametrize("body", [{"online": True}, {"online": True, "lat": 95, "lng": 121}, {"lat": 31}])
def test_bad_shift_input_is_refused(body):
    rider = make_rider(lat=31.23, lng=121.47, online=False)
    answer = token_api(rider).post("/rider/shift", body)
    assert answer.status_code == 422
    assert answer.json()["code"] in {"invalid_location", "invalid_input"}
