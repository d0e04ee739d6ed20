"""The dispatch tick as a service, rider onboarding and approval, location reports,
rejection and silent riders, and the consumer's ETA."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import PlatformRole, User
from linli.delivery.models import (
    DeliveryEvent,
    DeliveryTask,
    Rider,
    RiderEvent,
    RiderLocation,
    TaskRejection,
)
from linli.delivery.services import dispatch_pending
from linli.delivery.tracking import rider_locations_cleanup
from linli.orders.models import Order
from linli.orders.services import (
    AddressInput,
    LineInput,
    order_act,
    order_place,
    order_transition_as,
)
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
VALID_ID = "11010519491231002X"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # rate-limit keys are per rider pk, which tests reuse
    yield
    cache.clear()


def _waiting_tasks(n: int, *, product=None, staff=None) -> list[DeliveryTask]:
    """`n` accepted delivery orders whose tasks wait for a rider (no rider online yet)."""
    if product is None:
        store = make_store()
        product, staff = make_product(store, stock=100), make_staff(store)
    tasks = []
    for i in range(n):
        consumer = User.objects.create_user(username=next_phone())
        order = order_place(consumer=consumer, store_id=product.store.public_id,
                            lines=[LineInput(product_id=product.public_id, quantity=1)], fulfilment="delivery",
                            address=AddressInput(**delivery_address(lat=31.2330 + i * 0.001)),
                            idempotency_key=f"w{i}-{consumer.pk}").order
        with transaction.atomic():
            order_transition_as(order=order, action="pay", actor=None, role="system")
        order_act(order_id=order.public_id, actor=staff, action="accept")
        tasks.append(DeliveryTask.objects.get(order=order))
    return tasks


def _rider(user: User) -> Rider:
    return Rider.objects.get(user=user)


def test_the_tick_assigns_waiting_tasks_with_system_events_and_respects_capacity():
    tasks = _waiting_tasks(3)
    assert {t.status for t in tasks} == {"unassigned"}
    one = make_rider(lat=31.2310, lng=121.4740)
    Rider.objects.filter(user=one).update(max_concurrent=2)
    assert dispatch_pending() == 2  # the only rider takes two, the third waits
    statuses = Counter(DeliveryTask.objects.filter(pk__in=[t.pk for t in tasks]).values_list("status", flat=True))
    assert statuses == {"assigned": 2, "unassigned": 1}
    assert DeliveryEvent.objects.filter(task__in=tasks, action="assign", actor_role="system", actor=None).count() == 2
    make_rider(lat=31.2320, lng=121.4750)
    assert dispatch_pending() == 1 and dispatch_pending() == 0


def test_applying_masks_the_id_number_and_only_approved_riders_go_online():
    user = User.objects.create_user(username=next_phone())
    api = token_api(user)
    bad = api.post("/rider/apply", {"city_code": "shanghai", "name": "王师傅", "id_number": "110105194912310021",
                                    "vehicle": "ebike", "plate": "沪A12345"})
    assert bad.status_code == 422 and bad.json()["code"] == "rider_id_number_invalid"
    no_plate = api.post("/rider/apply", {"city_code": "shanghai", "name": "王师傅", "id_number": VALID_ID,
                                         "vehicle": "scooter"})
    assert no_plate.status_code == 422 and no_plate.json()["code"] == "rider_plate_invalid"
    applied = api.post("/rider/apply", {"city_code": "shanghai", "name": "王师傅", "id_number": VALID_ID,
                                        "vehicle": "scooter", "plate": "沪A12345", "max_concurrent": 2})
    assert applied.status_code == 201, applied.content
    body = applied.json()
    assert body["approval"] == "applied" and body["id_number_masked"] == "1101**********002X"
    assert VALID_ID not in applied.content.decode()
    again = api.post("/rider/apply", {"city_code": "shanghai", "name": "x", "id_number": VALID_ID, "vehicle": "bike"})
    assert again.status_code == 409 and again.json()["code"] == "rider_already_applied"

    online = api.post("/rider/shift", {"online": True, "lat": 31.23, "lng": 121.47})
    assert online.status_code == 403 and online.json()["code"] == "rider_not_approved"
    rider_id = body["id"]
    assert api.post(f"/ops/riders/{rider_id}/review", {"action": "approve"}).status_code == 403
    operator = token_api(User.objects.create_user(username="op-1", platform_role=PlatformRole.OPERATOR))
    wrong = operator.post(f"/ops/riders/{rider_id}/review", {"action": "suspend"})
    assert wrong.status_code == 409 and wrong.json()["code"] == "illegal_transition"
    assert operator.post(f"/ops/riders/{rider_id}/review", {"action": "approve"}).json()["approval"] == "approved"
    assert api.post("/rider/shift", {"online": True, "lat": 31.23, "lng": 121.47}).json()["online"] is True
    suspended = operator.post(f"/ops/riders/{rider_id}/review", {"action": "suspend", "note": "投诉"}).json()
    assert suspended["approval"] == "suspended" and suspended["online"] is False
    assert VALID_ID not in str(api.get("/rider/me").json())
    assert list(RiderEvent.objects.filter(rider__public_id=rider_id).values_list("action", "to_status", "actor_role")) == [
        ("apply", "applied", "rider"), ("approve", "approved", "operator"), ("suspend", "suspended", "operator")]
    rider = Rider.objects.get(public_id=rider_id)
    assert rider.speed_mps > Rider(vehicle="bike").speed_mps


def test_existing_and_fixture_riders_are_approved():
    assert _rider(make_rider(lat=31.23, lng=121.47)).approval == "approved"


def test_location_reports_are_rate_limited_kept_with_their_cell_and_jumps_are_flagged():
    user = make_rider(lat=31.2310, lng=121.4740)
    api = token_api(user)
    first = api.post("/rider/location", {"lat": 31.2320, "lng": 121.4750})
    assert first.status_code == 200
    again = api.post("/rider/location", {"lat": 31.2321, "lng": 121.4751})
    assert again.status_code == 429 and again.json()["code"] == "rate_limited"
    [row] = RiderLocation.objects.filter(rider__user=user)
    assert (row.lat, row.lng, row.flagged) == (31.2320, 121.4750, False) and len(row.h3_cell) == 15
    assert cache.get(f"delivery:rider-location:{_rider(user).public_id}")["lat"] == 31.2320

    cache.delete(f"delivery:rider-location-rl:{_rider(user).pk}")
    jump = api.post("/rider/location", {"lat": 35.68, "lng": 121.4750})  # ~500 km north, a second later
    assert jump.status_code == 422 and jump.json()["code"] == "location_implausible"
    assert _rider(user).lat == 31.2320  # not trusted
    assert RiderLocation.objects.filter(rider__user=user, flagged=True).count() == 1
    bad = api.post("/rider/location", {"lat": 95, "lng": 0})
    assert bad.status_code == 422

    RiderLocation.objects.filter(rider__user=user, flagged=True).update(
        recorded_at=timezone.now() - timedelta(days=1, minutes=1))
    assert rider_locations_cleanup() == 1
    assert RiderLocation.objects.filter(rider__user=user).count() == 1


def test_a_rejected_task_goes_to_another_rider_never_back_to_the_same_one():
    [task] = _waiting_tasks(1)
    first = make_rider(lat=31.2310, lng=121.4740)
    assert dispatch_pending() == 1
    task.refresh_from_db()
    assert task.rider.user == first
    api = token_api(first)
    no_reason = api.post(f"/rider/tasks/{task.public_id}/reject", {"reason": " "})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reject_reason_required"
    other = make_rider(lat=31.2600, lng=121.5000)
    assert token_api(other).post(f"/rider/tasks/{task.public_id}/reject", {"reason": "x"}).status_code == 404
    answer = api.post(f"/rider/tasks/{task.public_id}/reject", {"reason": "车坏了"})
    assert answer.status_code == 200 and answer.json()["status"] == "unassigned"
    assert TaskRejection.objects.get(task=task).note == "车坏了"
    assert dispatch_pending() == 1
    task.refresh_from_db()
    assert task.rider.user == other and task.status == "assigned"
    assert list(task.events.values_list("action", "actor_role")) == [
        ("open", "system"), ("assign", "system"), ("reject", "rider"), ("assign", "system")]
    assert api.post(f"/rider/tasks/{task.public_id}/reject", {"reason": "x"}).status_code == 404


def test_an_offer_not_accepted_within_90_seconds_goes_to_another_rider():
    from linli.delivery.services import delivery_accept

    [task, kept] = _waiting_tasks(2)
    slow = make_rider(lat=31.2310, lng=121.4740)
    assert dispatch_pending() == 2
    delivery_accept(user=slow, task_id=kept.public_id)  # accepted: never taken back for silence at 90 s
    DeliveryTask.objects.filter(pk__in=[task.pk, kept.pk]).update(assigned_at=timezone.now() - timedelta(seconds=60))
    dispatch_pending()
    task.refresh_from_db()
    assert task.rider.user == slow and task.status == "assigned"  # 60 s: still their offer
    DeliveryTask.objects.filter(pk__in=[task.pk, kept.pk]).update(assigned_at=timezone.now() - timedelta(seconds=91))
    other = make_rider(lat=31.2400, lng=121.4800)
    dispatch_pending()
    task.refresh_from_db()
    kept.refresh_from_db()
    assert task.rider.user == other and task.status == "assigned"
    assert TaskRejection.objects.get(task=task).kind == "unanswered"
    assert kept.rider.user == slow and kept.status == "accepted"


def test_a_silent_rider_loses_the_task_on_the_next_tick():
    from linli.delivery.services import delivery_accept

    [task] = _waiting_tasks(1)
    silent = make_rider(lat=31.2310, lng=121.4740)
    assert dispatch_pending() == 1
    delivery_accept(user=silent, task_id=task.public_id)
    dispatch_pending()
    task.refresh_from_db()
    assert task.rider.user == silent  # fresh: kept
    long_ago = timezone.now() - timedelta(minutes=10)
    DeliveryTask.objects.filter(pk=task.pk).update(assigned_at=long_ago)
    Rider.objects.filter(user=silent).update(location_at=long_ago)
    backup = make_rider(lat=31.2400, lng=121.4800)
    assert dispatch_pending() == 1
    task.refresh_from_db()
    assert task.rider.user == backup
    assert TaskRejection.objects.get(task=task).kind == "silent"
    assert list(task.events.values_list("action", "actor_role"))[-2:] == [("reassign", "system"), ("assign", "system")]


def test_the_consumer_sees_an_eta_and_the_riders_position_once_on_the_way():
    store = make_store()
    product, staff = make_product(store), make_staff(store)
    [task] = _waiting_tasks(1, product=product, staff=staff)
    order = task.order
    consumer = token_api(order.consumer)
    waiting = consumer.get(f"/orders/{order.public_id}/eta").json()
    assert waiting["status"] == "unassigned" and waiting["eta"] == task.deliver_deadline.isoformat()
    rider = make_rider(lat=31.2310, lng=121.4740)
    dispatch_pending()
    assigned = consumer.get(f"/orders/{order.public_id}/eta").json()
    assert assigned["rider_name"] and assigned["rider_position"] is None and assigned["seconds_left"] > 0
    for action in ("prepare", "ready"):
        order_act(order_id=order.public_id, actor=staff, action=action)
    assert token_api(rider).post(f"/rider/tasks/{task.public_id}/pickup").status_code == 200
    token_api(rider).post("/rider/location", {"lat": 31.2320, "lng": 121.4750})
    on_way = consumer.get(f"/orders/{order.public_id}/eta").json()
    assert on_way["rider_position"]["lat"] == 31.2320 and on_way["stops_before"] == 0
    # Nearer than the straight ride from the store: the ETA moves with the rider.
    assert on_way["seconds_left"] < assigned["seconds_left"]
    stranger = token_api(User.objects.create_user(username=next_phone()))
    assert stranger.get(f"/orders/{order.public_id}/eta").status_code == 404
    assert Order.objects.get(pk=order.pk).status == "delivering"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_ticks_never_assign_a_task_twice():
    from linli.delivery.dispatching import dispatch_tick
    from tests.orders.test_concurrency import run_concurrently

    tasks = _waiting_tasks(6)
    for i in range(3):
        user = make_rider(lat=31.2310 + i * 0.001, lng=121.4740)
        Rider.objects.filter(user=user).update(max_concurrent=1)
    for _ in range(2):  # two races, each on fresh unassigned tasks
        assigned = run_concurrently([lambda: dispatch_tick(city_code="shanghai") for _ in range(2)])
        assert sum(assigned) <= 3
        per_task = Counter(DeliveryEvent.objects.filter(task__in=tasks, action="assign").values_list("task_id", flat=True))
        assert all(n == 1 for n in per_task.values()), per_task
        per_rider = Counter(DeliveryTask.objects.filter(pk__in=[t.pk for t in tasks], status="assigned")
                            .values_list("rider_id", flat=True))
        assert all(n <= 1 for n in per_rider.values()), per_rider
        assert sum(per_rider.values()) == 3
        DeliveryTask.objects.filter(pk__in=[t.pk for t in tasks], status="assigned").update(status="delivered")
