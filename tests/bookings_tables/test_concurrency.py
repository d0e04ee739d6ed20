"""Real concurrent clients on PostgreSQL: the last table goes to exactly one party, and
queue numbers taken at the same instant never repeat."""

from __future__ import annotations

from collections import Counter

import pytest

from linli.bookings.tables.models import QueueTicket, Reservation
from tests.fixtures import token_api
from tests.threads import run_concurrently

from .helpers import consumer, restaurant, tomorrow_at


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_consumers_reserving_the_last_table_exactly_one_gets_it():
    store, _owner = restaurant(tables=(("四人桌", 4, 1),))
    apis = [token_api(consumer()) for _ in range(2)]
    at = tomorrow_at(12).isoformat()
    answers = run_concurrently([
        lambda api=api: api.post(f"/stores/{store.public_id}/reservations", {"party_size": 4, "starts_at": at})
        for api in apis
    ])
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 1}, [a.content for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"no_table_available"}
    assert Reservation.objects.filter(store=store).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_parties_at_once_never_overbook_the_tables():
    store, _owner = restaurant(tables=(("二人桌", 2, 2), ("四人桌", 4, 1)))
    apis = [token_api(consumer()) for _ in range(6)]
    at = tomorrow_at(18).isoformat()
    answers = run_concurrently([
        lambda api=api: api.post(f"/stores/{store.public_id}/reservations", {"party_size": 2, "starts_at": at})
        for api in apis
    ])
    assert Counter(a.status_code for a in answers) == {201: 3, 409: 3}, [a.content for a in answers]
    held = set(Reservation.objects.filter(store=store).values_list("table_type__seats", "table_no"))
    assert held == {(2, 1), (2, 2), (4, 1)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_queue_numbers_taken_at_once_are_unique_and_gapless():
    store, _owner = restaurant()
    users = [consumer() for _ in range(8)]
    answers = run_concurrently([
        lambda u=u: token_api(u).post(f"/stores/{store.public_id}/queue", {"party_size": 2}) for u in users
    ])
    assert [a.status_code for a in answers] == [201] * 8, [a.content for a in answers]
    codes = sorted(a.json()["code"] for a in answers)
    assert codes == [f"A{n:03d}" for n in range(1, 9)]
    assert QueueTicket.objects.filter(store=store).count() == 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_consumer_tapping_take_twice_at_once_gets_one_number():
    store, _owner = restaurant()
    guest = consumer()
    apis = [token_api(guest), token_api(guest)]  # two taps, two connections
    answers = run_concurrently([
        lambda api=api: api.post(f"/stores/{store.public_id}/queue", {"party_size": 2}) for api in apis
    ])
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 1}, [a.content for a in answers]
    assert QueueTicket.objects.filter(store=store).count() == 1
