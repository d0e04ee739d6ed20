"""Merchant console: a product's per-unit packaging fee, typed in yuan and kept exactly in
fen, on the edit and add forms; bad amounts are refused next to the field and save nothing;
the fee reaches the consumer's cart like any packaging line."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.merchants.models import MenuCategory, Product
from tests.fixtures import make_product, make_staff, make_store

from .helpers import web_password_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store(packaging_fee_fen=0)
    product = make_product(store, name="宫保鸡丁", price_fen=3200, stock=30)
    return store, product


def console(store, role: str = "manager") -> Client:
    return web_password_login(make_staff(store, role=role).username, "m")


def _edit(client: Client, product, **fields):
    body = {"price": "32.00", "stock": "30", "listed": "1", **fields}
    return client.post(f"/m/menu/products/{product.public_id}", body)


def test_the_edit_form_sets_the_packaging_fee_exactly_in_fen(shop):
    store, product = shop
    client = console(store)
    page = client.get("/m/menu").content.decode()
    assert 'name="packaging_fee"' in page and 'value="0.00"' in page
    for typed, fen in (("0.5", 50), ("1.10", 110), ("0.07", 7), ("100", 10_000), ("１.５", 150),
                      (" 2.3 ", 230)):  # full-width digits read as the price field reads them
        answer = _edit(client, product, packaging_fee=typed)
        assert answer.status_code == 302, answer.content
        product.refresh_from_db()
        assert product.packaging_fee_fen == fen, typed
    page = client.get("/m/menu").content.decode()
    assert 'data-testid="product-packaging"' in page and "¥2.30" in page
    # cleared: no fee
    assert _edit(client, product, packaging_fee="").status_code == 302
    product.refresh_from_db()
    assert product.packaging_fee_fen == 0


def test_a_form_without_the_field_leaves_the_fee_alone(shop):
    store, product = shop
    Product.objects.filter(pk=product.pk).update(packaging_fee_fen=80)
    client = console(store)
    answer = client.post(f"/m/menu/products/{product.public_id}",
                         {"price": "29.50", "stock": "30", "listed": "1"})
    assert answer.status_code == 302
    product.refresh_from_db()
    assert (product.price_fen, product.packaging_fee_fen) == (2950, 80)


@pytest.mark.parametrize("typed", ["-1", "abc", "0.123", "1e2", "100.01", "NaN", "1,5", "+1"])
def test_bad_packaging_fees_are_refused_by_the_field_and_save_nothing(shop, typed):
    store, product = shop
    client = console(store, "owner")
    answer = _edit(client, product, price="29.00", packaging_fee=typed)
    html = answer.content.decode()
    assert answer.status_code == 422 and 'data-code="invalid_price"' in html
    assert f'data-field="packaging_fee-{product.public_id}"' in html
    assert "¥100.00" in html  # the range is said next to the field
    assert f'value="{typed.strip()}"' in html  # the typed value is kept
    product.refresh_from_db()
    assert (product.price_fen, product.packaging_fee_fen) == (3200, 0)  # nothing saved, price neither


def test_adding_a_product_with_a_packaging_fee(shop):
    store, _ = shop
    client = console(store)
    category = MenuCategory.objects.get().public_id
    answer = client.post("/m/menu/products", {"name": "酸辣汤", "category": category, "price": "8",
                                              "stock": "10", "packaging_fee": "0.50"})
    assert answer.status_code == 302, answer.content
    assert Product.objects.get(name="酸辣汤").packaging_fee_fen == 50
    client.post("/m/menu/products", {"name": "米饭", "category": category, "price": "2", "stock": "10"})
    assert Product.objects.get(name="米饭").packaging_fee_fen == 0
    before = Product.objects.count()
    refused = client.post("/m/menu/products", {"name": "可乐", "category": category, "price": "3",
                                               "packaging_fee": "-0.5"})
    html = refused.content.decode()
    assert refused.status_code == 422 and 'data-field="packaging_fee"' in html
    assert Product.objects.count() == before


def test_a_cashier_cannot_change_the_packaging_fee(shop):
    store, product = shop
    client = console(store, "cashier")
    assert 'name="packaging_fee"' not in client.get("/m/menu").content.decode()
    answer = _edit(client, product, packaging_fee="5")
    assert answer.status_code == 403 and 'data-code="permission_denied"' in answer.content.decode()
    product.refresh_from_db()
    assert product.packaging_fee_fen == 0


def test_the_fee_set_in_the_console_is_what_the_consumer_pays(shop):
    store, product = shop
    assert _edit(console(store), product, packaging_fee="1.50").status_code == 302
    buyer = Client()
    buyer.post(f"/stores/{store.public_id}/cart", {"product_id": product.public_id, "delta": "1"})
    buyer.post(f"/stores/{store.public_id}/cart", {"product_id": product.public_id, "delta": "1"})
    page = buyer.get(f"/stores/{store.public_id}").content.decode()
    assert 'data-line="packaging"' in page and "¥3.00" in page  # 2 × ¥1.50
