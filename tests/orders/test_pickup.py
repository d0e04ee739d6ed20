"""Store pickup (到店自取): the pickup code and its QR code on the consumer's order page, the
"ready for pickup" banner and notification hook when the store marks it ready, and the
merchant console's lookup by pickup code that hands the order over."""

from __future__ import annotations

import re

import pytest

from linli.orders.models import Order
from tests.fixtures import make_product, make_staff, make_store
from tests.orders.fulfilment_helpers import diner, pay_order, place, staff
from tests.web.helpers import web_password_login, web_sms_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store(name="一点点奶茶")
    product = make_product(store, name="波霸奶茶", price_fen=1300, stock=20)
    return store, product


def _web_pickup_order(browser, store, product) -> Order:
    browser.post(f"/stores/{store.public_id}/cart", {"product_id": product.public_id, "delta": 1})
    placed = browser.post(f"/stores/{store.public_id}/checkout",
                          {"fulfilment": "pickup", "idempotency_key": "pick-1", "note": ""})
    assert placed.status_code == 302 and placed["Location"].endswith("/pay"), placed.content  # the cashier
    assert "/pay/sandbox/" in browser.post(placed["Location"], {"method": "sandbox"})["Location"]
    order = Order.objects.get()
    assert pay_order_web(order) == "paid"
    return order


def pay_order_web(order: Order) -> str:
    from tests.orders.fulfilment_helpers import gateway_pays

    return gateway_pays(order.payments.get().public_id)


def test_the_order_page_shows_the_pickup_code_as_a_qr_code_and_the_ready_banner(shop):
    store, product = shop
    browser = web_sms_login("+8613800138061")
    order = _web_pickup_order(browser, store, product)
    page = browser.get(f"/orders/{order.public_id}").content.decode()
    assert order.pickup_code in page and 'data-testid="pickup-qr"' in page
    assert re.search(r'<svg role="img" aria-label="[^"]+"[^>]*class="qr"', page)
    assert 'data-ready-permission' in page and 'data-testid="ready-banner"' not in page

    kitchen = staff(store)
    for action in ("accept", "prepare", "ready"):
        assert kitchen.post(f"/merchant/orders/{order.public_id}/{action}", {}).status_code == 200
    # The live page re-reads its status part on the SSE event: the banner is in it.
    part = browser.get(f"/orders/{order.public_id}?part=status").content.decode()
    assert 'data-testid="ready-banner"' in part and 'data-ready-alert="' in part
    assert "一点点奶茶" in re.search(r'data-ready-alert="([^"]+)"', part).group(1)


def test_the_merchant_finds_the_order_by_its_code_and_marks_it_collected(shop):
    store, product = shop
    consumer = diner()
    order = place(consumer, store, product, key="k1", fulfilment="pickup").json()
    code = order["pickup_code"]
    assert re.fullmatch(r"\d{6}", code)
    assert pay_order(consumer, order["id"]) == "paid"
    kitchen = staff(store)
    found = kitchen.get(f"/merchant/stores/{store.public_id}/pickup-orders", {"code": code})
    assert found.status_code == 200 and [o["id"] for o in found.json()] == [order["id"]]
    assert found.json()[0]["pickup_code"] == code
    bad = kitchen.get(f"/merchant/stores/{store.public_id}/pickup-orders", {"code": "12"})
    assert bad.status_code == 400 and bad.json()["code"] == "pickup_code_invalid"
    stranger = staff(make_store(name="别家"))
    assert stranger.get(f"/merchant/stores/{store.public_id}/pickup-orders",
                        {"code": code}).status_code == 404  # another merchant's store: not found

    # In the console: the /m/ search box finds it; "Collected" hands it over once ready.
    console = web_password_login(make_staff(store).username, "m")
    assert 'data-testid="pickup-search"' in console.get("/m/").content.decode()
    page = console.get("/m/pickup", {"code": code}).content.decode()
    assert order["id"] in page and 'data-testid="collect"' not in page  # not ready yet
    for action in ("accept", "prepare", "ready"):
        assert kitchen.post(f"/merchant/orders/{order['id']}/{action}", {}).status_code == 200
    page = console.get("/m/pickup", {"code": code}).content.decode()
    assert 'data-testid="collect"' in page
    done = console.post(f"/m/orders/{order['id']}/collect", {"pickup_code": code})
    assert done.status_code == 302
    assert Order.objects.get(public_id=order["id"]).status == "completed"
    # A completed order is no longer live: the search says so.
    page = console.get("/m/pickup", {"code": code}).content.decode()
    assert 'data-testid="pickup-none"' in page
    assert console.get("/m/pickup", {"code": "abc"}).status_code == 400
