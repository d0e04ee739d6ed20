"""In a real browser on a phone-sized screen: from a completed order, ask for a refund of one
item with a photo, see the request and its SLA, then (after the store agrees) see it refunded
on the timeline.

Debian's /usr/bin/chromium through Playwright (never a downloaded browser) against
pytest-django's live server. Screenshots: var/screenshots/aftersales-*.png.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from linli.accounts.models import User
from linli.aftersales import services
from linli.aftersales.models import AfterSalesRequest
from linli.payments.models import Refund
from tests.fixtures import make_staff, token_api
from tests.web.browser import PHONE, TIMEOUT_MS, shot, sms_code

from .helpers import paid_order, shop

CONSUMER_PHONE = "+8613800138789"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_consumer_asks_for_a_refund_and_follows_it(live_server, chromium, tmp_path):
    store, dish, _rice, _manager_api = shop(price_fen=2800)
    user = User.objects.create_user(username=CONSUMER_PHONE, phone=CONSUMER_PHONE)
    order = paid_order(token_api(user), store, dish, quantity=2)
    photo = tmp_path / "spilled.png"
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 60, 30)).save(out, format="PNG")
    photo.write_bytes(out.getvalue())
    url = live_server.url
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    page.goto(f"{url}/login?next=/orders/{order.public_id}")
    page.get_by_test_id("phone").fill(CONSUMER_PHONE)
    page.get_by_test_id("send-code").click()
    page.wait_for_selector("[data-testid=sent]")
    page.get_by_test_id("code").fill(sms_code(CONSUMER_PHONE))
    page.get_by_test_id("login").click()
    page.wait_for_url(f"{url}/orders/{order.public_id}")

    page.get_by_test_id("ask-aftersales").click()
    page.wait_for_url(f"{url}/orders/{order.public_id}/aftersales/new")
    assert page.get_by_test_id("kind-refund_only").is_checked()
    page.get_by_test_id("reason").select_option("damaged")
    page.get_by_test_id("qty-1").fill("1")
    page.get_by_test_id("amount").fill("12.50")
    page.get_by_test_id("description").fill("汤洒了一半")
    page.get_by_test_id("photos").set_input_files(str(photo))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    shot(page, "aftersales-form")
    page.get_by_test_id("submit-aftersales").click()
    page.wait_for_url(re.compile(r".*/aftersales/afs_\w+$"))
    request_id = page.url.rsplit("/", 1)[1]
    card = page.get_by_test_id("aftersales-request")
    assert card.get_attribute("data-status") == "submitted"
    assert page.get_by_test_id("asked").inner_text() == "¥12.50"
    assert page.get_by_test_id("sla").is_visible()
    assert page.locator(".review-photos img").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "aftersales-submitted")

    # The store agrees (its console or API); the consumer reloads and sees the refund.
    services.merchant_agree(actor=make_staff(store, role="manager"), request_id=request_id)
    page.reload()
    assert page.get_by_test_id("aftersales-request").get_attribute("data-status") == "refunded"
    assert page.get_by_test_id("refunded").inner_text() == "¥12.50"
    assert page.locator("[data-testid=timeline] li").count() == 3
    shot(page, "aftersales-refunded")
    assert AfterSalesRequest.objects.get(public_id=request_id).refunded_fen == 1250
    assert Refund.objects.get().amount_fen == 1250
    context.close()
