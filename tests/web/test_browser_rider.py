"""The rider app in a real browser at phone width: a task arrives live, the rider marks
arrival and pickup, types the consumer's delivery code on the keypad (a wrong one first,
shown on the card) and sees today's earnings. Screenshots at 375 and 1280 px go to
var/screenshots/rider-*.png.

Same setup as tests/web/test_browser.py: Debian's /usr/bin/chromium through Playwright
against pytest-django's live server.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from linli.accounts.models import User
from linli.delivery.models import DeliveryTask, Rider
from linli.orders.services import (
    AddressInput,
    LineInput,
    order_act,
    order_place,
    order_transition_as,
)
from tests.fixtures import (
    PASSWORD,
    delivery_address,
    make_product,
    make_staff,
    make_store,
    token_api,
)
from tests.web.browser import PHONE, TIMEOUT_MS, shot, submit

RIDER_PHONE = "+8613700137456"
CONSUMER_PHONE = "+8613800138456"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _paid_order(product, consumer: User):
    order = order_place(consumer=consumer, store_id=product.store.public_id,
                        lines=[LineInput(product_id=product.public_id, quantity=2)],
                        fulfilment="delivery", address=AddressInput(**delivery_address()),
                        idempotency_key="browser-rider").order
    with transaction.atomic():  # it locks the order row, as the payment callback does
        return order_transition_as(order=order, action="pay", actor=None, role="system")


def test_rider_arrives_picks_up_enters_the_code_and_sees_earnings(live_server, chromium):
    store = make_store(name="老王家常菜", prep_minutes=10)
    product = make_product(store, name="宫保鸡丁", price_fen=3200)
    staff = make_staff(store)
    rider_user = User.objects.create_user(username=RIDER_PHONE, phone=RIDER_PHONE, password=PASSWORD)
    Rider.objects.create(user=rider_user, city_code="shanghai", name="骑手小李")
    consumer = User.objects.create_user(username=CONSUMER_PHONE, phone=CONSUMER_PHONE)

    ctx = chromium.new_context(viewport=PHONE, locale="zh-CN")
    ctx.set_default_timeout(TIMEOUT_MS)
    rider = ctx.new_page()
    rider.goto(f"{live_server.url}/r/")
    rider.get_by_test_id("login-name").fill(RIDER_PHONE)
    rider.get_by_test_id("password").fill(PASSWORD)
    rider.get_by_test_id("login").click()
    rider.get_by_test_id("rider-lat").fill("31.2310")
    rider.get_by_test_id("rider-lng").fill("121.4740")
    rider.get_by_test_id("go-online").click()
    rider.wait_for_selector("[data-testid=go-offline]")
    rider.wait_for_selector("#tasks[data-live=open]")
    rider.evaluate("window.__noReload = true")
    shot(rider, "rider-app-empty")

    # The store accepts: the task reaches the open page live, with its deadlines ticking.
    order = _paid_order(product, consumer)
    order_act(order_id=order.public_id, actor=staff, action="accept")
    card = rider.wait_for_selector("[data-testid=task][data-status=assigned]")
    assert rider.evaluate("window.__noReload") is True
    assert "老王家常菜" in card.inner_text() and "人民大道" in card.inner_text()
    countdown = rider.get_by_test_id("pickup-countdown")
    first = countdown.inner_text()
    rider.wait_for_function("t => document.querySelector('[data-testid=pickup-countdown]').textContent !== t", arg=first)
    assert rider.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing overflows at 375 px
    shot(rider, "rider-app-assigned")

    submit(rider, rider.get_by_test_id("accept"))
    rider.wait_for_selector("[data-testid=task][data-status=accepted]")
    submit(rider, rider.get_by_test_id("arrive"))
    rider.wait_for_selector("[data-testid=task][data-status=arrived]")
    for action in ("prepare", "ready"):
        order_act(order_id=order.public_id, actor=staff, action=action)
    submit(rider, rider.get_by_test_id("pickup"))
    rider.wait_for_selector("[data-testid=task][data-status=picked_up]")

    # The consumer reads the code from their order; the rider mistypes once, then keys it in.
    code = token_api(consumer).get(f"/orders/{order.public_id}").json()["delivery"]["delivery_code"]
    assert code == DeliveryTask.objects.get(order=order).delivery_code
    wrong = f"{(int(code) + 1) % 10_000:04d}"
    rider.get_by_test_id("delivery-code").fill(wrong)
    submit(rider, rider.get_by_test_id("deliver"))
    error = rider.wait_for_selector("[data-testid=task] [data-testid=error][data-code=delivery_code_mismatch]")
    assert error.is_visible()
    shot(rider, "rider-app-wrong-code")
    for digit in code:
        rider.locator(f"[data-key='{digit}']").click()
    assert rider.get_by_test_id("delivery-code").input_value() == code
    shot(rider, "rider-app-code")
    submit(rider, rider.get_by_test_id("deliver"))

    rider.wait_for_selector("[data-testid=delivered-today]:text('1')")
    task = DeliveryTask.objects.get(order=order)
    assert task.status == "delivered" and task.rider_fee_fen > 0
    fee = f"¥{task.rider_fee_fen // 100}.{task.rider_fee_fen % 100:02d}"
    assert rider.get_by_test_id("earnings-today").inner_text() == fee
    assert "老王家常菜" in rider.get_by_test_id("earnings-list").inner_text()
    shot(rider, "rider-app-earnings")
    ctx.close()
