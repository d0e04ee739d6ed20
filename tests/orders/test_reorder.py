"""再来一单: POST /orders/{id}/reorder answers a cart (never an order) with today's prices and
availability, every line flagged, and the orderable lines place a new order as they are."""

from __future__ import annotations

import pytest

from linli.inventory.services import stock_set
from linli.merchants.models import Option, OptionGroup, Product, ProductVariant, Store
from linli.orders.models import Order, OrderEvent
from tests.fixtures import delivery_address, make_product, make_store
from tests.orders.lifecycle_helpers import buyer

pytestmark = pytest.mark.django_db


@pytest.fixture
def menu():
    store = make_store()
    rice = make_product(store, name="宫保鸡丁饭", price_fen=2800, stock=50)
    tea = make_product(store, name="奶茶", price_fen=1500, stock=50)
    large = ProductVariant.objects.create(product=tea, name="大杯", price_delta_fen=300)
    toppings = OptionGroup.objects.create(product=tea, name="加料", min_choices=0, max_choices=2)
    pearl = Option.objects.create(group=toppings, name="珍珠", price_delta_fen=100)
    soup = make_product(store, name="例汤", price_fen=600, stock=50)
    return store, {"rice": rice, "tea": tea, "soup": soup, "large": large, "pearl": pearl}


def _order(api, store, m) -> dict:
    answer = api.post("/orders", {
        "store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
        "note": "少辣", "utensils": 2,
        "items": [{"product_id": m["rice"].public_id, "quantity": 2},
                  {"product_id": m["tea"].public_id, "quantity": 1, "variant": m["large"].public_id,
                   "options": [m["pearl"].public_id]},
                  {"product_id": m["soup"].public_id, "quantity": 3}]},
        headers={"Idempotency-Key": "first"})
    assert answer.status_code == 201, answer.content
    return answer.json()


def _by_name(cart: dict) -> dict[str, dict]:
    return {line["name"]: line for line in cart["items"]}


def test_an_unchanged_menu_gives_back_the_same_cart_and_no_order(menu):
    store, m = menu
    api = buyer()
    order = _order(api, store, m)
    answer = api.post(f"/orders/{order['id']}/reorder")
    assert answer.status_code == 200, answer.content
    cart = answer.json()
    assert Order.objects.count() == 1 and OrderEvent.objects.count() == 1  # nothing placed
    assert (cart["store_id"], cart["store_open"], cart["fulfilment"]) == (store.public_id, True, "delivery")
    assert (cart["note"], cart["utensils"], cart["changed"]) == ("少辣", 2, False)
    assert cart["items_fen"] == order["items_fen"] == 2 * 2800 + 1900 + 3 * 600
    tea = _by_name(cart)["奶茶"]
    assert (tea["variant"], tea["options"], tea["choices_label"]) == (
        m["large"].public_id, [m["pearl"].public_id], "大杯 / 珍珠")
    assert {line["status"] for line in cart["items"]} == {"ok"}
    assert all(line["orderable"] for line in cart["items"])


def test_changes_since_are_flagged_line_by_line_with_todays_prices(menu):
    store, m = menu
    api = buyer()
    order = _order(api, store, m)
    Product.objects.filter(pk=m["rice"].pk).update(price_fen=3000)
    ProductVariant.objects.filter(pk=m["large"].pk).update(is_available=False)
    Product.objects.filter(pk=m["soup"].pk).update(is_sold_out=True)
    cart = api.post(f"/orders/{order['id']}/reorder").json()
    lines = _by_name(cart)
    assert (lines["宫保鸡丁饭"]["status"], lines["宫保鸡丁饭"]["unit_price_fen"],
            lines["宫保鸡丁饭"]["was_unit_price_fen"]) == ("price_changed", 3000, 2800)
    assert (lines["奶茶"]["status"], lines["奶茶"]["unit_price_fen"]) == ("choices_changed", None)
    assert (lines["例汤"]["status"], lines["例汤"]["orderable"]) == ("sold_out", False)
    assert cart["changed"] is True and cart["items_fen"] == 2 * 3000


@pytest.mark.parametrize(("change", "status"), [
    ("unlisted", "unavailable"),
    ("no_stock", "sold_out"),
    ("low_stock", "stock_low"),
    ("moved", "gone"),
    ("night_only", "not_available_now"),
    ("dearer_option", "price_changed"),
])
def test_each_kind_of_change(menu, change, status):
    store, m = menu
    api = buyer()
    order = _order(api, store, m)
    tea = m["tea"]
    if change == "unlisted":
        Product.objects.filter(pk=tea.pk).update(is_available=False)
    elif change == "no_stock":
        stock_set(product=tea, quantity=0)
    elif change == "low_stock":
        stock_set(product=m["rice"], quantity=1)
        tea = m["rice"]
    elif change == "moved":
        Product.objects.filter(pk=tea.pk).update(store=make_store(name="分店"))
    elif change == "night_only":
        Product.objects.filter(pk=tea.pk).update(availability=[["03:00", "03:01"]])
    elif change == "dearer_option":
        Option.objects.filter(pk=m["pearl"].pk).update(price_delta_fen=200)
    cart = api.post(f"/orders/{order['id']}/reorder").json()
    line = next(x for x in cart["items"] if x["product_id"] == tea.public_id)
    assert line["status"] == status
    assert line["orderable"] == (status == "price_changed")
    if status == "price_changed":
        assert (line["unit_price_fen"], line["was_unit_price_fen"]) == (2000, 1900)


def test_a_closed_store_is_said_and_the_lines_still_priced(menu):
    store, m = menu
    api = buyer()
    order = _order(api, store, m)
    Store.objects.filter(pk=store.pk).update(status=Store.Status.PAUSED)
    cart = api.post(f"/orders/{order['id']}/reorder").json()
    assert cart["store_open"] is False and cart["items_fen"] == order["items_fen"]


def test_the_cart_places_a_new_order_at_todays_prices(menu):
    store, m = menu
    api = buyer()
    order = _order(api, store, m)
    Product.objects.filter(pk=m["rice"].pk).update(price_fen=3000)
    api.post(f"/orders/{order['id']}/cancel", {})
    cart = api.post(f"/orders/{order['id']}/reorder").json()
    lines = [{"product_id": x["product_id"], "quantity": x["quantity"], "variant": x["variant"],
              "options": x["options"]} for x in cart["items"] if x["orderable"]]
    again = api.post("/orders", {"store_id": cart["store_id"], "fulfilment": cart["fulfilment"],
                                 "address": delivery_address(), "items": lines,
                                 "utensils": cart["utensils"], "note": cart["note"]},
                     headers={"Idempotency-Key": "again"})
    assert again.status_code == 201, again.content
    assert again.json()["items_fen"] == cart["items_fen"] == 2 * 3000 + 1900 + 3 * 600


def test_only_the_orders_own_consumer_may_reorder(menu):
    store, m = menu
    order = _order(buyer(), store, m)
    answer = buyer().post(f"/orders/{order['id']}/reorder")
    assert answer.status_code == 404 and answer.json()["code"] == "order_not_found"
    missing = buyer().post("/orders/ord_nope/reorder")
    assert missing.status_code == 404 and missing.json()["code"] == "order_not_found"
    assert Order.objects.count() == 1
