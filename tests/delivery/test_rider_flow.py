"""The rider's side of a delivery: arrive, pick up, deliver against the consumer's code;
deadlines, the lockout after wrong codes, earnings, and live pushes on late assignment."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import PlatformRole, User
from linli.core.realtime import subscribe
from linli.delivery.deadlines import RIDER_SPEED_M_PER_MIN
from linli.delivery.fees import rider_fee
from linli.delivery.models import DeliveryEvent, DeliveryTask, Rider
from linli.delivery.selectors import delivery_code_for_consumer
from linli.delivery.services import dispatch_pending
from linli.delivery.states import DELIVERY_MACHINE
from linli.discovery.geo import haversine_m
from linli.orders.models import Order, OrderEvent
from linli.orders.services import (
    AddressInput,
    LineInput,
    order_act,
    order_place,
    order_transition_as,
)
from linli.web.events import rider_channel
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


def _order(product, *, key: str = "k", address: dict | None = None) -> tuple[Order, User]:
    consumer = User.objects.create_user(username=next_phone())
    consumer.phone = consumer.username
    consumer.save(update_fields=["phone"])
    order = order_place(consumer=consumer, store_id=product.store.public_id,
                        lines=[LineInput(product_id=product.public_id, quantity=1)],
                        fulfilment="delivery", address=AddressInput(**(address or delivery_address())),
                        idempotency_key=key).order
    with transaction.atomic():  # it locks the order row, as the payment callback does
        order_transition_as(order=order, action="pay", actor=None, role="system")
    return order, consumer


def _accept(order: Order, staff: User, *more: str) -> DeliveryTask:
    for action in ("accept", *more):
        order_act(order_id=order.public_id, actor=staff, action=action)
    return DeliveryTask.objects.get(order=order)


@pytest.fixture
def world():
    store = make_store(prep_minutes=12)
    product = make_product(store)
    staff = make_staff(store)
    rider = make_rider(lat=31.2310, lng=121.4740)
    return store, product, staff, rider


def _task_api(rider: User, task: DeliveryTask, action: str, body: dict | None = None):
    return token_api(rider).post(f"/rider/tasks/{task.public_id}/{action}", body)


def test_table_has_arrival_between_assignment_and_pickup():
    assert DELIVERY_MACHINE.find(action="arrive", source="assigned").target == "arrived"
    assert DELIVERY_MACHINE.find(action="pickup", source="arrived").target == "picked_up"
    assert DELIVERY_MACHINE.find(action="deliver", source="arrived") is None
    assert DELIVERY_MACHINE.find(action="arrive", source="picked_up") is None
    assert DELIVERY_MACHINE.actions_from("picked_up", "rider") == ["deliver", "fail"]
    assert DELIVERY_MACHINE.find(action="accept", source="assigned").target == "accepted"
    assert DELIVERY_MACHINE.find(action="arrive", source="accepted").target == "arrived"
    assert DELIVERY_MACHINE.find(action="cancel", source="failed") is None  # the goods still go back
    assert DELIVERY_MACHINE.actions_from("failed", "rider") == ["return"]


def test_deadlines_are_computed_from_acceptance_prep_time_and_the_promise(world):
    store, product, staff, rider = world
    order, _ = _order(product)
    task = _accept(order, staff)
    accepted_at = OrderEvent.objects.get(order=order, action="accept").created_at
    distance = haversine_m(store.lat, store.lng, delivery_address()["lat"], delivery_address()["lng"])
    assert task.distance_m == round(distance) and task.distance_m > 300
    assert task.pickup_deadline == accepted_at + timedelta(minutes=12)
    order.refresh_from_db()
    assert order.promised_at is not None and task.deliver_deadline == order.promised_at  # the checkout's promise

    [listed] = token_api(rider).get("/rider/tasks").json()
    assert listed["pickup_deadline"] == task.pickup_deadline.isoformat()
    assert listed["deliver_deadline"] == task.deliver_deadline.isoformat()
    assert 11 * 60 < listed["pickup_seconds_left"] <= 12 * 60
    assert listed["deliver_seconds_left"] > listed["pickup_seconds_left"]
    assert listed["distance_m"] == task.distance_m and listed["code_attempts_left"] == 5
    assert "delivery_code" not in listed and task.delivery_code not in str(listed.values())


def test_an_order_without_a_promise_is_due_after_prep_time_and_the_ride(world):
    """Orders placed before promises existed carry none: prep time + the ride, as before."""
    _, product, staff, _ = world
    order, _ = _order(product)
    Order.objects.filter(pk=order.pk).update(promised_at=None)
    task = _accept(order, staff)
    ride = math.ceil(task.distance_m / RIDER_SPEED_M_PER_MIN)
    assert task.deliver_deadline == task.pickup_deadline + timedelta(minutes=ride)


def test_arrive_pick_up_and_deliver_with_the_code_writes_every_event(world):
    _, product, staff, rider = world
    order, consumer = _order(product)
    task = _accept(order, staff)
    arrived = _task_api(rider, task, "arrive")  # the kitchen is still cooking: arriving is fine
    assert arrived.status_code == 200 and arrived.json()["status"] == "arrived" and arrived.json()["arrived_at"]
    early = _task_api(rider, task, "pickup")
    assert early.status_code == 409 and early.json()["code"] == "illegal_transition"
    _accept_more(order, staff)
    assert _task_api(rider, task, "pickup").json()["status"] == "picked_up"
    code = token_api(consumer).get(f"/orders/{order.public_id}").json()["delivery"]["delivery_code"]
    assert code == DeliveryTask.objects.get(pk=task.pk).delivery_code and len(code) == 4 and code.isdigit()
    done = _task_api(rider, task, "deliver", {"code": code})
    assert done.status_code == 200, done.content
    body = done.json()
    task.refresh_from_db()
    assert body["status"] == "delivered" and body["rider_fee_fen"] == task.rider_fee_fen
    assert task.rider_fee_fen == rider_fee(task.distance_m).total_fen  # on time: no penalty
    assert Order.objects.get(pk=order.pk).status == "delivered"
    events = list(task.events.values_list("action", "from_status", "to_status", "actor_role", "actor"))
    assert events == [
        ("open", "", "unassigned", "system", None),
        ("assign", "unassigned", "assigned", "system", None),
        ("arrive", "assigned", "arrived", "rider", rider.pk),
        ("pickup", "arrived", "picked_up", "rider", rider.pk),
        ("deliver", "picked_up", "delivered", "rider", rider.pk),
    ]
    assert all(task.events.values_list("created_at", flat=True))
    assert task.assigned_at <= task.arrived_at <= task.picked_up_at <= task.delivered_at
    # The code is no longer shown once the food is handed over.
    assert token_api(consumer).get(f"/orders/{order.public_id}").json()["delivery"]["delivery_code"] is None


def _accept_more(order: Order, staff: User) -> None:
    for action in ("prepare", "ready"):
        order_act(order_id=order.public_id, actor=staff, action=action)


def test_illegal_moves_answer_409_and_change_nothing(world):
    _, product, staff, rider = world
    order, _ = _order(product)
    task = _accept(order, staff, "prepare", "ready")
    before_pickup = _task_api(rider, task, "deliver", {"code": task.delivery_code})
    assert before_pickup.status_code == 409 and before_pickup.json()["code"] == "illegal_transition"
    assert _task_api(rider, task, "arrive").status_code == 200
    twice = _task_api(rider, task, "arrive")
    assert twice.status_code == 409 and twice.json()["code"] == "illegal_transition"
    assert _task_api(rider, task, "pickup").status_code == 200
    assert _task_api(rider, task, "arrive").status_code == 409
    assert _task_api(rider, task, "pickup").status_code == 409
    task.refresh_from_db()
    assert task.status == "picked_up" and task.code_attempts == 0
    assert task.events.count() == 4


def test_accept_then_a_failed_delivery_keeps_the_rider_busy_until_the_goods_are_back(world):
    _, product, staff, rider = world
    order, consumer = _order(product)
    task = _accept(order, staff, "prepare", "ready")
    accepted = _task_api(rider, task, "accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted" and accepted.json()["accepted_at"]
    assert _task_api(rider, task, "accept").json()["code"] == "illegal_transition"
    assert _task_api(rider, task, "fail", {"reason": "unreachable"}).json()["code"] == "illegal_transition"
    assert _task_api(rider, task, "pickup").json()["status"] == "picked_up"
    for bad in ({"reason": "bored"}, {"reason": ""}, {"reason": "other"}, {"reason": "other", "note": "  "}):
        refused = _task_api(rider, task, "fail", bad)
        assert refused.status_code == 422 and refused.json()["code"] == "fail_reason_invalid", bad
    failed = _task_api(rider, task, "fail", {"reason": "unreachable", "note": "电话无人接听"})
    assert failed.status_code == 200, failed.content
    assert failed.json()["status"] == "failed" and failed.json()["fail_reason"] == "unreachable"
    assert Order.objects.get(pk=order.pk).status == "delivering"  # support decides the order's fate
    eta = token_api(consumer).get(f"/orders/{order.public_id}/eta")
    assert (eta.status_code, eta.json()["code"]) == (404, "eta_unavailable")
    assert _task_api(rider, task, "deliver", {"code": task.delivery_code}).json()["code"] == "illegal_transition"
    other = make_rider(lat=31.2311, lng=121.4741)
    assert _task_api(other, task, "return").status_code == 404  # not their task
    # still busy: the failed task counts against the rider's capacity
    from linli.delivery.dispatching import riders_with_room
    Rider.objects.filter(user=rider).update(max_concurrent=1)
    assert all(r.user_id != rider.pk for r, _ in riders_with_room(task.city_code, timezone.now()))
    back = _task_api(rider, task, "return")
    assert back.status_code == 200 and back.json()["status"] == "returned" and back.json()["returned_at"]
    assert any(r.user_id == rider.pk for r, _ in riders_with_room(task.city_code, timezone.now()))
    assert list(task.events.values_list("action", "actor_role"))[-4:] == [
        ("accept", "rider"), ("pickup", "rider"), ("fail", "rider"), ("return", "rider")]


def test_pickup_without_tapping_arrived_is_allowed_and_leaves_arrival_empty(world):
    _, product, staff, rider = world
    order, _ = _order(product)
    task = _accept(order, staff, "prepare", "ready")
    assert _task_api(rider, task, "pickup").json()["status"] == "picked_up"
    task.refresh_from_db()
    assert task.arrived_at is None and task.events.last().from_status == "assigned"


def test_wrong_codes_are_counted_and_the_fifth_locks_until_support_unlocks(world):
    _, product, staff, rider = world
    order, consumer = _order(product)
    task = _accept(order, staff, "prepare", "ready")
    _task_api(rider, task, "pickup")
    wrong = f"{(int(task.delivery_code) + 1) % 10_000:04d}"
    malformed = _task_api(rider, task, "deliver", {"code": "12a"})
    assert malformed.status_code == 422 and malformed.json()["code"] == "delivery_code_format"
    for left in (4, 3, 2, 1):
        answer = _task_api(rider, task, "deliver", {"code": wrong})
        assert answer.status_code == 400 and answer.json()["code"] == "delivery_code_mismatch"
        assert answer.json()["details"] == {"attempts_left": left}
    locked = _task_api(rider, task, "deliver", {"code": wrong})
    assert locked.status_code == 423 and locked.json()["code"] == "delivery_code_locked"
    # Locked: even the right code is refused now; the count stuck despite the failed calls.
    right = _task_api(rider, task, "deliver", {"code": task.delivery_code})
    assert right.status_code == 423 and right.json()["code"] == "delivery_code_locked"
    task.refresh_from_db()
    assert (task.status, task.code_attempts) == ("picked_up", 5) and task.code_locked_at is not None
    assert task.rider_fee_fen is None and Order.objects.get(pk=order.pk).status == "delivering"
    assert task.events.filter(action="code_locked", actor=rider, actor_role="rider").count() == 1
    listed = token_api(rider).get("/rider/tasks").json()[0]
    assert (listed["code_locked"], listed["code_attempts_left"]) == (True, 0)

    assert token_api(rider).post(f"/support/delivery-tasks/{task.public_id}/unlock-code").status_code == 403
    support = User.objects.create_user(username="support-1", platform_role=PlatformRole.SUPPORT)
    unlocked = token_api(support).post(f"/support/delivery-tasks/{task.public_id}/unlock-code")
    assert unlocked.status_code == 200 and unlocked.json()["code_attempts_left"] == 5
    assert _task_api(rider, task, "deliver", {"code": task.delivery_code}).json()["status"] == "delivered"
    assert list(task.events.filter(action__startswith="code").values_list("action", "actor_role")) == [
        ("code_locked", "rider"), ("code_unlocked", "support")]


def test_only_the_consumer_sees_the_delivery_code(world):
    _, product, staff, rider = world
    order, consumer = _order(product)
    task = _accept(order, staff)
    assert delivery_code_for_consumer(order=order, user=consumer) == task.delivery_code
    assert delivery_code_for_consumer(order=order, user=rider) is None
    assert delivery_code_for_consumer(order=order, user=staff) is None
    mine = token_api(consumer).get(f"/orders/{order.public_id}").json()["delivery"]
    assert mine["delivery_code"] == task.delivery_code
    assert token_api(rider).get(f"/orders/{order.public_id}").json()["delivery"]["delivery_code"] is None
    assert token_api(staff).get(f"/orders/{order.public_id}").json()["delivery"]["delivery_code"] is None
    queue = token_api(staff).get("/merchant/orders").json()
    assert all(o["delivery"] is None or o["delivery"]["delivery_code"] is None for o in queue)


def test_earnings_today_sum_the_fees_of_todays_deliveries(world):
    _, product, staff, rider = world
    fees = []
    for i, lat in enumerate((31.2330, 31.2450)):  # ~0.4 km and ~1.6 km from the store
        order, _ = _order(product, key=f"e{i}", address=delivery_address(lat=lat))
        task = _accept(order, staff, "prepare", "ready")
        _task_api(rider, task, "pickup")
        if i == 1:  # promised 10 minutes ago: delivered late
            DeliveryTask.objects.filter(pk=task.pk).update(deliver_deadline=timezone.now() - timedelta(minutes=10))
        assert _task_api(rider, task, "deliver", {"code": task.delivery_code}).status_code == 200
        task.refresh_from_db()
        fees.append(task.rider_fee_fen)
    late = DeliveryTask.objects.get(order__idempotency_key="e1")
    assert late.late_penalty_fen == rider_fee(late.distance_m, 10 * 60 + 1).late_penalty_fen > 0
    assert fees[1] == rider_fee(late.distance_m).total_fen - late.late_penalty_fen
    # A delivery from yesterday does not count today.
    order, _ = _order(product, key="old")
    old = _accept(order, staff, "prepare", "ready")
    _task_api(rider, old, "pickup")
    _task_api(rider, old, "deliver", {"code": old.delivery_code})
    DeliveryTask.objects.filter(pk=old.pk).update(delivered_at=timezone.now() - timedelta(days=2))

    today = token_api(rider).get("/rider/earnings/today").json()
    assert (today["count"], today["total_fen"], today["late_count"]) == (2, sum(fees), 1)
    assert [i["rider_fee_fen"] for i in today["items"]] == fees[::-1]  # newest first
    assert today["items"][0]["late_penalty_fen"] == late.late_penalty_fen
    assert token_api(staff).get("/rider/earnings/today").json()["code"] == "not_a_rider"


def test_dispatch_pending_pushes_the_assignment_to_the_riders_channel(
        django_capture_on_commit_callbacks):
    store = make_store()
    product = make_product(store)
    staff = make_staff(store)
    order, _ = _order(product)
    task = _accept(order, staff)
    assert task.status == "unassigned"
    late_rider = make_rider(lat=31.2306, lng=121.4739)
    rider_id = Rider.objects.get(user=late_rider).public_id
    with subscribe(rider_channel(rider_id)) as sub:
        with django_capture_on_commit_callbacks(execute=True):
            assert dispatch_pending() == 1
        event = sub.get(timeout=2)
        assert sub.get(timeout=0.2) is None  # exactly one push
    assert event["type"] == "order" and event["order_id"] == order.public_id
    assert event["status"] == "accepted" and event["store_id"] == store.public_id
    task.refresh_from_db()
    assert task.rider.user == late_rider
    assert list(task.events.values_list("action", "actor_role")) == [("open", "system"), ("assign", "system")]


def test_a_rider_coming_online_hears_about_the_waiting_task(django_capture_on_commit_callbacks):
    store = make_store()
    product = make_product(store)
    order, _ = _order(product)
    _accept(order, make_staff(store), "prepare")
    rider = make_rider(lat=31.2306, lng=121.4739, online=False)
    with subscribe(rider_channel(Rider.objects.get(user=rider).public_id)) as sub:
        with django_capture_on_commit_callbacks(execute=True):
            answer = token_api(rider).post("/rider/shift", {"online": True, "lat": 31.2306, "lng": 121.4739})
        assert answer.status_code == 200
        event = sub.get(timeout=2)
    assert (event["order_id"], event["status"]) == (order.public_id, "preparing")


def test_with_a_worker_the_round_for_a_rider_coming_online_runs_there_not_in_the_request(
        django_capture_on_commit_callbacks):
    """The shift request only enqueues the city's round (the dispatch queue's worker runs
    it): no solver in the web worker. Broker down here, so the task waits in the outbox."""
    from linli.core.models import OutboxMessage
    from tests.faults.broker import DEAD, broker

    store = make_store()
    product = make_product(store)
    order, _ = _order(product)
    _accept(order, make_staff(store), "prepare")
    rider = make_rider(lat=31.2306, lng=121.4739, online=False)
    with broker(DEAD), django_capture_on_commit_callbacks(execute=True):
        answer = token_api(rider).post("/rider/shift", {"online": True, "lat": 31.2306, "lng": 121.4739})
    assert answer.status_code == 200
    assert DeliveryTask.objects.get(order=order).rider is None  # not dispatched in the request
    waiting = OutboxMessage.objects.get()
    assert (waiting.task, waiting.kwargs) == ("linli.delivery.tasks.dispatch_pending",
                                              {"city_code": Rider.objects.get(user=rider).city_code})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_phones_sending_the_right_code_at_once_deliver_once():
    from tests.orders.test_concurrency import run_concurrently

    store = make_store()
    product = make_product(store)
    staff = make_staff(store)
    rider = make_rider(lat=31.2310, lng=121.4740)
    order, _ = _order(product)
    task = _accept(order, staff, "prepare", "ready")
    assert _task_api(rider, task, "pickup").status_code == 200
    api = token_api(rider)
    answers = run_concurrently([
        lambda: api.post(f"/rider/tasks/{task.public_id}/deliver", {"code": task.delivery_code})
        for _ in range(2)
    ])
    assert Counter(a.status_code for a in answers) == {200: 1, 409: 1}, [a.content for a in answers]
    assert DeliveryEvent.objects.filter(task=task, to_status="delivered").count() == 1
    assert OrderEvent.objects.filter(order=order, action="deliver").count() == 1
    task.refresh_from_db()
    assert task.rider_fee_fen == rider_fee(task.distance_m).total_fen
    today = api.get("/rider/earnings/today").json()
    assert (today["count"], today["total_fen"]) == (1, task.rider_fee_fen)
