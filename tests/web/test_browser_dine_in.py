"""扫码点餐 in a real browser: two diners scan the same table's QR URL, each orders from the
menu in dine-in mode, both orders land on the table's tab (the merchant console shows them
grouped by table, live), and one diner pays the whole tab once at the sandbox cashier.

Same setup as tests/web/test_browser.py (Debian's /usr/bin/chromium through Playwright,
pytest-django's live server). Screenshots: var/screenshots/dinein-<page>-<width>.png.
"""

from __future__ import annotations

import re

import pytest

from linli.orders.models import Order, Table, TableTab
from linli.payments.models import Payment
from tests.fixtures import PASSWORD, make_product, make_staff, make_store
from tests.web.browser import DESKTOP, PHONE, TIMEOUT_MS, shot, sms_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, url: str, phone: str, next_path: str) -> None:
    page.goto(f"{url}/login?next={next_path}")
    page.get_by_test_id("phone").fill(phone)
    page.get_by_test_id("send-code").click()
    page.wait_for_selector("[data-testid=sent]")
    page.get_by_test_id("code").fill(sms_code(phone))
    page.get_by_test_id("login").click()
    page.wait_for_url(f"{url}{next_path}")


def _order_at_table(page, url: str, table: Table, dish_index: int) -> None:
    page.goto(f"{url}/t/{table.public_id}")
    page.wait_for_selector("[data-testid=dine-in-banner]")
    page.get_by_test_id("add").nth(dish_index).click()
    page.wait_for_selector("[data-testid=breakdown]")
    page.get_by_test_id("checkout").click()
    page.wait_for_selector("[data-testid=dine-in]:checked")
    assert page.get_by_test_id("dine-in-table").is_visible()
    assert not page.get_by_test_id("address-choices").is_visible()  # no address for dine-in
    page.get_by_test_id("place").click()
    page.wait_for_url(re.compile(rf".*/t/{table.public_id}/tab$"))


def test_two_diners_order_at_one_table_and_pay_the_tab_once(live_server, chromium):
    store = make_store(name="小杨生煎")
    make_product(store, name="生煎包", price_fen=1500)
    make_product(store, name="牛肉粉丝汤", price_fen=1200)
    table = Table.objects.create(store=store, label="A12")
    staff = make_staff(store, role="owner")
    url = live_server.url

    def context(viewport):
        ctx = chromium.new_context(viewport=viewport, locale="zh-CN")
        ctx.set_default_timeout(TIMEOUT_MS)
        return ctx

    # The store's console: the tables page with the printable QR code, then the live queue.
    merchant = context(DESKTOP).new_page()
    merchant.goto(f"{url}/m/login")
    merchant.get_by_test_id("login-name").fill(staff.username)
    merchant.get_by_test_id("password").fill(PASSWORD)
    merchant.get_by_test_id("login").click()
    merchant.goto(f"{url}/m/tables")
    merchant.wait_for_selector(f"[data-testid=table][data-table={table.public_id}] svg.qr")
    shot(merchant, "dinein-merchant-tables")
    merchant.goto(f"{url}/m/")
    merchant.wait_for_selector("#queue[data-live=open]")

    # First diner scans the table's code and orders.
    first = context(PHONE).new_page()
    _login(first, url, "+8613800138201", "/")
    first.goto(f"{url}/t/{table.public_id}")
    first.wait_for_selector("[data-testid=dine-in-banner]")
    shot(first, "dinein-menu")
    _order_at_table(first, url, table, 0)
    assert first.get_by_test_id("tab-order").count() == 1
    shot(first, "dinein-tab-one-order")

    # Second diner at the same table adds an order to the same tab.
    second = context(PHONE).new_page()
    _login(second, url, "+8613800138202", "/")
    _order_at_table(second, url, table, 1)
    assert second.get_by_test_id("tab-order").count() == 2
    # The console shows both, grouped under the table, without a reload.
    merchant.wait_for_selector("[data-testid=queue-tab][data-table=A12] [data-testid=tab-order] >> nth=1")
    shot(merchant, "dinein-merchant-console")

    # The first diner pays the whole table once.
    first.reload()
    assert first.get_by_test_id("tab-order").count() == 2
    assert first.get_by_test_id("tab-unpaid").inner_text() == "¥29.00"  # 15 + 12 + packaging 1 + 1
    shot(first, "dinein-tab-two-orders")
    first.get_by_test_id("pay-tab").click()
    first.wait_for_url(re.compile(r".*/pay/sandbox/.*"))
    shot(first, "dinein-cashier")
    first.get_by_test_id("pay").click()
    first.wait_for_url(re.compile(rf".*/t/{table.public_id}/tab$"))
    first.wait_for_selector("[data-testid=tab-paid]")
    shot(first, "dinein-tab-paid")

    tab = TableTab.objects.get()
    assert tab.status == "paid"
    assert sorted(Order.objects.filter(tab=tab).values_list("status", flat=True)) == ["paid", "paid"]
    payment = Payment.objects.get()
    assert payment.status == "succeeded" and payment.amount_fen == 2900
