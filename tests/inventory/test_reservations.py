"""Reservations: placing an order holds its units, paying sells them, cancelling or the
unpaid timeout gives them back; every change is a ledger row and the cached counts always
equal the ledger's sums."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.inventory.models import StockItem, StockMovement, StockReservation
from linli.inventory.services import (
    StockInsufficient,
    stock_commit,
    stock_release,
    stock_reserve,
    stock_restock,
    stock_set,
)
from linli.orders.models import Order
from linli.orders.services import orders_cancel_unpaid
from tests.fixtures import make_product, make_store, sms_login

from .helpers import assert_balanced, counts, movements, pay, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store()
    return store, make_product(store, name="牛肉面", price_fen=2200, stock=10)


@pytest.fixture
def buyer():
    return sms_login("13800138000")[0]


def _reservation(order_id: str) -> StockReservation:
    return StockReservation.objects.get(reference=order_id)


def test_placing_an_order_holds_its_units(shop, buyer):
    store, noodles = shop
    answer = place(buyer, store, [(noodles, 2)], "k1")
    assert answer.status_code == 201, answer.content
    order_id = answer.json()["id"]
    assert counts(noodles) == (8, 2)  # 8 left to sell, 2 held for the unpaid order
    held = _reservation(order_id)
    assert (held.quantity, held.status, held.product_id) == (2, "held", noodles.pk)
    assert movements(noodles, reference=order_id) == [("order", -2, 2)]
    mine = StockMovement.objects.get(reference=order_id)
    assert mine.actor.phone == "+8613800138000" and mine.created_at is not None
    assert_balanced(noodles)


def test_paying_commits_the_held_units_as_a_sale(shop, buyer):
    store, noodles = shop
    order_id = place(buyer, store, [(noodles, 2)], "k1").json()["id"]
    assert pay(buyer, order_id) == "paid"
    assert Order.objects.get(public_id=order_id).status == "paid"
    assert counts(noodles) == (8, 0)
    assert _reservation(order_id).status == "committed"
    assert movements(noodles, reference=order_id) == [("order", -2, 2), ("sale", 0, -2)]
    assert_balanced(noodles)


def test_cancelling_an_unpaid_order_releases_its_units(shop, buyer):
    store, noodles = shop
    order_id = place(buyer, store, [(noodles, 3)], "k1").json()["id"]
    assert buyer.post(f"/orders/{order_id}/cancel", {}).status_code == 200
    assert counts(noodles) == (10, 0)
    assert _reservation(order_id).status == "released"
    assert movements(noodles, reference=order_id) == [("order", -3, 3), ("release", 3, -3)]
    assert_balanced(noodles)


def test_the_unpaid_timeout_releases_the_units_once(shop, buyer):
    store, noodles = shop
    order_id = place(buyer, store, [(noodles, 4)], "k1").json()["id"]
    Order.objects.filter(public_id=order_id).update(pay_deadline=timezone.now() - timedelta(seconds=1))
    assert orders_cancel_unpaid() == 1 and orders_cancel_unpaid() == 0
    assert counts(noodles) == (10, 0)
    release = StockMovement.objects.get(reference=order_id, reason="release")
    assert (release.delta, release.reserved_delta, release.actor) == (4, -4, None)
    assert_balanced(noodles)


def test_a_paid_order_cancelled_returns_its_sold_units(shop, buyer):
    store, noodles = shop
    order_id = place(buyer, store, [(noodles, 2)], "k1").json()["id"]
    pay(buyer, order_id)
    assert buyer.post(f"/orders/{order_id}/cancel", {}).status_code == 200
    assert counts(noodles) == (10, 0)
    assert _reservation(order_id).status == "returned"
    assert movements(noodles, reference=order_id) == [("order", -2, 2), ("sale", 0, -2), ("cancel", 2, 0)]
    assert_balanced(noodles)


def test_a_payment_after_the_timeout_sells_nothing(shop, buyer):
    from .helpers import notify, pay_notification

    store, noodles = shop
    order_id = place(buyer, store, [(noodles, 2)], "k1").json()["id"]
    late = pay_notification(buyer, order_id)
    Order.objects.filter(public_id=order_id).update(pay_deadline=timezone.now() - timedelta(seconds=1))
    orders_cancel_unpaid()
    assert notify(*late) == "refunded_late"
    assert counts(noodles) == (10, 0)
    assert not StockMovement.objects.filter(reference=order_id, reason="sale").exists()
    assert_balanced(noodles)


def test_commit_and_release_happen_once_whatever_the_calls(shop):
    store, noodles = shop
    with_ref = "ord_test_1"
    stock_reserve(store_id=store.pk, lines=[(noodles, 1)], reference=with_ref, actor=None)
    assert stock_commit(reference=with_ref) == 1
    assert stock_commit(reference=with_ref) == 0  # a duplicate payment: nothing more
    assert stock_release(reference=with_ref) == 1  # the paid order is cancelled
    assert stock_release(reference=with_ref) == 0
    assert stock_commit(reference=with_ref) == 0  # nothing held any more
    assert counts(noodles) == (10, 0)
    released = "ord_test_2"
    stock_reserve(store_id=store.pk, lines=[(noodles, 5)], reference=released, actor=None)
    assert stock_release(reference=released) == 1
    assert stock_commit(reference=released) == 0  # the payment lost the race: sells nothing
    assert counts(noodles) == (10, 0)
    assert_balanced(noodles)


def test_several_products_are_held_all_or_nothing(buyer):
    from tests.fixtures import make_product as product_of

    store = make_store()
    noodles = product_of(store, name="牛肉面", stock=5)
    rice = product_of(store, name="米饭", price_fen=200, stock=1)
    soup = product_of(store, name="现煮汤", price_fen=800, stock=0)
    stock_set(product=soup, quantity=0, unlimited=True)
    refused = place(buyer, store, [(noodles, 2), (rice, 2), (soup, 1)], "too-many")
    assert refused.status_code == 409 and refused.json()["code"] == "stock_insufficient"
    assert refused.json()["details"] == {"product_id": rice.public_id, "requested": 2, "available": 1}
    assert counts(noodles) == (5, 0) and counts(rice) == (1, 0)
    assert not StockReservation.objects.exists() and Order.objects.count() == 0

    order_id = place(buyer, store, [(noodles, 2), (rice, 1), (soup, 3)], "fits").json()["id"]
    assert counts(noodles) == (3, 2) and counts(rice) == (0, 1) and counts(soup) == (0, 0)
    assert sorted(StockReservation.objects.filter(reference=order_id)
                  .values_list("product_id", "quantity")) == sorted([(noodles.pk, 2), (rice.pk, 1)])
    assert not soup.stock_movements.filter(reference=order_id).exists()  # made to order: not counted
    assert pay(buyer, order_id) == "paid"
    assert counts(noodles) == (3, 0) and counts(rice) == (0, 0)
    assert_balanced(noodles, rice, soup)


def test_the_same_product_on_two_lines_is_held_once_for_the_sum(shop):
    store, noodles = shop
    stock_reserve(store_id=store.pk, lines=[(noodles, 2), (noodles, 3)], reference="ord_x", actor=None)
    assert StockReservation.objects.get(reference="ord_x").quantity == 5
    with pytest.raises(StockInsufficient) as refused:
        stock_reserve(store_id=store.pk, lines=[(noodles, 3), (noodles, 3)], reference="ord_y", actor=None)
    assert refused.value.details["available"] == 5 and refused.value.details["requested"] == 6


def test_orders_placed_before_reservations_give_their_units_back_once(shop):
    """An order placed by the previous code has an `order` row and no reservation."""
    store, noodles = shop
    StockItem.objects.filter(product=noodles).update(quantity=7)
    StockMovement.objects.create(product=noodles, store=store, delta=-3, reason="order", reference="ord_old")
    assert stock_release(reference="ord_old", store_id=store.pk, lines=[(noodles.pk, 3)]) == 1
    assert stock_release(reference="ord_old") == 0
    assert counts(noodles) == (10, 0)
    assert_balanced(noodles)


def test_restock_and_stocktake_are_ledger_rows(shop):
    store, noodles = shop
    stock_restock(product=noodles, quantity=20, reference="delivery note 42")
    assert counts(noodles) == (30, 0)
    stock_reserve(store_id=store.pk, lines=[(noodles, 4)], reference="ord_z", actor=None)
    stock_set(product=noodles, quantity=12)  # the count buyers can take; the held 4 stay held
    assert counts(noodles) == (12, 4)
    stock_release(reference="ord_z")
    assert counts(noodles) == (16, 0)
    assert [r for r, *_ in movements(noodles)] == ["adjust", "restock", "order", "adjust", "release"]
    assert_balanced(noodles)
    with pytest.raises(ValueError):
        stock_restock(product=noodles, quantity=0)


def test_placing_an_order_takes_a_bounded_number_of_stock_queries(shop, buyer, django_assert_max_num_queries):
    """Stock work per order does not grow with the cart: check, update, two inserts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    store = shop[0]
    products = [make_product(store, name=f"菜{i}", price_fen=1000, stock=50) for i in range(12)]
    with CaptureQueriesContext(connection) as one:
        place(buyer, store, [(products[0], 1)], "one")
    with CaptureQueriesContext(connection) as twelve:
        place(buyer, store, [(p, 2) for p in products], "twelve")
    stock_sql = [q["sql"] for q in twelve.captured_queries if "inventory_" in q["sql"]]
    assert len(stock_sql) <= 5, stock_sql
    one_stock = [q["sql"] for q in one.captured_queries if "inventory_" in q["sql"]]
    assert len(one_stock) <= 4, one_stock
    assert_balanced(*products)
