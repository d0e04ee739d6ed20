"""In a real browser (Debian's chromium through Playwright, against the live server): a
cashier types a voucher code at /m/vouchers, sees the deal and the uses left, redeems one
use, then the last one, and the used-up voucher is refused on the page. Screenshots go to
var/screenshots/vouchers-console-*.png."""

from __future__ import annotations

import pytest

from linli.marketing.models import Voucher
from tests.fixtures import PASSWORD, make_staff, make_store
from tests.payments.helpers import consumer
from tests.web.browser import PHONE, TIMEOUT_MS, shot
from tests.web.conftest import chromium  # noqa: F401 (the browser fixture)

from .test_vouchers import bought, make_deal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cashier_redeems_a_voucher_in_the_console(live_server, chromium):  # noqa: F811
    store = make_store(name="老王家常菜")
    api, _ = consumer()
    code = bought(api, make_deal(store, uses_per_voucher=2))[0]["code"]
    cashier = make_staff(store, role="cashier")
    ctx = chromium.new_context(viewport=PHONE, locale="zh-CN")
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/m/login")
    page.get_by_test_id("login-name").fill(cashier.username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login").click()
    page.wait_for_selector("[data-testid=console-nav]")
    page.get_by_test_id("nav-vouchers").click()

    page.get_by_test_id("voucher-code").fill(f"{code[:4]} {code[4:8]} {code[8:]}")
    page.get_by_test_id("voucher-lookup").click()
    page.wait_for_selector("[data-testid=voucher-found] [data-testid=redeem-form]")
    assert "双人套餐" in page.get_by_test_id("voucher-found").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "vouchers-console-found")
    page.get_by_test_id("redeem").click()
    page.wait_for_selector("[data-testid=notice]")
    assert page.get_by_test_id("redemption").count() == 1
    assert Voucher.objects.get(code=code).uses_left == 1

    page.get_by_test_id("voucher-code").fill(code)
    page.get_by_test_id("voucher-lookup").click()
    page.get_by_test_id("redeem").click()
    page.wait_for_selector("[data-testid=notice]")
    assert page.get_by_test_id("redemption").count() == 2
    page.get_by_test_id("voucher-code").fill(code)
    page.get_by_test_id("voucher-lookup").click()
    page.wait_for_selector("[data-testid=voucher-refusal]")
    assert page.get_by_test_id("redeem-form").count() == 0
    shot(page, "vouchers-console-used-up")
    voucher = Voucher.objects.get(code=code)
    assert (voucher.uses_left, voucher.status) == (0, "used")
    ctx.close()
