"""Booking a service over the API: availability, booking, the rules, and bad inputs (4xx with a code)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linli.bookings.models import Booking, BookingEvent, TimeOff
from tests.fixtures import make_staff, token_api

from .helpers import at, bookable, consumer, local_day, owner_of, salon, stylist

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = salon()
    service = bookable(store, buffer=15)
    tony = stylist(store, "Tony")
    return store, service, tony


def _book(api, store, service, start, resource=None, key="k1", **extra):
    body = {"store_id": store.public_id, "service_id": service.product.public_id, "start": start.isoformat(),
            **({"resource_id": resource.public_id} if resource else {}), **extra}
    return api.post("/bookings", body, headers={"Idempotency-Key": key})


def _slots(api, store, service, day, **params):
    answer = api.get(f"/stores/{store.public_id}/availability",
                     {"service": service.product.public_id, "date": day.isoformat(), **params})
    assert answer.status_code == 200, answer.content
    return answer.json()["slots"]


def test_availability_of_an_empty_day_fills_the_hours_on_the_grid(shop):
    store, service, _tony = shop
    day = local_day(2)
    slots = _slots(token_api(consumer()), store, service, day)
    starts = [s["start"] for s in slots]
    assert starts[0] == at(day, "09:00").isoformat()
    assert starts[-1] == at(day, "17:00").isoformat()  # a 60-minute service ends by 18:00
    assert len(starts) == 33  # 09:00 .. 17:00 every 15 minutes
    assert slots[0]["end"] == at(day, "10:00").isoformat()


def test_booking_blocks_its_time_and_buffer_for_that_staff_member(shop):
    store, service, tony = shop
    day = local_day(2)
    api = token_api(consumer())
    answer = _book(api, store, service, at(day, "10:00"), tony)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["status"] == "confirmed" and body["resource"]["id"] == tony.public_id
    assert body["price_fen"] == 8800 and "cancel" in body["actions"]
    starts = {s["start"] for s in _slots(api, store, service, day)}
    # 10:00-11:00 plus 15 minutes of buffer; a new booking's own buffer must end by 10:00 too,
    # so with the shop opening at 09:00 the first free start is 11:15
    assert min(starts) == at(day, "11:15").isoformat()
    for blocked in ("09:00", "09:15", "10:00", "10:45", "11:00"):
        assert at(day, blocked).isoformat() not in starts
    assert at(day, "11:15").isoformat() in starts
    events = list(BookingEvent.objects.filter(booking__public_id=body["id"]).values_list("action", "actor_role"))
    assert events == [("request", "consumer"), ("confirm", "system")]


def test_any_staff_takes_the_first_free_one_and_the_third_is_refused(shop):
    store, service, tony = shop
    amy = stylist(store, "Amy")
    start = at(local_day(2), "14:00")
    first = _book(token_api(consumer()), store, service, start)
    second = _book(token_api(consumer()), store, service, start)
    third = _book(token_api(consumer()), store, service, start)
    assert first.json()["resource"]["id"] == tony.public_id
    assert second.json()["resource"]["id"] == amy.public_id
    assert third.status_code == 409 and third.json()["code"] == "slot_taken"


def test_idempotent_retry_answers_the_first_booking(shop):
    store, service, tony = shop
    api = token_api(consumer())
    start = at(local_day(2), "10:00")
    first = _book(api, store, service, start, tony, key="same")
    again = _book(api, store, service, start, tony, key="same")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = _book(api, store, service, at(local_day(2), "12:00"), tony, key="same")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(("when", "code", "status"), [
    (lambda: at(local_day(-1), "10:00"), "slot_in_past", 422),
    (lambda: at(local_day(2), "08:00"), "slot_outside_hours", 409),
    (lambda: at(local_day(2), "17:30"), "slot_outside_hours", 409),  # would end after 18:00
    (lambda: at(local_day(120), "10:00"), "slot_too_far", 422),
])
def test_bad_times_are_refused_with_a_code(shop, when, code, status):
    store, service, tony = shop
    answer = _book(token_api(consumer()), store, service, when(), tony)
    assert answer.status_code == status, answer.content
    assert answer.json()["code"] == code


def test_overlapping_the_same_staff_member_is_refused(shop):
    store, service, tony = shop
    _book(token_api(consumer()), store, service, at(local_day(2), "10:00"), tony)
    answer = _book(token_api(consumer()), store, service, at(local_day(2), "10:30"), tony)
    assert answer.status_code == 409 and answer.json()["code"] == "slot_taken"
    in_buffer = _book(token_api(consumer()), store, service, at(local_day(2), "11:05"), tony)
    assert in_buffer.status_code == 409 and in_buffer.json()["code"] == "slot_taken"


def test_a_service_the_store_does_not_offer_is_404(shop):
    store, _service, _tony = shop
    other_store = salon()
    elsewhere = bookable(other_store)
    api = token_api(consumer())
    answer = _book(api, store, elsewhere, at(local_day(2), "10:00"))
    assert answer.status_code == 404 and answer.json()["code"] == "service_not_offered"
    answer = api.get(f"/stores/{store.public_id}/availability", {"service": "prd_nope", "date": "2030-01-01"})
    assert answer.status_code == 404 and answer.json()["code"] == "service_not_offered"


def test_naive_times_bad_dates_and_a_missing_key_are_refused(shop):
    store, service, tony = shop
    api = token_api(consumer())
    naive = _book(api, store, service, at(local_day(2), "10:00").replace(tzinfo=None), tony)
    assert naive.status_code == 422 and naive.json()["code"] == "invalid_slot_time"
    no_key = api.post("/bookings", {"store_id": store.public_id, "service_id": service.product.public_id,
                                    "start": at(local_day(2), "10:00").isoformat()})
    assert no_key.status_code == 400 and no_key.json()["code"] == "idempotency_key_missing"
    bad_day = api.get(f"/stores/{store.public_id}/availability",
                      {"service": service.product.public_id, "date": "2026-13-01"})
    assert bad_day.status_code == 422 and bad_day.json()["code"] == "invalid_date"


def test_holidays_and_time_off_remove_slots(shop):
    store, service, tony = shop
    day = local_day(3)
    store.special_hours = {day.isoformat(): []}
    store.save(update_fields=["special_hours"])
    api = token_api(consumer())
    assert _slots(api, store, service, day) == []
    closed = _book(api, store, service, at(day, "10:00"), tony)
    assert closed.status_code == 409 and closed.json()["code"] == "slot_outside_hours"
    other = local_day(4)
    TimeOff.objects.create(resource=tony, starts_at=at(other, "09:00"), ends_at=at(other, "13:00"))
    starts = [s["start"] for s in _slots(api, store, service, other)]
    assert starts[0] == at(other, "13:00").isoformat()


def test_staff_hours_within_the_store_hours(shop):
    store, service, _tony = shop
    afternoon = stylist(store, "Amy", working_hours=[[["13:00", "20:00"]]] * 7)
    day = local_day(2)
    slots = _slots(token_api(consumer()), store, service, day, resource=afternoon.public_id)
    assert slots[0]["start"] == at(day, "13:00").isoformat()
    assert slots[-1]["start"] == at(day, "17:00").isoformat()  # the store closes at 18:00


def test_a_class_has_seats(shop):
    store, _service, _tony = shop
    room = stylist(store, "Studio", kind="room", skills=["yoga"])
    yoga = bookable(store, name="瑜伽课", seats=2, skill="yoga", minutes=60)
    start = at(local_day(2), "10:00")
    api = token_api(consumer())
    assert _book(api, store, yoga, start).status_code == 201
    slot = next(s for s in _slots(api, store, yoga, local_day(2)) if s["start"] == start.isoformat())
    assert slot["resources"] == [{"id": room.public_id, "seats_left": 1}]
    assert _book(token_api(consumer()), store, yoga, start).status_code == 201
    full = _book(token_api(consumer()), store, yoga, start)
    assert full.status_code == 409 and full.json()["code"] == "slot_taken"
    overlapping = _book(token_api(consumer()), store, yoga, start + timedelta(minutes=30))
    assert overlapping.status_code == 409 and overlapping.json()["code"] == "slot_taken"


def test_consumer_cancels_free_before_the_deadline_and_pays_the_fee_after(shop):
    store, service, tony = shop
    api = token_api(consumer())
    owner = token_api(owner_of(store))
    owner.post(f"/merchant/stores/{store.public_id}/booking-settings",
               {"late_cancel_fee_fen": 2000, "cancel_deadline_minutes": 48 * 60})
    early = _book(api, store, service, at(local_day(5), "10:00"), tony, key="a").json()
    late = _book(api, store, service, at(local_day(1), "10:00"), tony, key="b").json()
    done = api.post(f"/bookings/{early['id']}/cancel", {})
    assert done.status_code == 200 and (done.json()["status"], done.json()["fee_fen"]) == ("cancelled", 0)
    done = api.post(f"/bookings/{late['id']}/cancel", {})
    assert done.status_code == 200 and (done.json()["status"], done.json()["fee_fen"]) == ("cancelled", 2000)
    again = api.post(f"/bookings/{late['id']}/cancel", {})
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    # the time is free again
    assert _book(token_api(consumer()), store, service, at(local_day(5), "10:00"), tony).status_code == 201


def test_reschedule_moves_the_booking_until_the_deadline(shop):
    store, service, tony = shop
    api = token_api(consumer())
    token_api(owner_of(store)).post(f"/merchant/stores/{store.public_id}/booking-settings",
                                    {"reschedule_deadline_minutes": 48 * 60})
    far = _book(api, store, service, at(local_day(5), "10:00"), tony, key="a").json()
    moved = api.post(f"/bookings/{far['id']}/reschedule", {"start": at(local_day(5), "10:30").isoformat()})
    assert moved.status_code == 200, moved.content  # its own old time does not block it
    assert moved.json()["start"] == at(local_day(5), "10:30").isoformat()
    assert moved.json()["reschedule_count"] == 1
    near = _book(api, store, service, at(local_day(1), "10:00"), tony, key="b").json()
    late = api.post(f"/bookings/{near['id']}/reschedule", {"start": at(local_day(6), "10:00").isoformat()})
    assert late.status_code == 409 and late.json()["code"] == "reschedule_too_late"
    # the store itself may still move it
    by_store = token_api(owner_of(store)).post(f"/merchant/bookings/{near['id']}/reschedule",
                                               {"start": at(local_day(6), "10:00").isoformat()})
    assert by_store.status_code == 200, by_store.content
    detail = api.get(f"/bookings/{near['id']}").json()
    assert [e["action"] for e in detail["events"]] == ["request", "confirm", "reschedule"]
    assert detail["events"][-1]["actor_role"] == "merchant"


def test_reschedule_onto_a_taken_time_is_refused(shop):
    store, service, tony = shop
    api = token_api(consumer())
    _book(token_api(consumer()), store, service, at(local_day(5), "14:00"), tony)
    mine = _book(api, store, service, at(local_day(5), "10:00"), tony).json()
    answer = api.post(f"/bookings/{mine['id']}/reschedule", {"start": at(local_day(5), "14:30").isoformat()})
    assert answer.status_code == 409 and answer.json()["code"] == "slot_taken"


def test_merchant_checks_in_and_completes_and_strangers_see_nothing(shop):
    store, service, tony = shop
    booking = _book(token_api(consumer()), store, service, at(local_day(1), "10:00"), tony).json()
    cashier = token_api(make_staff(store, role="cashier"))
    answer = cashier.post(f"/merchant/bookings/{booking['id']}/check_in", {})
    assert answer.status_code == 200 and answer.json()["status"] == "checked_in"
    answer = cashier.post(f"/merchant/bookings/{booking['id']}/complete", {})
    assert answer.status_code == 200 and answer.json()["status"] == "completed"
    stranger = token_api(consumer())
    assert stranger.get(f"/bookings/{booking['id']}").json()["code"] == "booking_not_found"
    assert stranger.post(f"/bookings/{booking['id']}/cancel", {}).status_code == 404
    other_owner = token_api(owner_of(salon()))
    assert other_owner.post(f"/merchant/bookings/{booking['id']}/check_in", {}).status_code == 404


def test_no_show_only_after_the_start_and_the_consumer_cannot_check_in(shop):
    store, service, tony = shop
    api = token_api(consumer())
    booking = _book(api, store, service, at(local_day(1), "10:00"), tony).json()
    early = token_api(owner_of(store)).post(f"/merchant/bookings/{booking['id']}/no_show", {})
    assert early.status_code == 409 and early.json()["code"] == "no_show_too_early"
    Booking.objects.filter(public_id=booking["id"]).update(
        starts_at=at(local_day(-1), "10:00"), ends_at=at(local_day(-1), "11:00"),
        blocks_until=at(local_day(-1), "11:15"))
    late = api.post(f"/bookings/{booking['id']}/cancel", {})
    assert late.status_code == 409 and late.json()["code"] == "cancel_too_late"
    own = api.post(f"/merchant/bookings/{booking['id']}/check_in", {})
    assert own.status_code == 403
    marked = token_api(owner_of(store)).post(f"/merchant/bookings/{booking['id']}/no_show", {})
    assert marked.status_code == 200 and marked.json()["status"] == "no_show"


def test_requests_wait_for_the_store_when_it_confirms_by_hand(shop):
    store, service, tony = shop
    owner = token_api(owner_of(store))
    owner.post(f"/merchant/stores/{store.public_id}/booking-settings", {"auto_confirm": False})
    booking = _book(token_api(consumer()), store, service, at(local_day(2), "10:00"), tony).json()
    assert booking["status"] == "requested"
    # a request already holds the time
    taken = _book(token_api(consumer()), store, service, at(local_day(2), "10:00"), tony)
    assert taken.json()["code"] == "slot_taken"
    answer = owner.post(f"/merchant/bookings/{booking['id']}/confirm", {})
    assert answer.json()["status"] == "confirmed"


def test_merchant_calendar_by_day_and_week(shop):
    store, service, tony = shop
    amy = stylist(store, "Amy")
    _book(token_api(consumer()), store, service, at(local_day(1), "10:00"), tony)
    _book(token_api(consumer()), store, service, at(local_day(3), "10:00"), amy)
    owner = token_api(owner_of(store))
    day = owner.get(f"/merchant/stores/{store.public_id}/bookings", {"date": local_day(1).isoformat()}).json()
    assert [b["resource"]["id"] for b in day["bookings"]] == [tony.public_id]
    week = owner.get(f"/merchant/stores/{store.public_id}/bookings",
                     {"date": local_day(1).isoformat(), "view": "week"}).json()
    assert len(week["days"]) == 7 and len(week["bookings"]) == 2
    only_amy = owner.get(f"/merchant/stores/{store.public_id}/bookings",
                         {"date": local_day(1).isoformat(), "view": "week", "resource": amy.public_id}).json()
    assert len(only_amy["bookings"]) == 1
    assert token_api(consumer()).get(f"/merchant/stores/{store.public_id}/bookings",
                                     {"date": local_day(1).isoformat()}).status_code == 404


def test_merchant_sets_up_services_resources_and_terms(shop):
    store, _service, _tony = shop
    owner = token_api(owner_of(store))
    from .helpers import service_product

    massage = service_product(store, name="肩颈按摩", minutes=45)
    answer = owner.post(f"/merchant/stores/{store.public_id}/booking-services",
                        {"product_id": massage.public_id, "buffer_minutes": 10, "skill": "massage"})
    assert answer.status_code == 200 and answer.json()["duration_minutes"] == 45
    answer = owner.post(f"/merchant/stores/{store.public_id}/resources",
                        {"name": "Lily", "skills": ["massage"], "working_hours": [[["10:00", "16:00"]]] * 7})
    assert answer.status_code == 201
    bad_hours = owner.post(f"/merchant/stores/{store.public_id}/resources",
                           {"name": "Bad", "working_hours": [[["16:00", "10:00"]]] * 7})
    assert bad_hours.status_code == 422 and bad_hours.json()["code"] == "invalid_resource"
    bad_step = owner.post(f"/merchant/stores/{store.public_id}/booking-settings", {"step_minutes": 0})
    assert bad_step.status_code == 422 and bad_step.json()["code"] == "invalid_booking_terms"
    services = token_api(consumer()).get(f"/stores/{store.public_id}/booking-services").json()
    assert {s["name"] for s in services} == {"洗剪吹", "肩颈按摩"}
    slots = token_api(consumer()).get(f"/stores/{store.public_id}/availability",
                                      {"service": massage.public_id, "date": local_day(2).isoformat()}).json()
    assert slots["slots"][0]["start"] == at(local_day(2), "10:00").isoformat()  # only Lily can
    cashier = token_api(make_staff(store, role="cashier"))
    refused = cashier.post(f"/merchant/stores/{store.public_id}/resources", {"name": "X"})
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
