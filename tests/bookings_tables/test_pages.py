"""The pages, fetched as a phone would: reserve from the store page, my reservations with
cancel, the queue ticket with its live part, and the merchant's day list and queue board."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.bookings.tables.models import QueueTicket, Reservation
from linli.merchants.hours import every_day
from tests.fixtures import make_staff

from .helpers import consumer, restaurant, tomorrow_at

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_store_page_links_to_tables_only_when_offered():
    store, _owner = restaurant()
    html = Client().get(f"/stores/{store.public_id}").content.decode()
    assert 'data-testid="tables-reserve-link"' in html and 'data-testid="tables-queue-link"' in html
    plain, _ = restaurant(reservations=False, queue=False)
    assert 'data-testid="tables-entry"' not in Client().get(f"/stores/{plain.public_id}").content.decode()


def test_reserve_then_cancel_from_my_reservations():
    store, _owner = restaurant()
    guest = logged_in(consumer())
    day = tomorrow_at(12).date().isoformat()
    html = guest.get(f"/stores/{store.public_id}/tables", {"party": 3, "date": day}).content.decode()
    assert 'data-testid="slot"' in html and "> 12:00" in html  # the store's local time, not UTC
    answer = guest.post(f"/stores/{store.public_id}/tables/reserve",
                        {"party": 3, "date": day, "starts_at": tomorrow_at(12).isoformat(), "idempotency_key": "p1"})
    assert answer.status_code == 302 and answer["Location"] == "/me/reservations"
    reservation = Reservation.objects.get()
    html = guest.get("/me/reservations").content.decode()
    assert reservation.public_id in html and 'data-testid="reservation-cancel"' in html
    assert tomorrow_at(12).strftime("%Y-%m-%d 12:00") in html
    assert guest.post(f"/me/reservations/{reservation.public_id}/cancel").status_code == 302
    reservation.refresh_from_db()
    assert reservation.status == "cancelled"


def test_bad_reservation_on_the_page_shows_the_code():
    store, _owner = restaurant(hours=every_day(("11:00", "14:00")))
    guest = logged_in(consumer())
    answer = guest.post(f"/stores/{store.public_id}/tables/reserve",
                        {"party": 2, "starts_at": tomorrow_at(13, 0).isoformat()})
    assert answer.status_code == 422
    assert 'data-code="slot_outside_hours"' in answer.content.decode()
    answer = guest.post(f"/stores/{store.public_id}/tables/reserve", {"party": 2, "starts_at": "soon"})
    assert answer.status_code == 422 and 'data-code="invalid_slot"' in answer.content.decode()
    anonymous = Client().post(f"/stores/{store.public_id}/tables/reserve", {"party": 2})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login")


def test_queue_ticket_page_and_merchant_board():
    store, owner = restaurant()
    guest = logged_in(consumer())
    answer = guest.post(f"/stores/{store.public_id}/tables/queue", {"party": 2})
    ticket = QueueTicket.objects.get()
    assert answer["Location"] == f"/queue/{ticket.public_id}"
    html = guest.get(f"/queue/{ticket.public_id}").content.decode()
    assert "A001" in html and f'data-live-src="/events/queue/{ticket.public_id}"' in html
    assert 'data-testid="ticket-position"' in html
    duplicate = guest.post(f"/stores/{store.public_id}/tables/queue", {"party": 2})
    assert duplicate.status_code == 409 and 'data-code="queue_ticket_active"' in duplicate.content.decode()

    staff = logged_in(make_staff(store, role="cashier"))
    board = staff.get("/m/queue").content.decode()
    assert 'data-testid="waiting"' in board and "A001" in board
    assert staff.post("/m/queue/call", {"group": "A", "store": store.public_id}).status_code == 302
    part = guest.get(f"/queue/{ticket.public_id}?part=status").content.decode()
    assert 'data-testid="ticket-ready"' in part
    early = staff.post(f"/m/queue/{ticket.public_id}/skip", {"store": store.public_id})
    assert early.status_code == 409 and 'data-code="skip_too_early"' in early.content.decode()
    assert staff.post(f"/m/queue/{ticket.public_id}/seat", {"store": store.public_id}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "seated"
    stranger = logged_in(consumer())
    assert stranger.get(f"/queue/{ticket.public_id}").status_code == 404


def test_merchant_reservations_of_the_day_and_seat():
    store, owner = restaurant()
    buyer = logged_in(consumer())
    buyer.post(f"/stores/{store.public_id}/tables/reserve", {"party": 2, "starts_at": tomorrow_at(18).isoformat()})
    reservation = Reservation.objects.get()
    staff = logged_in(make_staff(store, role="cashier"))
    day = tomorrow_at(18).date().isoformat()
    html = staff.get("/m/reservations", {"date": day}).content.decode()
    assert reservation.public_id in html and 'data-testid="rsv-seat"' in html and "18:00" in html
    answer = staff.post(f"/m/reservations/{reservation.public_id}/seat", {"date": day})
    assert answer.status_code == 302
    reservation.refresh_from_db()
    assert reservation.status == "checked_in"
    consumer_tries = logged_in(consumer()).get("/m/reservations")
    assert consumer_tries.status_code == 403


def test_merchant_settings_page_turns_reservations_on_and_adds_a_table_type():
    store, owner = restaurant(tables=(), reservations=False, queue=False)
    manager = logged_in(owner)
    assert 'data-testid="setup-form"' in manager.get("/m/reservations/setup").content.decode()
    answer = manager.post("/m/reservations/setup/save", {
        "takes_reservations": "1", "takes_queue": "1", "auto_confirm": "1", "seating_minutes": "120",
        "slot_minutes": "30", "cancel_deadline_minutes": "30", "days_ahead": "7", "skip_after_minutes": "5"})
    assert answer.status_code == 302
    assert manager.post("/m/reservations/table-types", {"name": "包间", "seats": "10", "count": "2"}).status_code == 302
    bad = manager.post("/m/reservations/table-types", {"name": "x", "seats": "99", "count": "1"})
    assert bad.status_code == 422 and 'data-code="invalid_table_type"' in bad.content.decode()
    store.refresh_from_db()
    assert store.table_setup.takes_reservations and store.table_setup.seating_minutes == 120
    assert [(t.name, t.seats, t.count) for t in store.table_types.all()] == [("包间", 10, 2)]
    cashier = logged_in(make_staff(store, role="cashier"))
    refused = cashier.post("/m/reservations/setup/save", {"takes_reservations": "1", "slot_minutes": "30"})
    assert refused.status_code == 403 and 'data-code="permission_denied"' in refused.content.decode()
