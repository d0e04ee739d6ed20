"""The price breakdown in a real browser at 375 and 1280 px: the store's cart drawer, the
checkout, the consumer's order page and the merchant queue show the same lines (per-unit
packaging, the distance tier, the night surcharge). Screenshots: var/screenshots/pricing-*."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import User
from linli.orders.models import Order
from linli.orders.services import AddressInput, LineInput, order_place, order_transition_as
from tests.fixtures import delivery_address, make_product, make_staff, make_store

from .browser import DESKTOP, PHONE, TIMEOUT_MS, shot
from .helpers import web_password_login, web_sms_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _window_around_now() -> tuple[str, str]:
    local = timezone.now().astimezone(ZoneInfo("Asia/Shanghai"))
    return ((local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=1)).strftime("%H:%M"))


def _browser_page(chromium, live_server, client, viewport):
    context = chromium.new_context(viewport=viewport, locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return context, page


def test_every_surface_shows_the_same_breakdown(live_server, chromium):
    start, end = _window_around_now()
    store = make_store(name="夜宵小龙虾", night_surcharge_fen=400, night_start=start, night_end=end,
                       delivery_fee_tiers=[{"max_m": 1000, "fee_fen": 300}, {"max_m": 3000, "fee_fen": 600}])
    product = make_product(store, name="麻辣小龙虾", price_fen=8800)
    product.packaging_fee_fen = 200
    product.save(update_fields=["packaging_fee_fen"])

    buyer_client = web_sms_login("13800138777")
    for _ in range(2):
        buyer_client.post(f"/stores/{store.public_id}/cart", {"product_id": product.public_id, "delta": 1})
    context, page = _browser_page(chromium, live_server, buyer_client, PHONE)
    try:
        page.goto(f"{live_server.url}/stores/{store.public_id}")
        assert page.locator("[data-line=surcharge]").first.is_visible()
        shot(page, "pricing-cart")
        page.goto(f"{live_server.url}/stores/{store.public_id}/checkout")
        page.locator("[data-testid=breakdown]").first.wait_for()
        shot(page, "pricing-checkout")

        buyer = User.objects.get(phone="+8613800138777")
        order = order_place(consumer=buyer, store_id=store.public_id,
                            lines=[LineInput(product_id=product.public_id, quantity=2)],
                            fulfilment="delivery", address=AddressInput(**delivery_address()),
                            idempotency_key="browser-pricing").order
        with transaction.atomic():  # it locks the order row: inside the caller's transaction
            order = order_transition_as(order=order, action="pay", actor=None, role="system")
        expected = [("item", 17600), ("packaging", 400 + 100), ("delivery", 300), ("surcharge", 400)]
        assert [(x["kind"], x["amount_fen"]) for x in Order.objects.get(pk=order.pk).price_lines] == expected
        page.goto(f"{live_server.url}/orders/{order.public_id}")
        consumer_lines = page.locator("dl.breakdown > div").all_inner_texts()
        shot(page, "pricing-order")
    finally:
        context.close()

    staff = make_staff(store, role="owner")
    context, page = _browser_page(chromium, live_server, web_password_login(staff.username, "m"), DESKTOP)
    try:
        page.goto(f"{live_server.url}/m/")
        card = page.locator(f"[data-order='{order.public_id}']")
        card.locator("summary").click()
        merchant_lines = card.locator("dl.breakdown > div").all_inner_texts()
        shot(page, "pricing-merchant-queue")
    finally:
        context.close()
    # The merchant sees the item line too; every other line and the total read the same.
    assert [t for t in merchant_lines if "麻辣小龙虾" not in t] == consumer_lines
    assert any("¥4.00" in t for t in consumer_lines) and any("¥188.00" in t for t in consumer_lines)
