"""取号排队 in a real browser: a walk-in takes a number from the store page, the merchant
calls it from the queue board, and the guest's open ticket page turns to "your table is
ready" by itself (Server-Sent Events, no reload); then staff seat the guest.

Debian's /usr/bin/chromium through Playwright and pytest-django's live server, as in
tests/web/test_browser.py. Screenshots: var/screenshots/tables-<page>-<width>.png.
"""

from __future__ import annotations

import re

import pytest

from linli.bookings.tables.models import QueueTicket
from tests.fixtures import PASSWORD, make_staff
from tests.web.browser import DESKTOP, PHONE, TIMEOUT_MS, shot, sms_code

from .helpers import restaurant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_walk_in_takes_a_number_and_sees_the_table_ready_live(live_server, chromium):
    store, _owner = restaurant()
    staff = make_staff(store, role="cashier")
    url = live_server.url

    def context(viewport):
        ctx = chromium.new_context(viewport=viewport, locale="zh-CN")
        ctx.set_default_timeout(TIMEOUT_MS)
        return ctx

    guest = context(PHONE).new_page()
    phone = "+8613900001234"
    guest.goto(f"{url}/login?next=/stores/{store.public_id}")
    guest.get_by_test_id("phone").fill(phone)
    guest.get_by_test_id("send-code").click()
    guest.wait_for_selector("[data-testid=sent]")
    guest.get_by_test_id("code").fill(sms_code(phone))
    guest.get_by_test_id("login").click()
    guest.wait_for_url(f"{url}/stores/{store.public_id}")
    guest.get_by_test_id("tables-queue-link").click()
    guest.get_by_test_id("queue-party").select_option("3")
    guest.get_by_test_id("queue-take").click()
    guest.wait_for_url(re.compile(r".*/queue/qtk_[0-9a-z]+$"))
    assert guest.get_by_test_id("ticket-code").inner_text() == "B001"
    assert "0" in guest.get_by_test_id("ticket-position").inner_text()
    guest.wait_for_selector("#ticket[data-live=open]")
    shot(guest, "tables-ticket")

    merchant = context(DESKTOP).new_page()
    merchant.goto(f"{url}/m/login?next=/m/queue")
    merchant.get_by_test_id("login-name").fill(staff.username)
    merchant.get_by_test_id("password").fill(PASSWORD)
    merchant.get_by_test_id("login").click()
    merchant.wait_for_url(f"{url}/m/queue")
    group_b = merchant.locator("[data-testid=queue-group][data-group=B]")
    assert "B001" in group_b.inner_text()
    group_b.get_by_test_id("call-next").click()
    merchant.wait_for_selector("[data-testid=called]")
    shot(merchant, "tables-board")

    guest.wait_for_selector("[data-testid=ticket-ready]")  # pushed, no reload
    shot(guest, "tables-ready")
    merchant.locator("[data-testid=called]").get_by_test_id("queue-seat").click()
    merchant.wait_for_selector("[data-testid=called]", state="detached")
    assert QueueTicket.objects.get().status == "seated"
    guest.wait_for_selector("[data-testid=ticket-closed]")
    guest.context.close()  # ends the event streams before the live server stops
    merchant.context.close()
