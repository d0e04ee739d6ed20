"""In a real browser (Debian's chromium through Playwright, against the live server): a consumer
logs in by SMS from the store page, follows "Book an appointment", picks a day and a free time,
sees it in "My appointments"; the stylist's manager sees it in the week calendar and checks the
customer in. Screenshots go to var/screenshots/bookings-*.png."""

from __future__ import annotations

import pytest

from linli.bookings.models import Booking
from tests.fixtures import PASSWORD, make_staff
from tests.web.browser import DESKTOP, PHONE, TIMEOUT_MS, shot, sms_code
from tests.web.conftest import chromium  # noqa: F401 (the browser fixture)

from .helpers import bookable, local_day, salon, stylist

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_consumer_books_from_the_store_page_and_the_store_checks_in(live_server, chromium):  # noqa: F811
    store = salon()
    bookable(store, buffer=15)
    stylist(store, "Tony")
    manager = make_staff(store, role="manager")
    url = live_server.url
    day = local_day(1)

    def page_at(viewport):
        ctx = chromium.new_context(viewport=viewport, locale="zh-CN")
        ctx.set_default_timeout(TIMEOUT_MS)
        return ctx.new_page()

    guest = page_at(PHONE)
    phone = "+8613900004321"
    guest.goto(f"{url}/login?next=/stores/{store.public_id}")
    guest.get_by_test_id("phone").fill(phone)
    guest.get_by_test_id("send-code").click()
    guest.wait_for_selector("[data-testid=sent]")
    guest.get_by_test_id("code").fill(sms_code(phone))
    guest.get_by_test_id("login").click()
    guest.wait_for_url(f"{url}/stores/{store.public_id}")
    guest.get_by_test_id("book-appointment").click()
    guest.get_by_test_id("booking-date").select_option(day.isoformat())
    guest.wait_for_url(f"**date={day.isoformat()}**")
    slots = guest.get_by_test_id("slot")
    assert slots.count() > 10
    assert guest.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(guest, "bookings-slots")
    first = slots.first.get_attribute("data-start")
    slots.first.click()
    guest.wait_for_url(f"{url}/bookings/mine**")
    assert guest.get_by_test_id("booking").count() == 1
    assert guest.get_by_test_id("booking-status").inner_text().strip() != ""
    shot(guest, "bookings-mine")
    booking = Booking.objects.get()
    assert booking.starts_at.isoformat().startswith(first[:10]) and booking.status == "confirmed"

    console = page_at(DESKTOP)
    console.goto(f"{url}/m/login?next=/m/bookings?view=week%26date={day.isoformat()}")
    console.get_by_test_id("login-name").fill(manager.username)
    console.get_by_test_id("password").fill(PASSWORD)
    console.get_by_test_id("login").click()
    console.wait_for_selector("[data-testid=calendar-booking]")
    shot(console, "bookings-calendar-week")
    console.get_by_test_id("booking-check_in").click()
    console.wait_for_selector("[data-testid=booking-complete]")
    booking.refresh_from_db()
    assert booking.status == "checked_in"
