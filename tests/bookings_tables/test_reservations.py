"""Table reservations over the API: availability, reserve, states, cancellation rules and
every bad input answered with a clear 4xx code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.bookings.tables.models import Reservation, ReservationEvent
from linli.merchants.hours import every_day
from linli.notifications.models import Message
from tests.fixtures import make_staff, token_api

from .helpers import consumer, restaurant, send, tomorrow_at

pytestmark = pytest.mark.django_db


def reserve(api, store, *, party=2, at=None, key="", **extra):
    headers = {"Idempotency-Key": key} if key else None
    return api.post(f"/stores/{store.public_id}/reservations",
                    {"party_size": party, "starts_at": (at or tomorrow_at(12)).isoformat(), **extra}, headers=headers)


def test_availability_lists_slots_within_hours_and_marks_full_ones():
    store, _owner = restaurant(tables=(("四人桌", 4, 1),), hours=every_day(("11:00", "14:00")))
    day = tomorrow_at(12).date().isoformat()
    slots = token_api(consumer()).get(f"/stores/{store.public_id}/tables/availability",
                                      {"date": day, "party_size": 3}).json()
    assert [s["starts_at"][11:16] for s in slots] == ["11:00", "11:30", "12:00", "12:30"]
    assert all(s["available"] and s["table_type"] == "四人桌" for s in slots)
    assert reserve(token_api(consumer()), store, party=4, at=tomorrow_at(12)).status_code == 201
    slots = token_api(consumer()).get(f"/stores/{store.public_id}/tables/availability",
                                      {"date": day, "party_size": 3}).json()
    assert [s["available"] for s in slots] == [False, False, False, False]  # 90 min seatings overlap 12:00


def test_reserve_picks_the_smallest_fitting_table_and_confirms():
    store, _owner = restaurant()
    buyer = consumer()
    answer = reserve(token_api(buyer), store, party=3, note="靠窗")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["status"], body["table_type"], body["table_no"], body["party_size"]) == ("confirmed", "四人桌", 1, 3)
    assert body["id"].startswith("rsv_")
    events = list(ReservationEvent.objects.filter(reservation__public_id=body["id"]).values_list(
        "action", "to_status", "actor_role"))
    assert events == [("request", "requested", "consumer"), ("confirm", "confirmed", "system")]
    assert Message.objects.filter(user=buyer, kind="table_reservation_confirm").count() == 1
    mine = token_api(buyer).get("/me/reservations").json()
    assert [r["id"] for r in mine] == [body["id"]]


def test_idempotency_key_returns_the_first_reservation():
    store, _owner = restaurant()
    api = token_api(consumer())
    first = reserve(api, store, key="k1")
    again = reserve(api, store, key="k1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = reserve(api, store, key="k1", party=1)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert Reservation.objects.count() == 1
    store.special_hours = {tomorrow_at(12).date().isoformat(): []}  # a retry after the day closed
    store.save(update_fields=["special_hours"])
    late_retry = reserve(api, store, key="k1")
    assert (late_retry.status_code, late_retry.json()["id"]) == (200, first.json()["id"])


def test_a_time_without_offset_is_read_in_the_store_time_zone():
    store, _owner = restaurant()
    naive = tomorrow_at(19).replace(tzinfo=None).isoformat()
    answer = token_api(consumer()).post(f"/stores/{store.public_id}/reservations",
                                        {"party_size": 2, "starts_at": naive})
    assert answer.status_code == 201, answer.content
    assert Reservation.objects.get().starts_at == tomorrow_at(19)


def test_the_last_table_goes_to_one_party_only():
    store, _owner = restaurant(tables=(("四人桌", 4, 1),))
    assert reserve(token_api(consumer()), store, party=4).status_code == 201
    late = reserve(token_api(consumer()), store, party=2)
    assert (late.status_code, late.json()["code"]) == (409, "no_table_available")
    later_slot = reserve(token_api(consumer()), store, party=2, at=tomorrow_at(13, 30))
    assert later_slot.status_code == 201


@pytest.mark.parametrize(("case", "status", "code"), [
    ("past", 422, "slot_in_past"),
    ("outside_hours", 422, "slot_outside_hours"),
    ("off_grid", 422, "slot_not_on_grid"),
    ("too_far", 422, "slot_too_far_ahead"),
    ("too_large", 422, "party_too_large"),
    ("zero_party", 422, "invalid_party_size"),
    ("no_store", 404, "store_not_found"),
])
def test_bad_reservations_are_refused_with_a_code(case, status, code):
    store, _owner = restaurant(hours=every_day(("11:00", "14:00"), ("17:00", "21:00")))
    api = token_api(consumer())
    at, party, store_id = tomorrow_at(12), 2, store.public_id
    if case == "past":
        at = timezone.now() - timedelta(hours=1)
    elif case == "outside_hours":
        at = tomorrow_at(13)  # 13:00 + 90 min runs past the 14:00 close
    elif case == "off_grid":
        at = tomorrow_at(12, 10)
    elif case == "too_far":
        at = tomorrow_at(12) + timedelta(days=30)
    elif case == "too_large":
        party = 9
    elif case == "zero_party":
        party = 0
    elif case == "no_store":
        store_id = "sto_nope"
    answer = api.post(f"/stores/{store_id}/reservations", {"party_size": party, "starts_at": at.isoformat()})
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.content
    assert Reservation.objects.count() == 0


def test_a_store_without_reservations_refuses():
    store, _owner = restaurant(reservations=False)
    answer = reserve(token_api(consumer()), store)
    assert (answer.status_code, answer.json()["code"]) == (409, "reservations_not_offered")
    answer = token_api(consumer()).get(f"/stores/{store.public_id}/tables/availability",
                                       {"date": tomorrow_at(12).date().isoformat(), "party_size": 2})
    assert (answer.status_code, answer.json()["code"]) == (409, "reservations_not_offered")


def test_special_date_closed_has_no_slots_and_refuses():
    day = tomorrow_at(12).date().isoformat()
    store, _owner = restaurant()
    store.special_hours = {day: []}
    store.save(update_fields=["special_hours"])
    slots = token_api(consumer()).get(f"/stores/{store.public_id}/tables/availability",
                                      {"date": day, "party_size": 2}).json()
    assert slots == []
    answer = reserve(token_api(consumer()), store)
    assert answer.json()["code"] == "slot_outside_hours"


def test_consumer_cancels_before_the_deadline_but_not_after():
    store, _owner = restaurant(tables=(("四人桌", 4, 1),), cancel_deadline_minutes=120)
    buyer = consumer()
    api = token_api(buyer)
    early = reserve(api, store).json()
    answer = api.post(f"/reservations/{early['id']}/cancel", {"reason": "改期"})
    assert (answer.status_code, answer.json()["status"]) == (200, "cancelled")
    assert reserve(token_api(consumer()), store).status_code == 201  # the table is free again

    late = reserve(api, store, at=tomorrow_at(15)).json()
    Reservation.objects.filter(public_id=late["id"]).update(
        starts_at=timezone.now() + timedelta(minutes=60), ends_at=timezone.now() + timedelta(minutes=150))
    answer = api.post(f"/reservations/{late['id']}/cancel", {})
    assert (answer.status_code, answer.json()["code"]) == (409, "cancel_deadline_passed")
    again = api.post(f"/reservations/{early['id']}/cancel", {})
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")
    stranger = token_api(consumer()).post(f"/reservations/{late['id']}/cancel", {})
    assert (stranger.status_code, stranger.json()["code"]) == (404, "reservation_not_found")


def test_merchant_day_list_seat_complete_and_no_show():
    store, owner = restaurant(auto_confirm=False)
    buyer = consumer()
    one = reserve(token_api(buyer), store).json()
    two = reserve(token_api(consumer()), store, at=tomorrow_at(18)).json()
    assert one["status"] == "requested"
    staff = token_api(make_staff(store, role="cashier"))
    day = tomorrow_at(12).date().isoformat()
    listed = staff.get(f"/merchant/stores/{store.public_id}/reservations", {"date": day}).json()
    assert [r["id"] for r in listed] == [one["id"], two["id"]] and listed[0]["consumer"] == "李四"
    assert staff.post(f"/merchant/reservations/{one['id']}/confirm", {}).json()["status"] == "confirmed"
    assert Message.objects.filter(user=buyer, kind="table_reservation_confirm").exists()
    early = staff.post(f"/merchant/reservations/{two['id']}/no_show", {})
    assert (early.status_code, early.json()["code"]) == (409, "no_show_too_early")
    assert staff.post(f"/merchant/reservations/{one['id']}/seat", {}).json()["status"] == "checked_in"
    assert staff.post(f"/merchant/reservations/{one['id']}/complete", {}).json()["status"] == "completed"
    Reservation.objects.filter(public_id=two["id"]).update(starts_at=timezone.now() - timedelta(minutes=20))
    assert staff.post(f"/merchant/reservations/{two['id']}/no_show", {}).json()["status"] == "no_show"
    bad = staff.post(f"/merchant/reservations/{one['id']}/dance", {})
    assert (bad.status_code, bad.json()["code"]) == (409, "illegal_transition")
    outsider = token_api(consumer()).post(f"/merchant/reservations/{one['id']}/seat", {})
    assert (outsider.status_code, outsider.json()["code"]) == (404, "reservation_not_found")
    other_store, _ = restaurant()
    theirs = token_api(make_staff(other_store)).get(f"/merchant/stores/{store.public_id}/reservations")
    assert (theirs.status_code, theirs.json()["code"]) == (404, "store_not_found")


def test_table_types_and_settings_are_checked_and_need_store_edit():
    store, owner = restaurant(tables=())
    api = token_api(owner)
    bad = api.post(f"/merchant/stores/{store.public_id}/table-types", {"name": "大圆桌", "seats": 40, "count": 1})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_table_type")
    created = api.post(f"/merchant/stores/{store.public_id}/table-types", {"name": "大圆桌", "seats": 10, "count": 1})
    assert created.status_code == 201
    changed = send(api, "patch", f"/merchant/table-types/{created.json()['id']}", {"count": 3})
    assert (changed.status_code, changed.json()["count"]) == (200, 3)
    cashier = token_api(make_staff(store, role="cashier"))
    refused = cashier.post(f"/merchant/stores/{store.public_id}/table-types", {"name": "x", "seats": 2, "count": 1})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    setup = send(api, "put", f"/merchant/stores/{store.public_id}/table-setup",
                 {"takes_reservations": True, "takes_queue": True, "slot_minutes": 25})
    assert (setup.status_code, setup.json()["code"]) == (422, "invalid_table_setup")
    public = token_api(consumer()).get(f"/stores/{store.public_id}/tables").json()
    assert public["settings"]["takes_reservations"] is True
    assert [t["seats"] for t in public["table_types"]] == [10]
