"""The walk-in queue over the API: numbers per group, live position, call next with the
"your table is ready" message, seat, skip after the grace minutes, cancel, and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.bookings.tables.models import QueueEvent, QueueTicket
from linli.merchants.hours import every_day
from linli.notifications.models import Message
from tests.fixtures import make_staff, token_api

from .helpers import consumer, restaurant

pytestmark = pytest.mark.django_db


def take(user, store, party):
    return token_api(user).post(f"/stores/{store.public_id}/queue", {"party_size": party})


def test_numbers_per_group_and_position_moves_as_the_queue_is_called():
    store, owner = restaurant(tables=(("二人桌", 2, 4), ("四人桌", 4, 2), ("八人桌", 8, 1)))
    people = [consumer() for _ in range(5)]
    codes = [take(u, store, p).json()["code"] for u, p in zip(people, (2, 1, 4, 6, 2), strict=True)]
    assert codes == ["A001", "A002", "B001", "C001", "A003"]
    last = token_api(people[4]).get(f"/queue/tickets/{QueueTicket.objects.get(consumer=people[4]).public_id}")
    assert (last.json()["status"], last.json()["position"]) == ("waiting", 2)
    staff = token_api(make_staff(store, role="cashier"))
    called = staff.post(f"/merchant/stores/{store.public_id}/queue/call", {"group": "A"}).json()
    assert (called["code"], called["status"]) == ("A001", "called")
    message = Message.objects.get(user=people[0], kind="table_queue_called")
    assert "A001" in message.body and message.link == f"/queue/{called['id']}"
    ticket_id = QueueTicket.objects.get(consumer=people[4]).public_id
    assert token_api(people[4]).get(f"/queue/tickets/{ticket_id}").json()["position"] == 1
    token_api(people[1]).post(f"/queue/tickets/{QueueTicket.objects.get(consumer=people[1]).public_id}/cancel", {})
    assert token_api(people[4]).get(f"/queue/tickets/{ticket_id}").json()["position"] == 0
    board = {g["group"]: g for g in staff.get(f"/merchant/stores/{store.public_id}/queue").json()}
    assert [t["code"] for t in board["A"]["waiting"]] == ["A003"]
    assert [t["code"] for t in board["A"]["called"]] == ["A001"]
    seated = staff.post(f"/merchant/queue/tickets/{called['id']}/seat", {}).json()
    assert seated["status"] == "seated"
    assert list(QueueEvent.objects.filter(ticket__public_id=called["id"]).values_list("action", "actor_role")) == [
        ("take", "consumer"), ("call", "merchant"), ("seat", "merchant")]
    public = token_api(consumer()).get(f"/stores/{store.public_id}/tables").json()
    assert public["queue_waiting"] == {"A": 1, "B": 1, "C": 1}


def test_a_called_number_is_skipped_only_after_the_grace_minutes():
    store, _owner = restaurant(skip_after_minutes=10)
    guest = consumer()
    ticket = take(guest, store, 2).json()
    staff = token_api(make_staff(store))
    staff.post(f"/merchant/stores/{store.public_id}/queue/call", {"group": "A"})
    early = staff.post(f"/merchant/queue/tickets/{ticket['id']}/skip", {})
    assert (early.status_code, early.json()["code"]) == (409, "skip_too_early")
    QueueTicket.objects.filter(public_id=ticket["id"]).update(called_at=timezone.now() - timedelta(minutes=11))
    skipped = staff.post(f"/merchant/queue/tickets/{ticket['id']}/skip", {})
    assert skipped.json()["status"] == "skipped"
    again = take(guest, store, 2)  # a skipped guest may take a new number
    assert (again.status_code, again.json()["code"]) == (201, "A002")


def test_bad_queue_requests_have_codes():
    store, _owner = restaurant()
    guest = consumer()
    assert take(guest, store, 2).status_code == 201
    duplicate = take(guest, store, 3)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "queue_ticket_active")
    too_big = take(consumer(), store, 9)
    assert (too_big.status_code, too_big.json()["code"]) == (422, "party_too_large")
    zero = take(consumer(), store, 0)
    assert (zero.status_code, zero.json()["code"]) == (422, "invalid_party_size")
    staff = token_api(make_staff(store))
    staff.post(f"/merchant/stores/{store.public_id}/queue/call", {"group": "A"})
    empty = staff.post(f"/merchant/stores/{store.public_id}/queue/call", {"group": "A"})
    assert (empty.status_code, empty.json()["code"]) == (409, "queue_empty")
    bad_group = staff.post(f"/merchant/stores/{store.public_id}/queue/call", {"group": "Z"})
    assert bad_group.status_code == 422
    someone_else = token_api(consumer()).get(f"/queue/tickets/{QueueTicket.objects.get().public_id}")
    assert (someone_else.status_code, someone_else.json()["code"]) == (404, "queue_ticket_not_found")
    consumer_calls = token_api(guest).post(f"/merchant/stores/{store.public_id}/queue/call", {"group": "A"})
    assert (consumer_calls.status_code, consumer_calls.json()["code"]) == (404, "store_not_found")

    no_queue, _ = restaurant(queue=False)
    refused = take(consumer(), no_queue, 2)
    assert (refused.status_code, refused.json()["code"]) == (409, "queue_not_offered")
    night = every_day(("00:00", "00:15"))
    closed, _ = restaurant(hours=night)
    late = take(consumer(), closed, 2)
    if late.status_code != 201:  # unless the test runs in those 15 minutes
        assert (late.status_code, late.json()["code"]) == (409, "queue_closed")


def test_yesterdays_leftover_number_does_not_block_today():
    store, _owner = restaurant()
    guest = consumer()
    old = take(guest, store, 2).json()
    QueueTicket.objects.filter(public_id=old["id"]).update(service_date=timezone.now().date() - timedelta(days=2))
    fresh = take(guest, store, 2)
    assert fresh.status_code == 201, fresh.content
    assert QueueTicket.objects.get(public_id=old["id"]).status == "skipped"


def test_a_store_paused_for_orders_still_gives_queue_numbers():
    store, _owner = restaurant()
    store.status = "paused"
    store.save(update_fields=["status"])
    assert take(consumer(), store, 2).status_code == 201

