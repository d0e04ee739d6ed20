"""Simultaneous bookings on PostgreSQL: real clients on their own connections."""

from __future__ import annotations

from collections import Counter

import pytest

from linli.bookings.models import Booking
from tests.fixtures import token_api
from tests.threads import run_concurrently

from .helpers import at, bookable, consumer, local_day, salon, stylist


def _body(store, service, start, resource=None):
    return {"store_id": store.public_id, "service_id": service.product.public_id, "start": start.isoformat(),
            **({"resource_id": resource.public_id} if resource else {})}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_consumers_after_the_last_slot_exactly_one_gets_it():
    store = salon()
    service = bookable(store, buffer=10)
    tony = stylist(store)
    start = at(local_day(2), "10:00")
    apis = [token_api(consumer()) for _ in range(2)]
    answers = run_concurrently([
        lambda api=api, n=n: api.post("/bookings", _body(store, service, start, tony),
                                      headers={"Idempotency-Key": f"k{n}"}) for n, api in enumerate(apis)])
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 1}, [a.content for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"slot_taken"}
    assert Booking.objects.filter(resource=tony).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_consumers_any_staff_fill_each_stylist_once_and_overlapping_times_never_double_book():
    store = salon()
    service = bookable(store)
    staff = [stylist(store, name) for name in ("Tony", "Amy", "Kevin")]
    day = local_day(2)
    # six people want 10:00 (any stylist), two want 10:30 with Tony: overlapping times
    calls = [lambda n=n: token_api(consumer()).post("/bookings", _body(store, service, at(day, "10:00")),
                                                    headers={"Idempotency-Key": f"a{n}"}) for n in range(6)]
    calls += [lambda n=n: token_api(consumer()).post("/bookings", _body(store, service, at(day, "10:30"), staff[0]),
                                                     headers={"Idempotency-Key": f"b{n}"}) for n in range(2)]
    answers = run_concurrently(calls)
    assert all(a.status_code in (201, 409) for a in answers), [a.content for a in answers]
    rows = list(Booking.objects.filter(store=store).values_list("resource_id", "starts_at", "blocks_until"))
    for resource in staff:  # no two bookings of one stylist overlap
        mine = sorted((s, e) for r, s, e in rows if r == resource.pk)
        assert all(e0 <= s1 for (_, e0), (s1, _) in zip(mine, mine[1:], strict=False)), mine
    assert sum(1 for a in answers[:6] if a.status_code == 201) + sum(
        1 for a in answers[6:] if a.status_code == 201) == len(rows)
    assert 3 <= len(rows) <= 4  # each stylist once at 10:00, or Tony at 10:30 and the other two at 10:00


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_last_seat_of_a_class_goes_once():
    store = salon()
    room = stylist(store, "Studio", kind="room", skills=["yoga"])
    yoga = bookable(store, name="瑜伽课", seats=3, skill="yoga")
    start = at(local_day(2), "19:00")
    store.opening_hours = [[["09:00", "21:00"]]] * 7
    store.save(update_fields=["opening_hours"])
    answers = run_concurrently([
        lambda n=n: token_api(consumer()).post("/bookings", _body(store, yoga, start, room),
                                               headers={"Idempotency-Key": f"y{n}"}) for n in range(5)])
    assert Counter(a.status_code for a in answers) == {201: 3, 409: 2}, [a.content for a in answers]
    assert Booking.objects.filter(resource=room, starts_at=start).count() == 3
