"""The pricing engine inside the order flow: the store's night surcharge and distance tiers,
per-unit product packaging, the breakdown stored on the order and shown the same to the
consumer (API and order page) and the merchant (API and queue), the night window set through
PATCH /merchant/stores/{id}, and `expected_total_fen` answered with 409 `price_changed`
and nothing written."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from linli.accounts.models import User
from linli.inventory import models as inventory_models
from linli.inventory.models import StockItem, StockMovement
from linli.orders.models import Order, OrderEvent, OrderItem
from linli.orders.services import order_transition_as
from tests.fixtures import (
    delivery_address,
    make_product,
    make_staff,
    make_store,
    sms_login,
    token_api,
)
from tests.merchants.test_onboarding import patch
from tests.web.helpers import web_password_login, web_sms_login

pytestmark = pytest.mark.django_db


def _window_around_now(store_tz: str = "Asia/Shanghai") -> tuple[str, str]:
    """A night window that holds the present moment in the store's zone (robust at any hour)."""
    local = timezone.now().astimezone(ZoneInfo(store_tz))
    return ((local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=1)).strftime("%H:%M"))


def _window_not_now(store_tz: str = "Asia/Shanghai") -> tuple[str, str]:
    local = timezone.now().astimezone(ZoneInfo(store_tz))
    return ((local + timedelta(hours=2)).strftime("%H:%M"), (local + timedelta(hours=4)).strftime("%H:%M"))


@pytest.fixture
def night_shop():
    start, end = _window_around_now()
    store = make_store(delivery_fee_fen=999, packaging_fee_fen=100, min_order_fen=2000,
                       delivery_fee_tiers=[{"max_m": 1000, "fee_fen": 300}, {"max_m": 3000, "fee_fen": 600}],
                       night_surcharge_fen=400, night_start=start, night_end=end)
    product = make_product(store, name="小龙虾", price_fen=3200, stock=10)
    product.packaging_fee_fen = 50
    product.save(update_fields=["packaging_fee_fen"])
    return store, product


def _body(store, product, quantity=2, **extra):
    # delivery_address() is ~470 m from the store: the first tier
    return {"store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
            "items": [{"product_id": product.public_id, "quantity": quantity}], **extra}


EXPECTED_LINES = [("item", 6400), ("packaging", 2 * 50 + 100), ("delivery", 300), ("surcharge", 400)]
EXPECTED_TOTAL = 6400 + 200 + 300 + 400


def test_an_order_at_night_carries_tier_fee_surcharge_and_per_unit_packaging(night_shop):
    store, product = night_shop
    consumer, _ = sms_login("13800138001")
    answer = consumer.post("/orders", _body(store, product), headers={"Idempotency-Key": "n1"})
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert [(x["kind"], x["amount_fen"]) for x in data["price_lines"]] == EXPECTED_LINES
    assert data["total_fen"] == EXPECTED_TOTAL == sum(x["amount_fen"] for x in data["price_lines"])
    order = Order.objects.get(public_id=data["id"])
    assert (order.items_fen, order.packaging_fee_fen, order.delivery_fee_fen, order.total_fen) == (
        6400, 200, 300, EXPECTED_TOTAL)
    assert [(x["kind"], x["amount_fen"]) for x in order.price_lines] == EXPECTED_LINES


def test_outside_the_window_there_is_no_surcharge(night_shop):
    store, product = night_shop
    store.night_start, store.night_end = _window_not_now()
    store.save(update_fields=["night_start", "night_end"])
    consumer, _ = sms_login("13800138002")
    answer = consumer.post("/orders", _body(store, product), headers={"Idempotency-Key": "n2"})
    assert answer.status_code == 201, answer.content
    assert "surcharge" not in [x["kind"] for x in answer.json()["price_lines"]]
    assert answer.json()["total_fen"] == EXPECTED_TOTAL - 400


def test_pickup_pays_neither_delivery_nor_surcharge(night_shop):
    store, product = night_shop
    consumer, _ = sms_login("13800138003")
    answer = consumer.post("/orders", {**_body(store, product, quantity=1), "fulfilment": "pickup",
                                       "address": None}, headers={"Idempotency-Key": "n3"})
    assert answer.status_code == 201, answer.content
    assert [(x["kind"], x["amount_fen"]) for x in answer.json()["price_lines"]] == [
        ("item", 3200), ("packaging", 150)]


# --- the price changed since the cart was built ----------------------------------------------------

def _nothing_written(product, stock=10):
    assert Order.objects.count() == 0 and OrderItem.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert StockItem.objects.get(product=product).quantity == stock
    assert StockMovement.objects.count() == 1  # only the stock set up by the fixture
    reservations = getattr(inventory_models, "StockReservation", None)  # (issue 5, inventory)
    assert reservations is None or not reservations.objects.exists()


def test_a_stale_expected_total_is_answered_with_the_new_price_and_nothing_is_written(night_shop):
    store, product = night_shop
    consumer, _ = sms_login("13800138004")
    stale = EXPECTED_TOTAL - 400  # the cart was priced before the night surcharge began
    answer = consumer.post("/orders", _body(store, product, expected_total_fen=stale),
                           headers={"Idempotency-Key": "p1"})
    assert answer.status_code == 409, answer.content
    error = answer.json()
    assert error["code"] == "price_changed"
    assert error["details"]["expected_total_fen"] == stale
    assert error["details"]["total_fen"] == EXPECTED_TOTAL
    assert [(x["kind"], x["amount_fen"]) for x in error["details"]["lines"]] == EXPECTED_LINES
    _nothing_written(product)

    # The client shows the new price; the buyer accepts it with the same key: placed once.
    again = consumer.post("/orders", _body(store, product, expected_total_fen=EXPECTED_TOTAL),
                          headers={"Idempotency-Key": "p1"})
    assert again.status_code == 201 and again.json()["total_fen"] == EXPECTED_TOTAL
    assert Order.objects.count() == 1


def test_a_price_change_of_a_product_is_caught(night_shop):
    store, product = night_shop
    consumer, _ = sms_login("13800138005")
    product.price_fen = 3500
    product.save(update_fields=["price_fen"])
    answer = consumer.post("/orders", _body(store, product, expected_total_fen=EXPECTED_TOTAL),
                           headers={"Idempotency-Key": "p2"})
    assert answer.status_code == 409 and answer.json()["details"]["total_fen"] == EXPECTED_TOTAL + 600
    _nothing_written(product)


def test_expected_total_must_be_a_non_negative_integer(night_shop):
    store, product = night_shop
    consumer, _ = sms_login("13800138006")
    answer = consumer.post("/orders", _body(store, product, expected_total_fen=-1),
                           headers={"Idempotency-Key": "p3"})
    assert answer.status_code == 422
    _nothing_written(product)


def test_without_expected_total_the_order_is_placed_at_the_fresh_price(night_shop):
    store, product = night_shop
    consumer, _ = sms_login("13800138007")
    answer = consumer.post("/orders", _body(store, product), headers={"Idempotency-Key": "p4"})
    assert answer.status_code == 201 and answer.json()["total_fen"] == EXPECTED_TOTAL


# --- consumer, merchant and the order page see the same lines ---------------------------------------

def test_consumer_and_merchant_see_the_same_breakdown_in_api_and_pages(night_shop):
    store, product = night_shop
    client = web_sms_login("13800138008")
    buyer = User.objects.get(phone="+8613800138008")
    consumer = token_api(buyer)
    placed = consumer.post("/orders", _body(store, product), headers={"Idempotency-Key": "s1"}).json()
    order = order_transition_as(order=Order.objects.get(public_id=placed["id"]), action="pay",
                                actor=None, role="system")
    staff = make_staff(store, role="owner")
    merchant_view = next(o for o in token_api(staff).get("/merchant/orders").json() if o["id"] == order.public_id)
    consumer_view = consumer.get(f"/orders/{order.public_id}").json()
    assert merchant_view["price_lines"] == consumer_view["price_lines"] == placed["price_lines"]

    page = client.get(f"/orders/{order.public_id}").content.decode()
    queue = web_password_login(staff.username, "m").get("/m/").content.decode()
    for body in (page, queue):
        assert 'data-line="surcharge"' in body and "¥4.00" in body  # night surcharge
        assert 'data-line="packaging"' in body and "¥2.00" in body
        assert 'data-testid="delivery-fee">¥3.00' in body
        assert f"¥{EXPECTED_TOTAL // 100}.{EXPECTED_TOTAL % 100:02d}" in body


def test_a_discount_line_renders_negative_in_the_shared_partial():
    from django.template.loader import render_to_string

    lines = [{"kind": "item", "label": "菜", "amount_fen": 3000, "quantity": 1},
             {"kind": "discount", "label": "满30减5", "amount_fen": -500, "quantity": 1,
              "ref": "prm_1", "target": "items"}]
    html = render_to_string("web/_price_lines.html", {"lines": lines, "total_fen": 2500, "with_items": True})
    assert "满30减5" in html and "-¥5.00" in html and 'class="discount"' in html and "¥25.00" in html


# --- the night window through PATCH /merchant/stores/{id} ------------------------------------------

@pytest.fixture
def owner_api():
    owner = User.objects.create_user(username="owner-pricing", password="x" * 12)
    store = make_store(owner=owner)
    return store, token_api(owner)


def test_owner_sets_the_night_surcharge_and_window(owner_api):
    store, api = owner_api
    answer = patch(api, f"/merchant/stores/{store.public_id}",
                       {"night_surcharge_fen": 300, "night_start": "21:30", "night_end": "05:00"})
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert (data["night_surcharge_fen"], data["night_start"], data["night_end"]) == (300, "21:30", "05:00")
    store.refresh_from_db()
    assert (store.night_surcharge_fen, store.night_start, store.night_end) == (300, "21:30", "05:00")
    # one end alone is checked against the other as stored
    assert patch(api, f"/merchant/stores/{store.public_id}", {"night_end": "23:00"}).status_code == 200


@pytest.mark.parametrize(("changes", "code"), [
    ({"night_start": "25:00"}, "invalid_night_window"),
    ({"night_start": "7:00"}, "invalid_night_window"),
    ({"night_end": "22:00"}, "invalid_night_window"),  # equal to the start: an empty window
    ({"night_start": "00:00", "night_end": "24:00"}, "invalid_night_window"),
    ({"night_surcharge_fen": -1}, "invalid_input"),
    ({"night_surcharge_fen": 100_001}, "invalid_input"),
])
def test_bad_night_settings_are_refused_and_change_nothing(owner_api, changes, code):
    store, api = owner_api
    answer = patch(api, f"/merchant/stores/{store.public_id}", {**changes, "prep_minutes": 30})
    assert answer.status_code == 422, answer.content
    assert answer.json()["code"] == code
    store.refresh_from_db()
    assert (store.night_surcharge_fen, store.night_start, store.night_end, store.prep_minutes) == (
        0, "22:00", "06:00", 15)


def test_a_cashier_cannot_set_the_surcharge(owner_api):
    store, _ = owner_api
    cashier = make_staff(store, role="cashier")
    answer = patch(token_api(cashier), f"/merchant/stores/{store.public_id}", {"night_surcharge_fen": 300})
    assert answer.status_code == 403
    store.refresh_from_db()
    assert store.night_surcharge_fen == 0
