"""Merchant console, stock history page (`/m/stock/<product>`): the ledger with reason,
quantity, who and reference, the current counts including units in transit, pages, the
link from the menu, and who may see it."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.inventory.services import stock_restock
from linli.inventory.transfers import LineIn, transfer_request, transfer_ship
from tests.fixtures import make_product, make_staff, make_store
from tests.inventory.chain_helpers import make_chain

from .helpers import web_password_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    return make_chain((31.2304, 121.4737), (31.2400, 121.4800))


def console(store, role: str = "manager") -> Client:
    return web_password_login(make_staff(store, role=role).username, "m")


def test_the_history_shows_movements_counts_and_units_in_transit(chain):
    a, b = chain.stores
    src, _dst = chain.product(a, "MILK", stock=20, name="鲜牛奶"), chain.product(b, "MILK", stock=0)
    stock_restock(product=src, quantity=4, actor=chain.owner, reference="送货单 88")
    transfer, _ = transfer_request(actor=chain.owner, from_store_id=a.public_id, to_store_id=b.public_id,
                                   lines=[LineIn(product_id=src.public_id, quantity=5)])
    transfer_ship(actor=chain.owner, transfer_id=transfer.public_id)
    page = console(a).get(f"/m/stock/{src.public_id}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "鲜牛奶" in html
    assert 'data-testid="available">19<' in html and 'data-testid="outgoing">5<' in html
    assert html.count('data-testid="movement"') == 3
    assert 'data-reason="transfer_out"' in html and "-5" in html and transfer.public_id in html
    assert "送货单 88" in html and "+4" in html and chain.owner.username in html
    assert 'data-testid="incoming">0<' in html


def test_the_menu_links_to_each_products_history(chain):
    a = chain.stores[0]
    milk = make_product(a, name="鲜牛奶", stock=3)
    html = console(a).get("/m/menu", {"store": a.public_id}).content.decode()
    assert f'href="/m/stock/{milk.public_id}"' in html


def test_the_history_is_paginated(chain):
    a = chain.stores[0]
    milk = make_product(a, name="鲜牛奶", stock=0)
    for _ in range(60):
        stock_restock(product=milk, quantity=1)
    client = console(a, "cashier")  # any member may read stock
    first = client.get(f"/m/stock/{milk.public_id}").content.decode()
    assert first.count('data-testid="movement"') == 50 and 'rel="next"' in first
    second = client.get(f"/m/stock/{milk.public_id}", {"page": 2}).content.decode()
    assert second.count('data-testid="movement"') == 10 and 'rel="prev"' in second
    assert client.get(f"/m/stock/{milk.public_id}", {"page": "x"}).status_code == 200  # first page


def test_another_merchants_product_is_not_found(chain):
    other = make_product(make_store(name="别家"), name="别家的奶", stock=5)
    answer = console(chain.stores[0]).get(f"/m/stock/{other.public_id}")
    assert answer.status_code == 404 and "别家的奶" not in answer.content.decode()
    assert console(chain.stores[0]).get("/m/stock/prd_nope").status_code == 404


def test_only_merchant_staff_see_the_page(chain):
    milk = make_product(chain.stores[0], name="鲜牛奶", stock=5)
    assert Client().get(f"/m/stock/{milk.public_id}").status_code == 302  # to the login
    from linli.accounts.models import User
    from tests.fixtures import PASSWORD
    User.objects.create_user(username="consumer-1", password=PASSWORD)
    consumer = Client()
    consumer.login(username="consumer-1", password=PASSWORD)
    assert consumer.get(f"/m/stock/{milk.public_id}").status_code == 403
