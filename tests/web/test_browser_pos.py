"""In a real browser at tablet width: the cashier identifies a member by the member code,
rings up two items (one scanned, one tapped) paid from the member's wallet and sees the
receipt; then, with the network cut (`context.set_offline(True)`), a cash sale goes into
the page's queue and is uploaded when the network is back. Screenshots
var/screenshots/pos-*.png.

Same set-up as tests/web/test_browser.py: Debian's /usr/bin/chromium through Playwright
against pytest-django's live server."""

from __future__ import annotations

import pytest

from linli.accounts.member_codes import member_code_show
from linli.pos.models import Sale
from tests.fixtures import PASSWORD, make_product
from tests.payments.helpers import wallet
from tests.pos.helpers import Shop, ean13, member

from .browser import PHONE, TIMEOUT_MS, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TABLET = {"width": 768, "height": 1024}


def test_member_wallet_sale_then_an_offline_sale_uploaded_later(live_server, chromium):
    shop = Shop(stock=10, price_fen=1000)
    tea = make_product(shop.store, name="乌龙茶", price_fen=1500, stock=10)
    tea_code = ean13()
    assert shop.manager.post(f"/pos/stores/{shop.store.public_id}/barcodes",
                             {"product_id": tea.public_id, "code": tea_code}).status_code == 201
    api, buyer = member(wallet_fen=5000)
    url = live_server.url

    ctx = chromium.new_context(viewport=TABLET, locale="zh-CN")
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(f"{url}/m/login")
    page.get_by_test_id("login-name").fill(shop.cashier_user.username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login").click()
    page.wait_for_selector("[data-testid=console-nav]")
    page.get_by_test_id("nav-pos").click()
    page.wait_for_selector("[data-testid=pos-product]")

    # A mistyped barcode is stopped in the page (EAN-13 check digit), as the server would.
    page.get_by_test_id("barcode").fill(tea_code[:12] + str((int(tea_code[12]) + 1) % 10))
    page.get_by_test_id("barcode").press("Enter")
    page.wait_for_selector("[data-error=scan][data-code=invalid_barcode]")

    page.get_by_test_id("member-code").fill(member_code_show(user=buyer).code)
    page.get_by_test_id("member-code").press("Enter")
    page.wait_for_selector("[data-testid=member]:not([hidden])")
    assert "****" in page.get_by_test_id("member").inner_text()

    page.get_by_test_id("barcode").fill(tea_code)  # the scanner types the digits and Enter
    page.get_by_test_id("barcode").press("Enter")
    page.locator(f"[data-product='{shop.product.public_id}']").click()
    assert page.get_by_test_id("pos-total").inner_text() == "25.00"
    page.get_by_test_id("method-wallet").check()
    page.get_by_test_id("ring-up").click()
    page.wait_for_selector("[data-testid=receipt][src*='/receipt']")
    receipt = page.frame_locator("[data-testid=receipt]")
    receipt.locator("h1").wait_for()
    assert "25.00" in receipt.locator("body").inner_text()
    sale = Sale.objects.get()
    assert (sale.payment_method, sale.paid_fen, sale.member_id) == ("wallet", 2500, buyer.pk)
    assert wallet(api) == (2500, 0)
    shot(page, "pos-receipt")

    # The network goes down: the cash sale waits in the page until it is back.
    ctx.set_offline(True)
    page.locator(f"[data-product='{tea.public_id}']").click()
    page.get_by_test_id("ring-up").click()
    page.wait_for_selector("[data-testid=queue]:not([hidden])")
    assert page.get_by_test_id("queue-count").inner_text() == "1"
    assert page.get_by_test_id("queued-note").is_visible()
    assert Sale.objects.count() == 1
    shot(page, "pos-offline-queue")
    ctx.set_offline(False)
    page.wait_for_selector("[data-testid=sync-result][data-status=accepted]")
    page.wait_for_selector("[data-testid=queue]", state="hidden")
    offline = Sale.objects.get(offline=True)
    assert offline.paid_fen == 1500 and offline.lines.get().product_id == tea.pk
    assert page.evaluate("localStorage.getItem('linli.pos.queue')") == "[]"

    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_test_id("pos-sales-link").click()
    assert page.locator("[data-testid=pos-sale]").count() == 2
    shot(page, "pos-sales")
    ctx.close()
