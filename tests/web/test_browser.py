"""End to end in a real browser: a consumer finds a store by pinyin, orders and pays; the
merchant console receives the order live and moves it on; the rider sees the task arrive
live and delivers it; the consumer's open order page follows every step live, without a reload.

Drives Debian's /usr/bin/chromium through Playwright (never a downloaded browser) against
pytest-django's live server (WSGI in a thread: the SSE views stream from a blocking
generator there). Screenshots of each page at phone and desktop width go to
var/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from linli.accounts.models import User
from linli.delivery.models import DeliveryTask, Rider
from tests.fixtures import PASSWORD, make_product, make_staff, make_store
from tests.web.browser import DESKTOP, PHONE, TIMEOUT_MS, shot, sms_code, submit

CONSUMER_PHONE = "+8613800138123"
RIDER_PHONE = "+8613700137123"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_order_from_search_to_delivery_live_on_every_surface(live_server, chromium):
    store = make_store(name="老王家常菜")
    product = make_product(store, name="宫保鸡丁", price_fen=3200)
    staff = make_staff(store)
    rider_user = User.objects.create_user(username=RIDER_PHONE, phone=RIDER_PHONE, password=PASSWORD)
    Rider.objects.create(user=rider_user, city_code="shanghai", name="骑手小李")
    url = live_server.url

    def context(viewport):
        ctx = chromium.new_context(viewport=viewport, locale="zh-CN")
        ctx.set_default_timeout(TIMEOUT_MS)
        return ctx

    # The rider goes online near the store (manual location: no geolocation in the test).
    rider = context(PHONE).new_page()
    rider.goto(f"{url}/r/")
    shot(rider, "rider-login")
    rider.get_by_test_id("login-name").fill(RIDER_PHONE)
    rider.get_by_test_id("password").fill(PASSWORD)
    rider.get_by_test_id("login").click()
    rider.get_by_test_id("rider-lat").fill("31.2310")
    rider.get_by_test_id("rider-lng").fill("121.4740")
    rider.get_by_test_id("go-online").click()
    rider.wait_for_selector("[data-testid=go-offline]")
    rider.wait_for_selector("#tasks[data-live=open]")
    rider.evaluate("window.__noReload = true")

    # The merchant console is open and listening before the order exists.
    merchant = context(DESKTOP).new_page()
    merchant.goto(f"{url}/m/")
    shot(merchant, "merchant-login")
    merchant.get_by_test_id("login-name").fill(staff.username)
    merchant.get_by_test_id("password").fill(PASSWORD)
    merchant.get_by_test_id("login").click()
    merchant.wait_for_selector("#queue[data-live=open]")
    merchant.evaluate("window.__noReload = true")
    shot(merchant, "merchant-console-empty")

    # The consumer logs in by SMS code, finds the store by pinyin, orders and pays.
    consumer = context(PHONE).new_page()
    consumer.goto(f"{url}/login?next=/")
    consumer.get_by_test_id("phone").fill(CONSUMER_PHONE)
    consumer.get_by_test_id("send-code").click()
    consumer.wait_for_selector("[data-testid=sent]")
    shot(consumer, "consumer-login")
    consumer.get_by_test_id("code").fill(sms_code(CONSUMER_PHONE))
    consumer.get_by_test_id("login").click()
    consumer.wait_for_url(f"{url}/")
    shot(consumer, "consumer-home")
    consumer.get_by_test_id("search-input").fill("laowang")
    consumer.get_by_test_id("search-input").press("Enter")
    consumer.wait_for_url(re.compile(r".*/search\?q=laowang"))
    shot(consumer, "consumer-search")
    consumer.get_by_test_id("results").get_by_text("老王家常菜").click()
    consumer.wait_for_selector("[data-testid=store-name]")
    consumer.get_by_test_id("add").first.click()
    consumer.wait_for_selector("[data-testid=breakdown]")
    shot(consumer, "consumer-store")
    consumer.get_by_test_id("checkout").click()
    consumer.get_by_test_id("address").fill("黄浦区人民大道 200 号")
    consumer.get_by_test_id("contact-name").fill("张三")
    shot(consumer, "consumer-checkout")
    consumer.get_by_test_id("place").click()
    consumer.wait_for_url(re.compile(r".*/orders/ord_\w+/pay$"))  # the cashier (收银台)
    shot(consumer, "consumer-cashier")
    consumer.get_by_test_id("method-sandbox").click()
    consumer.get_by_test_id("pay-submit").click()
    consumer.wait_for_url(re.compile(r".*/pay/sandbox/.*"))
    shot(consumer, "sandbox-cashier")
    consumer.get_by_test_id("pay").click()
    consumer.wait_for_url(re.compile(r".*/orders/ord_\w+$"))
    status = consumer.get_by_test_id("order-status")
    assert status.get_attribute("data-status") == "paid"
    consumer.wait_for_selector("#order-status[data-live=open]")
    consumer.evaluate("window.__noReload = true")
    shot(consumer, "consumer-order-paid")
    order_id = consumer.url.rsplit("/", 1)[1]

    # The console shows the paid order without a reload, then the staff move it on.
    merchant.wait_for_selector(f"[data-testid=queue-order][data-order={order_id}]")
    assert merchant.evaluate("window.__noReload") is True
    shot(merchant, "merchant-console-new-order")
    for action, status_after in (("accept", "accepted"), ("prepare", "preparing"), ("ready", "ready")):
        submit(merchant, merchant.get_by_test_id(action))
        merchant.wait_for_selector(f"[data-testid=queue-order][data-status={status_after}]")
        consumer.wait_for_selector(f"[data-testid=order-status][data-status={status_after}]")
    shot(merchant, "merchant-console-ready")

    # The rider was assigned on accept and the task appeared without a reload.
    rider.wait_for_selector("[data-testid=task][data-status=assigned]")
    assert rider.evaluate("window.__noReload") is True
    submit(rider, rider.get_by_test_id("accept"))
    rider.wait_for_selector("[data-testid=task][data-status=accepted]")
    # the store's queue shows the rider coming
    merchant.wait_for_selector("[data-testid=rider-coming]")
    submit(rider, rider.get_by_test_id("pickup"))
    consumer.wait_for_selector("[data-testid=order-status][data-status=delivering]")
    rider.wait_for_selector("[data-testid=deliver]")
    shot(rider, "rider-task")
    # Handing over needs the consumer's delivery code, read from their order.
    code = DeliveryTask.objects.get(order__public_id=order_id).delivery_code
    rider.get_by_test_id("delivery-code").fill(code)
    submit(rider, rider.get_by_test_id("deliver"))
    rider.wait_for_selector("[data-testid=delivered-today]:text('1')")
    shot(rider, "rider-delivered")

    # The consumer's page followed every step live and now shows "delivered".
    consumer.wait_for_selector("[data-testid=order-status][data-status=delivered]")
    assert consumer.evaluate("window.__noReload") is True
    shot(consumer, "consumer-order-delivered")
    assert product.name in consumer.content()
