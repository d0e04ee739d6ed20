"""The sold-out hint (inventory.services): once a product is found at 0, further attempts
are refused without reading the catalog or the stock, and anything that brings units back
(restock, stocktake, a released order, the daily reset) makes the next buyer succeed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.inventory.services import stock_daily_reset, stock_daily_set, stock_restock, stock_set
from linli.orders.models import Order
from tests.fixtures import make_product, make_store, sms_login

from .helpers import assert_balanced, counts, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale():
    store = make_store()
    return store, make_product(store, name="1 元秒杀 小龙虾", price_fen=100, stock=1)


def _sold_out(sale, key: str):
    """One buyer takes the last unit, a second is refused (which sets the hint)."""
    store, product = sale
    winner, _ = sms_login("13800138001")
    assert place(winner, store, [(product, 1)], f"{key}-win").status_code == 201
    late, _ = sms_login("13800138002")
    refused = place(late, store, [(product, 1)], f"{key}-late")
    assert refused.status_code == 409 and refused.json()["code"] == "stock_insufficient"
    return winner, late


def _tables(queries: CaptureQueriesContext) -> str:
    return " ".join(q["sql"] for q in queries.captured_queries)


def test_once_sold_out_further_attempts_read_neither_catalog_nor_stock(sale):
    store, product = sale
    _winner, late = _sold_out(sale, "a")
    with CaptureQueriesContext(connection) as queries:
        again = place(late, store, [(product, 1)], "a-again")
    assert again.status_code == 409 and again.json()["code"] == "stock_insufficient"
    assert again.json()["details"] == {"product_id": product.public_id, "requested": 1, "available": 0}
    sql = _tables(queries)
    assert "merchants_product" not in sql and "inventory_stock_item" not in sql, sql
    assert len(queries) <= 2, [q["sql"][:80] for q in queries.captured_queries]  # who, and a retry?
    assert counts(product) == (0, 1) and Order.objects.count() == 1


def test_the_winners_retry_still_gets_its_order_while_the_hint_refuses_others(sale):
    store, product = sale
    winner, _late = _sold_out(sale, "b")
    retry = place(winner, store, [(product, 1)], "b-win")
    assert retry.status_code == 200 and Order.objects.count() == 1
    other_body = place(winner, store, [(product, 2)], "b-win")
    assert other_body.status_code == 409 and other_body.json()["code"] == "idempotency_key_reused"


def test_a_restock_clears_the_hint(sale, django_capture_on_commit_callbacks):
    store, product = sale
    _winner, late = _sold_out(sale, "c")
    with django_capture_on_commit_callbacks(execute=True):
        stock_restock(product=product, quantity=3)
    assert place(late, store, [(product, 1)], "c-after").status_code == 201
    assert counts(product) == (2, 2)
    assert_balanced(product)


def test_a_stocktake_clears_the_hint(sale, django_capture_on_commit_callbacks):
    store, product = sale
    _winner, late = _sold_out(sale, "d")
    with django_capture_on_commit_callbacks(execute=True):
        stock_set(product=product, quantity=1)
    assert place(late, store, [(product, 1)], "d-after").status_code == 201


def test_a_cancelled_unpaid_order_gives_its_unit_to_the_next_buyer(sale, django_capture_on_commit_callbacks):
    store, product = sale
    winner, late = _sold_out(sale, "e")
    order_id = Order.objects.get().public_id
    with django_capture_on_commit_callbacks(execute=True):
        assert winner.post(f"/orders/{order_id}/cancel", {}).status_code == 200
    assert place(late, store, [(product, 1)], "e-after").status_code == 201
    assert_balanced(product)


def test_the_daily_reset_clears_the_hint(sale, django_capture_on_commit_callbacks):
    store, product = sale
    stock_daily_set(product=product, daily_quantity=1)
    _winner, late = _sold_out(sale, "f")
    from datetime import timedelta

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=True):
        assert stock_daily_reset(now=timezone.now() + timedelta(days=1)) == 1
    # The held unit counts against the new day (daily 1 - held 1 = 0): still sold out...
    assert counts(product) == (0, 1)
    assert place(late, store, [(product, 1)], "f-next-day").status_code == 409
    with django_capture_on_commit_callbacks(execute=True):
        stock_daily_set(product=product, daily_quantity=5)
    # ...until the count goes up: 5 - 1 held = 4 available, and the hint is gone.
    assert place(late, store, [(product, 1)], "f-more").status_code == 201


def test_the_hint_is_scoped_to_its_store(sale):
    store, product = sale
    _winner, late = _sold_out(sale, "g")
    elsewhere = make_store(name="别家")
    answer = place(late, elsewhere, [(product, 1)], "g-elsewhere")
    assert answer.status_code == 422 and answer.json()["code"] == "product_not_in_store"
