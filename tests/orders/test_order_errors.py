"""Bad orders get a precise 4xx {code, message} and leave nothing behind:
no order row, no order line, no stock taken."""

from __future__ import annotations

import pytest

from linli.inventory.models import StockItem, StockMovement
from linli.merchants.hours import every_day
from linli.orders.models import Order, OrderItem
from tests.fixtures import (
    Api,
    delivery_address,
    make_product,
    make_staff,
    make_store,
    password_login,
    sms_login,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store(min_order_fen=2000)
    return store, make_product(store, price_fen=3200, stock=5)


@pytest.fixture
def consumer() -> Api:
    return sms_login("13800138000")[0]


def _body(store, product, **overrides):
    body = {"store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
            "items": [{"product_id": product.public_id, "quantity": 1}]}
    body.update(overrides)
    return body


def _assert_nothing_written(product, stock: int = 5) -> None:
    assert Order.objects.count() == 0
    assert OrderItem.objects.count() == 0
    assert StockItem.objects.get(product=product).quantity == stock
    assert not StockMovement.objects.filter(reason="order").exists()


def _other_store_product():
    other = make_store(name="别家店", lat=31.2350, lng=121.4800)
    return make_product(other, name="别家的菜")


CASES = [
    ("empty item list", lambda s, p: {"items": []}, 422, "empty_cart"),
    ("quantity 0", lambda s, p: {"items": [{"product_id": p.public_id, "quantity": 0}]}, 422, "invalid_quantity"),
    ("negative quantity", lambda s, p: {"items": [{"product_id": p.public_id, "quantity": -3}]}, 422, "invalid_quantity"),
    ("quantity above stock", lambda s, p: {"items": [{"product_id": p.public_id, "quantity": 6}]}, 409, "stock_insufficient"),
    ("same product twice adds up above stock",
     lambda s, p: {"items": [{"product_id": p.public_id, "quantity": 3}, {"product_id": p.public_id, "quantity": 3}]},
     409, "stock_insufficient"),
    ("unknown product", lambda s, p: {"items": [{"product_id": "prd_nope", "quantity": 1}]}, 422, "product_not_found"),
    ("product of another store",
     lambda s, p: {"items": [{"product_id": _other_store_product().public_id, "quantity": 1}]}, 422, "product_not_in_store"),
    ("unknown store", lambda s, p: {"store_id": "sto_nope"}, 404, "store_not_found"),
    ("address outside delivery radius", lambda s, p: {"address": delivery_address(lat=31.30, lng=121.50)}, 422, "address_out_of_range"),
    ("delivery without address", lambda s, p: {"address": None}, 422, "address_required"),
    ("bad contact phone", lambda s, p: {"address": {**delivery_address(), "contact_phone": "12345"}}, 422, "invalid_phone"),
    ("unknown fulfilment", lambda s, p: {"fulfilment": "teleport"}, 422, "invalid_input"),
    ("latitude out of range", lambda s, p: {"address": {**delivery_address(), "lat": 91}}, 422, "invalid_input"),
    ("quantity not a number", lambda s, p: {"items": [{"product_id": p.public_id, "quantity": "two"}]}, 422, "invalid_input"),
]


@pytest.mark.parametrize(("label", "change", "status", "code"), CASES, ids=[c[0] for c in CASES])
def test_bad_order_is_refused_and_leaves_nothing(shop, consumer, label, change, status, code):
    store, product = shop
    overrides = change(store, product)
    answer = consumer.post("/orders", _body(store, product, **overrides), headers={"Idempotency-Key": label})
    assert answer.status_code == status, answer.content
    error = answer.json()
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    _assert_nothing_written(product)


def test_delivery_below_minimum_order_is_refused_but_pickup_is_not(shop, consumer):
    store, product = shop
    rice = make_product(store, name="米饭", price_fen=300, stock=5)
    cheap = {"items": [{"product_id": rice.public_id, "quantity": 1}]}
    answer = consumer.post("/orders", _body(store, product, **cheap), headers={"Idempotency-Key": "min"})
    assert answer.status_code == 422 and answer.json()["code"] == "below_minimum_order"
    assert answer.json()["details"] == {"min_order_fen": 2000, "items_fen": 300}
    _assert_nothing_written(product)
    pickup = _body(store, product, fulfilment="pickup", address=None, **cheap)
    assert consumer.post("/orders", pickup, headers={"Idempotency-Key": "min-p"}).status_code == 201


def test_closed_store_refuses_orders(consumer):
    store = make_store(hours=[[] for _ in range(7)])  # no opening periods at all
    product = make_product(store, stock=5)
    answer = consumer.post("/orders", _body(store, product), headers={"Idempotency-Key": "closed"})
    assert answer.status_code == 409 and answer.json()["code"] == "store_closed"
    _assert_nothing_written(product)


def test_paused_store_refuses_orders(consumer):
    store = make_store(status="paused", hours=every_day(("00:00", "24:00")))
    product = make_product(store, stock=5)
    answer = consumer.post("/orders", _body(store, product), headers={"Idempotency-Key": "paused"})
    assert answer.json()["code"] == "store_closed"
    _assert_nothing_written(product)


def test_order_without_idempotency_key_is_refused(shop, consumer):
    store, product = shop
    answer = consumer.post("/orders", _body(store, product))
    assert answer.status_code == 400 and answer.json()["code"] == "idempotency_key_missing"
    _assert_nothing_written(product)


def test_reusing_an_idempotency_key_for_another_order_is_refused(shop, consumer):
    store, product = shop
    first = consumer.post("/orders", _body(store, product), headers={"Idempotency-Key": "same"})
    assert first.status_code == 201
    other = _body(store, product, items=[{"product_id": product.public_id, "quantity": 2}])
    answer = consumer.post("/orders", other, headers={"Idempotency-Key": "same"})
    assert answer.status_code == 409 and answer.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1
    assert StockItem.objects.get(product=product).quantity == 4


def test_messages_follow_the_requested_language(shop):
    store, product = shop
    zh, _ = sms_login("13800138000")
    en = Api(token=zh.token, language="en")
    body = _body(store, product, items=[])
    assert en.post("/orders", body, headers={"Idempotency-Key": "x"}).json()["message"] == "The order has no items."
    assert zh.post("/orders", body, headers={"Idempotency-Key": "x"}).json()["message"] == "订单里没有商品。"


def _placed(consumer, store, product):
    answer = consumer.post("/orders", _body(store, product), headers={"Idempotency-Key": "ok"})
    assert answer.status_code == 201
    return answer.json()["id"]


def test_another_users_order_is_invisible(shop, consumer):
    store, product = shop
    order_id = _placed(consumer, store, product)
    stranger, _ = sms_login("13800138999")
    for answer in (stranger.get(f"/orders/{order_id}"), stranger.post(f"/orders/{order_id}/cancel", {}),
                   stranger.post(f"/orders/{order_id}/payments", {})):
        assert answer.status_code == 404 and answer.json()["code"] == "order_not_found"
    assert Order.objects.get().status == "pending_payment"


def test_merchant_cannot_act_on_another_merchants_order(shop, consumer):
    store, product = shop
    order_id = _placed(consumer, store, product)
    Order.objects.filter(public_id=order_id).update(status="paid")
    other_store = make_store(name="隔壁店")
    intruder = password_login(make_staff(other_store).username)
    answer = intruder.post(f"/merchant/orders/{order_id}/accept", {})
    assert answer.status_code == 404 and answer.json()["code"] == "order_not_found"
    assert intruder.get("/merchant/orders").json() == []
    assert Order.objects.get().status == "paid"


def test_illegal_transitions_are_refused(shop, consumer):
    store, product = shop
    order_id = _placed(consumer, store, product)
    merchant = password_login(make_staff(store).username)
    unpaid_accept = merchant.post(f"/merchant/orders/{order_id}/accept", {})
    assert unpaid_accept.status_code == 409 and unpaid_accept.json()["code"] == "illegal_transition"
    own_confirm = consumer.post(f"/orders/{order_id}/confirm")
    assert own_confirm.json()["code"] == "illegal_transition"
    Order.objects.filter(public_id=order_id).update(status="paid")
    consumer_accept = consumer.post(f"/merchant/orders/{order_id}/accept", {})
    assert consumer_accept.status_code == 403 and consumer_accept.json()["code"] == "permission_denied"
    assert merchant.post(f"/merchant/orders/{order_id}/teleport", {}).status_code == 422
    assert Order.objects.get().status == "paid"
    assert list(Order.objects.get().events.values_list("action", flat=True)) == ["place"]


def test_cancelling_an_unpaid_order_returns_its_stock(shop, consumer):
    store, product = shop
    order_id = _placed(consumer, store, product)
    assert StockItem.objects.get(product=product).quantity == 4
    answer = consumer.post(f"/orders/{order_id}/cancel", {"note": "点错了"})
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert StockItem.objects.get(product=product).quantity == 5
    again = consumer.post(f"/orders/{order_id}/cancel", {})
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    assert StockItem.objects.get(product=product).quantity == 5


def test_sold_out_and_out_of_window_products_are_refused(shop, consumer):
    store, product = shop
    product.is_sold_out = True
    product.save()
    answer = consumer.post("/orders", _body(store, product), headers={"Idempotency-Key": "so"})
    assert answer.status_code == 409 and answer.json()["code"] == "product_sold_out"
    product.is_sold_out = False
    product.availability = [["00:00", "00:01"]]  # breakfast-only style window, never now in practice
    product.save()
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from linli.accounts.models import User
    from linli.orders.errors import ProductNotAvailableNow
    from linli.orders.services import LineInput, order_place

    at_noon = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with pytest.raises(ProductNotAvailableNow):
        order_place(consumer=User.objects.get(phone="+8613800138000"), store_id=store.public_id,
                    lines=[LineInput(product_id=product.public_id, quantity=1)], fulfilment="pickup",
                    address=None, idempotency_key="window", now=at_noon)
    _assert_nothing_written(product)


def test_unlimited_stock_is_never_short_and_never_counted_down(consumer):
    from linli.inventory.services import stock_set

    store = make_store()
    noodles = make_product(store, name="现煮面", stock=0)
    stock_set(product=noodles, quantity=0, unlimited=True)
    body = _body(store, noodles, items=[{"product_id": noodles.public_id, "quantity": 50}])
    answer = consumer.post("/orders", body, headers={"Idempotency-Key": "unl"})
    assert answer.status_code == 201, answer.content
    item = StockItem.objects.get(product=noodles)
    assert (item.quantity, item.unlimited) == (0, True)
    consumer.post(f"/orders/{answer.json()['id']}/cancel", {})
    assert StockItem.objects.get(product=noodles).quantity == 0
