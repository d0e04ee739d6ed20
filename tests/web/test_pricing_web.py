"""Pricing on the H5 pages: the cart drawer and checkout show the engine's lines (per-unit
packaging, tiers by distance), and a checkout whose shown total went stale is answered with
`price_changed` and the new price, never charged silently."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from linli.accounts.models import Address, User
from linli.orders.models import Order, OrderItem
from tests.fixtures import make_product, make_store, next_phone

from .helpers import web_sms_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store(delivery_fee_tiers=[{"max_m": 1000, "fee_fen": 300}, {"max_m": 3000, "fee_fen": 600}],
                       packaging_fee_fen=100)
    product = make_product(store, name="酸菜鱼", price_fen=4000)
    product.packaging_fee_fen = 150
    product.save(update_fields=["packaging_fee_fen"])
    return store, product


def _add(client: Client, store, product, times: int = 1) -> None:
    for _ in range(times):
        assert client.post(f"/stores/{store.public_id}/cart",
                           {"product_id": product.public_id, "delta": 1}).status_code == 302


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def _buyer_with_address(phone: str) -> tuple[Client, Address]:
    client = web_sms_login(phone)
    user = User.objects.get(phone=f"+86{phone}")
    address = Address.objects.create(user=user, text="黄浦区人民大道 200 号", lat=31.2330, lng=121.4760,
                                     contact_name="张三", contact_phone="+8613912345678", is_default=True,
                                     located_by="device")
    return client, address


def test_store_cart_shows_per_unit_packaging_and_the_nearest_tier(shop):
    store, product = shop
    client = web_sms_login(next_phone())
    _add(client, store, product, times=2)
    page = client.get(f"/stores/{store.public_id}").content.decode()
    assert 'data-line="packaging"' in page and "¥4.00" in page  # 2 × 1.50 + 1.00
    assert 'data-testid="delivery-fee">¥3.00' in page
    assert 'data-testid="total">¥87.00' in page  # 80 + 4 + 3


def test_a_stale_checkout_total_is_refused_with_the_new_price_then_placed(shop):
    store, product = shop
    client, address = _buyer_with_address("13912340001")
    _add(client, store, product)
    page = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    shown = _hidden(page, "shown_totals")
    assert f"{address.public_id}:4550" in shown  # 40 + 2.50 packaging + 3 (first tier)
    form = {"idempotency_key": _hidden(page, "idempotency_key"), "fulfilment": "delivery",
            "address_id": address.public_id, "shown_totals": shown, "note": ""}

    product.price_fen = 4200  # the merchant reprices while the buyer looks at the page
    product.save(update_fields=["price_fen"])
    answer = client.post(f"/stores/{store.public_id}/checkout", form)
    assert answer.status_code == 409
    body = answer.content.decode()
    assert 'data-code="price_changed"' in body
    assert 'data-testid="total">¥47.50' in body  # the new price, shown
    assert Order.objects.count() == 0 and OrderItem.objects.count() == 0

    retry = {**form, "shown_totals": _hidden(body, "shown_totals")}
    placed = client.post(f"/stores/{store.public_id}/checkout", retry)
    assert placed.status_code == 302
    assert Order.objects.get().total_fen == 4750


def test_pickup_total_is_checked_too(shop):
    store, product = shop
    client, _ = _buyer_with_address("13912340002")
    _add(client, store, product)
    page = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    form = {"idempotency_key": _hidden(page, "idempotency_key"), "fulfilment": "pickup",
            "address_id": "new", "shown_totals": "pickup:100", "note": ""}
    answer = client.post(f"/stores/{store.public_id}/checkout", form)
    assert answer.status_code == 409 and Order.objects.count() == 0
    form["shown_totals"] = _hidden(page, "shown_totals")
    assert client.post(f"/stores/{store.public_id}/checkout", form).status_code == 302
    assert Order.objects.get().total_fen == 4000 + 250


def test_a_form_without_shown_totals_is_priced_fresh(shop):
    store, product = shop
    client, address = _buyer_with_address("13912340003")
    _add(client, store, product)
    page = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    form = {"idempotency_key": _hidden(page, "idempotency_key"), "fulfilment": "delivery",
            "address_id": address.public_id, "note": "", "shown_totals": "garbage,:,x:y"}
    assert client.post(f"/stores/{store.public_id}/checkout", form).status_code == 302
    assert Order.objects.get().total_fen == 4550


# --- the merchant console sets the night surcharge ---------------------------------------------------

def _console_form(**changes) -> dict[str, str]:
    from tests.web.test_merchant_store import form

    return form(**{"night_surcharge": "3.50", "night_start": "22:30", "night_end": "05:30", **changes})


def test_the_console_saves_the_night_surcharge_and_window():
    from tests.web.test_merchant_store import console

    store = make_store()
    client = console(store, "owner")
    assert 'data-testid="night-surcharge"' in client.get("/m/store").content.decode()
    answer = client.post("/m/store/save", _console_form())
    assert answer.status_code == 302, answer.content.decode()[:2000]
    store.refresh_from_db()
    assert (store.night_surcharge_fen, store.night_start, store.night_end) == (350, "22:30", "05:30")
    page = client.get("/m/store").content.decode()
    assert 'value="3.50"' in page and 'value="22:30"' in page and 'value="05:30"' in page


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"night_start": "9pm"}, "invalid_night_window", "night_start"),
    ({"night_end": "22:30"}, "invalid_night_window", "night_end"),
    ({"night_surcharge": "-1"}, "invalid_input", "night_surcharge"),
    ({"night_surcharge": "abc"}, "invalid_input", "night_surcharge"),
])
def test_bad_night_settings_show_by_the_field_and_save_nothing(changes, code, field):
    from tests.web.test_merchant_store import console

    store = make_store()
    answer = console(store, "manager").post("/m/store/save", _console_form(**changes))
    html = answer.content.decode()
    assert answer.status_code == 422 and f'data-code="{code}"' in html and f'data-field="{field}"' in html
    store.refresh_from_db()
    assert (store.night_surcharge_fen, store.night_start, store.night_end, store.prep_minutes) == (
        0, "22:00", "06:00", 15)
