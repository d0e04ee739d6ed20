"""Consumer H5, order extras and re-order (issue 5): utensils (0 = no utensils, the eco
choice) and an invoice request at checkout, checked as the API checks them (bad input: the
error with its code, nothing placed); "Re-order" on a completed order fills the store's cart
with the orderable lines and reports the others as the API does."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.inventory.services import stock_set
from linli.merchants.models import Product
from linli.orders.models import Order, OrderEvent
from linli.orders.services import order_transition_as
from tests.fixtures import make_product, make_store, token_api

from .helpers import web_sms_login

pytestmark = pytest.mark.django_db

USCC = "91350100M000100Y43"  # a unified social credit code with a correct check character
PHONE = "13800138061"


@pytest.fixture
def shop():
    store = make_store()
    return store, make_product(store, name="宫保鸡丁", price_fen=3200, stock=50)


def _add(client: Client, store, product, times: int = 1) -> None:
    for _ in range(times):
        assert client.post(f"/stores/{store.public_id}/cart",
                           {"product_id": product.public_id, "delta": 1}).status_code == 302


def _checkout(client: Client, store, **fields: str):
    page = client.get(f"/stores/{store.public_id}/checkout")
    assert page.status_code == 200
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(f"/stores/{store.public_id}/checkout",
                       {"idempotency_key": key, "fulfilment": "pickup", **fields})


# --- utensils and invoice at checkout ---------------------------------------------------------

def test_the_checkout_offers_utensils_and_an_invoice(shop):
    store, product = shop
    client = web_sms_login(PHONE)
    _add(client, store, product)
    page = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    assert 'name="utensils"' in page and '<option value="0"' in page and '<option value="20"' in page
    for name in ("invoice_title", "invoice_tax_no", "invoice_email"):
        assert f'name="{name}"' in page


@pytest.mark.parametrize(("utensils", "saved"), [("0", 0), ("2", 2), ("20", 20), ("", None)])
def test_utensils_are_saved_and_shown_on_the_order_page(shop, utensils, saved):
    store, product = shop
    client = web_sms_login(PHONE)
    _add(client, store, product)
    answer = _checkout(client, store, utensils=utensils)
    assert answer.status_code == 302, answer.content.decode()[:3000]
    order = Order.objects.get()
    assert order.utensils == saved
    page = client.get(f"/orders/{order.public_id}").content.decode()
    shown = re.search(r'data-testid="order-utensils">([^<]*)<', page)
    if saved is None:
        assert shown is None
    elif saved == 0:
        assert shown and not re.search(r"\d", shown.group(1))  # "no utensils (eco)", no count
    else:
        assert shown and shown.group(1).rstrip().endswith(f": {saved}")


def test_an_invoice_request_is_saved_with_the_tax_number_normalised(shop):
    store, product = shop
    client = web_sms_login(PHONE)
    _add(client, store, product)
    answer = _checkout(client, store, invoice_title=" 上海邻里网络科技有限公司 ",
                       invoice_tax_no=USCC.lower(), invoice_email="finance@linli.cn", utensils="1")
    assert answer.status_code == 302, answer.content.decode()[:3000]
    order = Order.objects.get()
    assert (order.invoice_title, order.invoice_tax_no, order.invoice_email) == (
        "上海邻里网络科技有限公司", USCC, "finance@linli.cn")
    page = client.get(f"/orders/{order.public_id}").content.decode()
    assert 'data-testid="order-invoice"' in page and USCC in page


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"utensils": "21"}, "utensils_invalid", "utensils"),
    ({"utensils": "-1"}, "utensils_invalid", "utensils"),
    ({"utensils": "two"}, "utensils_invalid", "utensils"),
    ({"utensils": "１"}, "utensils_invalid", "utensils"),
    ({"utensils": "1.5"}, "utensils_invalid", "utensils"),
    ({"invoice_tax_no": USCC, "invoice_email": "a@b.cn"}, "invoice_title_required", "invoice_title"),
    ({"invoice_email": "a@b.cn"}, "invoice_title_required", "invoice_title"),
    ({"invoice_title": "公司", "invoice_tax_no": "91350100M000100Y44", "invoice_email": "a@b.cn"},
     "invoice_tax_no_invalid", "invoice_tax_no"),
    ({"invoice_title": "公司", "invoice_tax_no": "12345", "invoice_email": "a@b.cn"},
     "invoice_tax_no_invalid", "invoice_tax_no"),
    ({"invoice_title": "公司", "invoice_email": "not-an-email"}, "invoice_email_invalid", "invoice_email"),
    ({"invoice_title": "公司"}, "invoice_email_invalid", "invoice_email"),
    ({"invoice_title": "公" * 101, "invoice_email": "a@b.cn"}, "invalid_input", "invoice_title"),
])
def test_bad_extras_show_the_apis_error_keep_the_form_and_place_nothing(shop, fields, code, field):
    store, product = shop
    client = web_sms_login(PHONE)
    _add(client, store, product)
    answer = _checkout(client, store, **fields)
    html = answer.content.decode()
    assert answer.status_code == 422 and f'data-code="{code}"' in html, html[:3000]
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', html) or (
        field == "utensils" and 'name="utensils" data-testid="utensils" aria-invalid="true"' in html)
    for name, value in fields.items():
        if name.startswith("invoice_") and value:
            assert f'value="{value}"' in html  # what was typed is kept
    if field.startswith("invoice_"):
        assert 'data-testid="invoice" open' in html
    assert not Order.objects.exists() and not OrderEvent.objects.exists()
    # the cart is still there: placing with good extras works
    assert _checkout(client, store, utensils="0").status_code == 302
    assert Order.objects.count() == 1


# --- re-order (再来一单) ------------------------------------------------------------------------

def _completed_order(client: Client, store, items: list[tuple[Product, int]]) -> Order:
    for product, quantity in items:
        _add(client, store, product, quantity)
    answer = _checkout(client, store, note="少辣", utensils="0")
    assert answer.status_code == 302, answer.content.decode()[:3000]
    order = Order.objects.filter(consumer__phone="+86" + PHONE).latest("id")
    for action, role in (("pay", "system"), ("accept", "merchant"), ("prepare", "merchant"),
                         ("ready", "merchant"), ("collect", "merchant")):
        order = order_transition_as(order=order, action=action, actor=None, role=role)
    assert order.status == "completed"
    return order


def test_reorder_fills_the_cart_and_reports_what_changed(shop):
    store, product = shop
    soup = make_product(store, name="酸辣汤", price_fen=800, stock=50)
    tea = make_product(store, name="柠檬茶", price_fen=1200, stock=50)
    client = web_sms_login(PHONE)
    order = _completed_order(client, store, [(product, 2), (soup, 1), (tea, 1)])
    page = client.get(f"/orders/{order.public_id}").content.decode()
    assert 'data-testid="reorder"' in page and f'action="/orders/{order.public_id}/reorder"' in page
    # since then: the soup costs more, the tea is sold out
    Product.objects.filter(pk=soup.pk).update(price_fen=900)
    stock_set(product=tea, quantity=0)
    client.post(f"/stores/{store.public_id}/cart", {"product_id": product.public_id, "delta": 1})  # stale cart
    answer = client.post(f"/orders/{order.public_id}/reorder")
    assert answer.status_code == 302 and answer["Location"] == f"/stores/{store.public_id}#cart"
    store_page = client.get(f"/stores/{store.public_id}").content.decode()
    assert 'data-testid="reorder-notice"' in store_page
    lines = dict(re.findall(r'data-testid="reorder-line" data-status="([a-z_]+)"><span>([^<]+)', store_page))
    assert set(lines) == {"price_changed", "sold_out"}
    assert lines["price_changed"].startswith("酸辣汤") and lines["sold_out"].startswith("柠檬茶")
    assert "¥8.00 → ¥9.00" in store_page
    # the cart holds exactly the orderable lines (the stale one was replaced), at today's prices
    api = token_api(User.objects.get(phone="+86" + PHONE)).post(f"/orders/{order.public_id}/reorder", {})
    assert [i["status"] for i in api.json()["items"]] == ["ok", "price_changed", "sold_out"]
    cart = client.session["web_carts"][store.public_id]
    assert sorted((line["p"], line["q"]) for line in cart.values()) == sorted(
        [(product.public_id, 2), (soup.public_id, 1)])
    assert "¥9.00" in store_page  # the soup at today's price in the cart
    # shown once
    assert 'data-testid="reorder-notice"' not in client.get(f"/stores/{store.public_id}").content.decode()
    # the checkout is prefilled with the old note and utensils; placing it orders the two lines
    checkout = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    assert 'value="少辣"' in checkout and '<option value="0" selected>' in checkout
    answer = _checkout(client, store, note="少辣", utensils="0")
    assert answer.status_code == 302
    again = Order.objects.latest("id")
    assert sorted((i.name, i.quantity, i.unit_price_fen) for i in again.items.all()) == [
        ("宫保鸡丁", 2, 3200), ("酸辣汤", 1, 900)]


def test_reorder_only_on_completed_orders_and_only_ones_own(shop):
    store, product = shop
    client = web_sms_login(PHONE)
    _add(client, store, product)
    _checkout(client, store)
    unpaid = Order.objects.get()
    assert 'data-testid="reorder"' not in client.get(f"/orders/{unpaid.public_id}").content.decode()
    stranger = web_sms_login("13800138062")
    assert stranger.post(f"/orders/{unpaid.public_id}/reorder").status_code == 404
    assert stranger.post("/orders/ord_nope/reorder").status_code == 404
    assert client.get(f"/orders/{unpaid.public_id}/reorder").status_code == 405
    assert Client().post(f"/orders/{unpaid.public_id}/reorder").status_code == 302  # to login
    assert "web_carts" not in stranger.session or not stranger.session["web_carts"]


def test_reorder_with_nothing_orderable_leaves_an_empty_cart_and_says_why(shop):
    store, product = shop
    client = web_sms_login(PHONE)
    order = _completed_order(client, store, [(product, 1)])
    Product.objects.filter(pk=product.pk).update(is_available=False)
    assert client.post(f"/orders/{order.public_id}/reorder").status_code == 302
    page = client.get(f"/stores/{store.public_id}").content.decode()
    assert 'data-status="unavailable"' in page and 'data-testid="reorder-notice"' in page
    assert client.session["web_carts"].get(store.public_id) is None


# --- a pending cancel request says when it is approved by itself ------------------------------

def test_a_pending_cancel_request_shows_when_it_is_approved_automatically(shop):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from linli.orders.models import StoreOrderSettings

    store, product = shop
    StoreOrderSettings.objects.create(store=store, cancel_request_timeout_minutes=7)
    client = web_sms_login(PHONE)
    _add(client, store, product)
    _checkout(client, store)
    order = Order.objects.get()
    for action in ("pay", "accept"):
        order = order_transition_as(order=order, action=action, actor=None, role="merchant"
                                    if action == "accept" else "system")
    assert 'data-testid="cancel-deadline"' not in client.get(f"/orders/{order.public_id}").content.decode()
    api = token_api(User.objects.get(phone="+86" + PHONE))
    assert api.post(f"/orders/{order.public_id}/cancel-request", {"reason": "点错了"}).status_code == 200
    order.refresh_from_db()
    page = client.get(f"/orders/{order.public_id}").content.decode()
    due = (order.cancel_request_at + timedelta(minutes=7)).astimezone(ZoneInfo(store.timezone))
    shown = re.search(r'data-testid="cancel-deadline">([^<]+)<', page)
    assert shown and due.strftime("%H:%M") in shown.group(1)
