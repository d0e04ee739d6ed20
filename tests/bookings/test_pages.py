"""The booking pages: the consumer books, sees, reschedules and cancels; the merchant's calendar
shows the day and week per staff member and checks a customer in."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.bookings.models import Booking

from .helpers import at, bookable, consumer, local_day, owner_of, salon, stylist

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = salon()
    return store, bookable(store, buffer=15), stylist(store, "Tony")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_consumer_books_a_free_time_from_the_page_then_reschedules_and_cancels(shop):
    store, service, tony = shop
    client = _client(consumer())
    day = local_day(2)
    page = client.get(f"/bookings/store/{store.public_id}", {"date": day.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="slot"' in html and at(day, "09:00").isoformat() in html
    assert ">09:00<" in html and ">01:00<" not in html  # shown in the store's time zone, not UTC
    answer = client.post(f"/bookings/store/{store.public_id}/book", {
        "service": service.product.public_id, "date": day.isoformat(), "start": at(day, "09:00").isoformat(),
        "slot_resource": tony.public_id, "key": "page-1"})
    assert answer.status_code == 302
    booking = Booking.objects.get()
    assert booking.status == "confirmed" and booking.starts_at == at(day, "09:00")
    mine = client.get("/bookings/mine").content.decode()
    assert booking.public_id in mine and "booking-cancel" in mine
    assert f"{day.isoformat()} 09:00" in mine
    # the same time again (another tab): refused on the page with the code's message
    again = client.post(f"/bookings/store/{store.public_id}/book", {
        "service": service.product.public_id, "date": day.isoformat(), "start": at(day, "09:00").isoformat(),
        "slot_resource": tony.public_id, "key": "page-2"})
    assert again.status_code == 409 and "slot_taken" in again.content.decode()
    moved = client.post(f"/bookings/{booking.public_id}/reschedule", {"start": at(day, "13:00").isoformat()})
    assert moved.status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == at(day, "13:00")
    assert client.post(f"/bookings/{booking.public_id}/cancel").status_code == 302
    booking.refresh_from_db()
    assert booking.status == "cancelled"


def test_the_booking_page_needs_a_login_to_book_and_refuses_unknown_stores(shop):
    store, service, _tony = shop
    anonymous = Client()
    assert anonymous.get(f"/bookings/store/{store.public_id}").status_code == 200
    answer = anonymous.post(f"/bookings/store/{store.public_id}/book", {"service": service.product.public_id})
    assert answer.status_code == 302 and answer["Location"].startswith("/login")
    assert anonymous.get("/bookings/store/sto_nope").status_code == 404


def test_merchant_calendar_day_and_week_and_check_in(shop):
    store, service, tony = shop
    amy = stylist(store, "Amy")
    owner = _client(owner_of(store))
    from linli.bookings.services import booking_create

    first = booking_create(consumer=consumer(), store_id=store.public_id, service_id=service.product.public_id,
                           start=at(local_day(1), "10:00"), resource_id=tony.public_id, idempotency_key="a").booking
    booking_create(consumer=consumer(), store_id=store.public_id, service_id=service.product.public_id,
                   start=at(local_day(2), "11:00"), resource_id=amy.public_id, idempotency_key="b")
    day = owner.get("/m/bookings", {"date": local_day(1).isoformat()}).content.decode()
    assert day.count('data-testid="calendar-booking"') == 1 and "Tony" in day and "Amy" in day
    assert "10:00–11:00" in day  # the store's time zone
    week = owner.get("/m/bookings", {"date": local_day(1).isoformat(), "view": "week"}).content.decode()
    assert week.count('data-testid="calendar-booking"') == 2
    done = owner.post(f"/m/bookings/{first.public_id}/check_in", {"back": "/m/bookings?view=week"})
    assert done.status_code == 302 and done["Location"] == "/m/bookings?view=week"
    first.refresh_from_db()
    assert first.status == "checked_in"
    refused = _client(consumer()).get("/m/bookings")
    assert refused.status_code == 403


def test_the_store_page_links_to_booking_when_it_offers_services(shop):
    store, _service, _tony = shop
    html = Client().get(f"/stores/{store.public_id}").content.decode()
    assert f'href="/bookings/store/{store.public_id}"' in html
    plain = salon()
    assert "book-appointment" not in Client().get(f"/stores/{plain.public_id}").content.decode()
