"""Merchant console, menu and stock page: the sold-out switch (script and no-script), price
and stock edits through the ledger, new products with field errors, and who may do what."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.inventory.models import StockItem, StockMovement
from linli.merchants.models import MenuCategory, Product
from tests.fixtures import make_product, make_staff, make_store

from .helpers import web_password_login

pytestmark = pytest.mark.django_db
FETCH = {"X-Requested-With": "fetch"}


@pytest.fixture
def shop():
    store = make_store()
    product = make_product(store, name="宫保鸡丁", price_fen=3200, stock=30)
    return store, product


def console(store, role: str) -> Client:
    return web_password_login(make_staff(store, role=role).username, "m")


def test_the_menu_page_lists_products_by_category_with_price_stock_and_listing(shop):
    store, product = shop
    make_product(store, name="米饭", price_fen=200, stock=0)
    StockItem.objects.filter(product__name="米饭").update(unlimited=True)
    hidden = make_product(store, name="旧菜", price_fen=100)
    Product.objects.filter(pk=hidden.pk).update(is_available=False)
    page = console(store, "manager").get("/m/menu")
    html = page.content.decode()
    assert page.status_code == 200
    assert "热菜" in html and "宫保鸡丁" in html and "¥32.00" in html
    assert f'id="{product.public_id}"' in html and "30" in html
    assert "unlimited" in html or "不限" in html
    assert 'data-testid="unlisted"' in html
    assert 'data-testid="add-product-form"' in html and 'data-testid="edit-form"' in html


@pytest.mark.parametrize("role", ["cashier", "staff", "manager", "owner"])
def test_one_tap_sold_out_changes_the_product_and_the_public_menu(shop, role):
    store, product = shop
    client = console(store, role)
    # The page's script posts with fetch and swaps in the row it gets back.
    answer = client.post(f"/m/menu/products/{product.public_id}/sold-out", {"sold_out": "1"},
                         headers=FETCH)
    assert answer.status_code == 200
    row = answer.content.decode()
    assert row.lstrip().startswith("<li") and 'data-sold-out="1"' in row
    assert 'name="sold_out" value="0"' in row  # the button now puts it back on sale
    product.refresh_from_db()
    assert product.is_sold_out
    shown = Client().get(f"/api/v1/stores/{store.public_id}/menu").json()
    assert shown["sections"][0]["products"][0]["sold_out"] is True
    consumer_page = Client().get(f"/stores/{store.public_id}").content.decode()
    assert "宫保鸡丁" in consumer_page and 'data-testid="add"' not in consumer_page
    # Without script: a plain form post and a redirect back to the product's row.
    back = client.post(f"/m/menu/products/{product.public_id}/sold-out", {"sold_out": "0"})
    assert back.status_code == 302 and back["Location"] == f"/m/menu#{product.public_id}"
    product.refresh_from_db()
    assert not product.is_sold_out
    assert 'data-testid="add"' in Client().get(f"/stores/{store.public_id}").content.decode()


def test_sold_out_of_another_merchants_product_is_not_found(shop):
    store, product = shop
    outsider = console(make_store(name="隔壁店"), "owner")
    answer = outsider.post(f"/m/menu/products/{product.public_id}/sold-out", {"sold_out": "1"},
                           headers=FETCH)
    assert answer.status_code == 404 and 'data-code="product_not_found"' in answer.content.decode()
    product.refresh_from_db()
    assert not product.is_sold_out


def test_editing_price_and_stock_writes_a_stock_movement(shop):
    store, product = shop
    manager = make_staff(store, role="manager")
    client = web_password_login(manager.username, "m")
    movements = StockMovement.objects.count()
    answer = client.post(f"/m/menu/products/{product.public_id}",
                         {"price": "29.50", "stock": "12", "listed": "1"})
    assert answer.status_code == 302, answer.content
    product.refresh_from_db()
    assert product.price_fen == 2950 and product.stock.quantity == 12
    assert StockMovement.objects.count() == movements + 1
    movement = StockMovement.objects.latest("id")
    assert (movement.delta, movement.reason, movement.actor_id) == (-18, "adjust", manager.pk)
    # Unlimited, then unlisted.
    client.post(f"/m/menu/products/{product.public_id}", {"price": "29.50", "stock": "", "unlimited": "1"})
    product.refresh_from_db()
    assert product.stock.unlimited and not product.is_available
    assert "宫保鸡丁" not in Client().get(f"/stores/{store.public_id}").content.decode()


@pytest.mark.parametrize(("price", "stock", "code", "field"), [
    ("-1", "5", "invalid_price", "price"),
    ("abc", "5", "invalid_price", "price"),
    ("12.345", "5", "invalid_price", "price"),
    ("12", "-3", "invalid_stock", "stock"),
    ("12", "2000000", "invalid_stock", "stock"),
])
def test_bad_price_or_stock_shows_the_error_by_the_field_and_saves_nothing(shop, price, stock, code, field):
    store, product = shop
    client = console(store, "owner")
    movements = StockMovement.objects.count()
    answer = client.post(f"/m/menu/products/{product.public_id}",
                         {"price": price, "stock": stock, "listed": "1"})
    html = answer.content.decode()
    assert answer.status_code == 422 and f'data-code="{code}"' in html
    assert f'data-field="{field}-{product.public_id}"' in html
    assert f'value="{price}"' in html  # the typed value is kept
    product.refresh_from_db()
    assert product.price_fen == 3200 and product.stock.quantity == 30
    assert StockMovement.objects.count() == movements


def test_adding_a_product_and_a_category(shop):
    store, _ = shop
    client = console(store, "manager")
    category = MenuCategory.objects.get().public_id
    answer = client.post("/m/menu/products", {"name": "鱼香肉丝", "category": category,
                                              "price": "26", "stock": "40"})
    assert answer.status_code == 302
    added = Product.objects.get(name="鱼香肉丝")
    assert added.price_fen == 2600 and added.stock.quantity == 40 and added.is_available
    assert answer["Location"] == f"/m/menu#{added.public_id}"
    assert client.post("/m/menu/categories", {"category_name": "饮料"}).status_code == 302
    assert MenuCategory.objects.filter(store=store, name="饮料").exists()


@pytest.mark.parametrize(("form", "code", "field"), [
    ({"name": "", "price": "26"}, "invalid_name", "name"),
    ({"name": "宫保鸡丁", "price": "26"}, "product_name_taken", "name"),
    ({"name": "鱼香肉丝", "price": "-2"}, "invalid_price", "price"),
    ({"name": "鱼香肉丝", "price": "26", "category": "mct_999999"}, "category_not_in_store", "category"),
    ({"name": "鱼香肉丝", "price": "26", "stock": "many"}, "invalid_stock", "stock"),
])
def test_adding_a_bad_product_shows_the_services_error_next_to_the_field(shop, form, code, field):
    store, _ = shop
    client = console(store, "owner")
    body = {"category": MenuCategory.objects.get().public_id, **form}
    before = Product.objects.count()
    answer = client.post("/m/menu/products", body)
    html = answer.content.decode()
    assert answer.status_code in (409, 422) and f'data-code="{code}"' in html
    assert f'data-field="{field}"' in html
    assert Product.objects.count() == before


@pytest.mark.parametrize("role", ["cashier", "staff"])
def test_a_cashier_gets_403_on_menu_edits_and_sees_no_edit_forms(shop, role):
    store, product = shop
    client = console(store, role)
    page = client.get("/m/menu").content.decode()
    assert 'data-testid="sold-out-toggle"' in page
    assert 'data-testid="edit-form"' not in page and 'data-testid="add-product-form"' not in page
    assert 'data-testid="nav-menu"' in page
    assert 'data-testid="nav-store"' not in page and 'data-testid="nav-staff"' not in page
    category = MenuCategory.objects.get().public_id
    movements = StockMovement.objects.count()
    for path, body in (
        (f"/m/menu/products/{product.public_id}", {"price": "1", "stock": "1", "listed": "1"}),
        (f"/m/menu/products/{product.public_id}", {"price": "32.00", "stock": "5", "listed": "1"}),
        ("/m/menu/products", {"name": "新菜", "category": category, "price": "9"}),
        ("/m/menu/categories", {"category_name": "新分类"}),
    ):
        answer = client.post(path, body)
        assert answer.status_code == 403, (path, answer.status_code)
        assert 'data-code="permission_denied"' in answer.content.decode()
    product.refresh_from_db()
    assert product.price_fen == 3200 and product.stock.quantity == 30
    assert StockMovement.objects.count() == movements and Product.objects.count() == 1
    assert MenuCategory.objects.count() == 1
