"""In a real browser at tablet width: the cashier rings up a sale paid by gateway QR, the
page shows the QR and polls; the customer pays on the sandbox's page and the receipt
appears; a second QR is given up and the page says the sale was voided. Screenshot
var/screenshots/pos-qr.png. Same set-up as tests/web/test_browser_pos.py."""

from __future__ import annotations

import pytest

from linli.payments.gateways.sandbox import SandboxTrade, sandbox_trade_pay
from linli.pos.models import Sale
from tests.fixtures import PASSWORD
from tests.pos.helpers import Shop
from tests.web.browser import TIMEOUT_MS, shot
from tests.web.conftest import chromium  # noqa: F401 (the browser fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TABLET = {"width": 768, "height": 1024}


def test_qr_sale_shown_polled_paid_and_a_second_one_given_up(live_server, chromium):  # noqa: F811
    shop = Shop(stock=10, price_fen=1000)
    ctx = chromium.new_context(viewport=TABLET, locale="zh-CN")
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/m/login")
    page.get_by_test_id("login-name").fill(shop.cashier_user.username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login").click()
    page.wait_for_selector("[data-testid=console-nav]")
    page.goto(f"{live_server.url}/m/pos")
    page.locator(f"[data-product='{shop.product.public_id}']").click()
    page.get_by_test_id("method-qr").check()
    page.get_by_test_id("ring-up").click()
    page.wait_for_selector("[data-testid=qr-box]:not([hidden]) svg")
    shot(page, "pos-qr")
    sale = Sale.objects.get()
    assert sale.status == "awaiting_payment" and shop.stock() == 9
    sandbox_trade_pay(trade_no=SandboxTrade.objects.get(out_trade_no=sale.payment_id).trade_no)
    page.wait_for_selector("[data-testid=receipt][src*='/receipt']")
    assert page.get_by_test_id("qr-box").is_hidden()
    assert Sale.objects.get().status == "completed"

    page.locator(f"[data-product='{shop.product.public_id}']").click()
    page.get_by_test_id("method-qr").check()
    page.get_by_test_id("ring-up").click()
    page.wait_for_selector("[data-testid=qr-box]:not([hidden]) svg")
    page.get_by_test_id("qr-cancel").click()
    page.wait_for_selector("[data-testid=qr-cancel]", state="hidden")
    assert Sale.objects.order_by("-pk").first().status == "voided" and shop.stock() == 9
    ctx.close()
