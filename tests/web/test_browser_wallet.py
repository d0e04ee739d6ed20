"""In a real browser on a phone-sized screen: top up ¥100 with the sandbox under the rule
充100送10 and see ¥110 (100 principal + 10 bonus), then pay an order with the wallet on the
cashier page (收银台) and see the order paid and the balance reduced.

Debian's /usr/bin/chromium through Playwright (never a downloaded browser) against
pytest-django's live server. Screenshots: var/screenshots/wallet-*.png, cashier-wallet-*.png.
"""

from __future__ import annotations

import re

import pytest

from linli.orders.models import Order
from linli.payments.models import TopupBonusRule
from tests.fixtures import make_product, make_store
from tests.web.browser import PHONE, TIMEOUT_MS, shot, sms_code

CONSUMER_PHONE = "+8613800138456"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _yuan(text: str) -> int:
    """"¥110.00" → 11000 fen."""
    whole, cents = re.search(r"(\d+)\.(\d{2})", text).groups()  # type: ignore[union-attr]
    return int(whole) * 100 + int(cents)


def test_top_up_with_bonus_then_pay_an_order_from_the_wallet(live_server, chromium):
    TopupBonusRule.objects.create(threshold_fen=10000, bonus_fen=1000)
    store = make_store(name="老王家常菜")
    make_product(store, name="宫保鸡丁", price_fen=3200)
    url = live_server.url
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    page.goto(f"{url}/login?next=/me/wallet")
    page.get_by_test_id("phone").fill(CONSUMER_PHONE)
    page.get_by_test_id("send-code").click()
    page.wait_for_selector("[data-testid=sent]")
    page.get_by_test_id("code").fill(sms_code(CONSUMER_PHONE))
    page.get_by_test_id("login").click()
    page.wait_for_url(f"{url}/me/wallet")
    assert page.get_by_test_id("wallet-total").inner_text() == "¥0.00"
    shot(page, "wallet-empty")

    # 充100送10: one tap on the rule, pay on the sandbox's page, back on the wallet.
    page.get_by_test_id("topup-rule").first.click()
    page.wait_for_url(re.compile(r".*/pay/sandbox/.*"))
    assert page.get_by_test_id("amount").inner_text() == "¥100.00"
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/me/wallet\?from=topup$"))
    assert page.get_by_test_id("wallet-total").inner_text() == "¥110.00"
    assert page.get_by_test_id("wallet-cash").inner_text() == "¥100.00"
    assert page.get_by_test_id("wallet-bonus").inner_text() == "¥10.00"
    assert page.locator("[data-testid=entry][data-kind=topup]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    shot(page, "wallet-topped-up")

    # Order for pickup, and pay with the wallet on the cashier page (preselected: it covers it).
    page.goto(f"{url}/stores/{store.public_id}")
    page.get_by_test_id("add").first.click()
    page.wait_for_selector("[data-testid=breakdown]")
    page.get_by_test_id("checkout").click()
    page.get_by_test_id("pickup").check()
    page.get_by_test_id("place").click()
    page.wait_for_url(re.compile(r".*/orders/ord_\w+/pay$"))
    assert page.locator("[data-testid=method-wallet] input").is_checked()
    assert page.get_by_test_id("wallet-balance").inner_text() == "¥110.00"
    assert re.fullmatch(r"1[45]:\d\d", page.locator("[data-countdown]").inner_text())
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "cashier-wallet")
    page.get_by_test_id("pay-submit").click()
    page.wait_for_url(re.compile(r".*/orders/ord_\w+$"))
    assert page.get_by_test_id("order-status").get_attribute("data-status") == "paid"
    shot(page, "wallet-order-paid")

    order = Order.objects.get()
    assert order.status == "paid"
    page.get_by_test_id("tab-wallet").click()
    page.wait_for_url(f"{url}/me/wallet")
    assert _yuan(page.get_by_test_id("wallet-total").inner_text()) == 11000 - order.total_fen
    assert page.locator("[data-testid=entry][data-kind=wallet_pay]").count() == 1
    shot(page, "wallet-after-order")
    context.close()
