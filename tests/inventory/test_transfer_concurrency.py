"""PostgreSQL, real threads each with its own connection: shipping a transfer races
online orders for the same units. Stock never goes below zero, every unit is either
sold, shipped or still on the shelf, and both stores' ledgers balance."""

from __future__ import annotations

from collections import Counter

import pytest

from linli.accounts.models import User
from linli.inventory.models import StockItem, StockMovement, StockTransfer
from linli.inventory.transfers import LineIn, transfer_receive, transfer_request, transfer_ship
from linli.orders.models import Order
from tests.fixtures import token_api
from tests.orders.test_concurrency import run_concurrently

from .chain_helpers import make_chain
from .helpers import assert_balanced, place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _buyer(n: int):
    return token_api(User.objects.create_user(username=f"+86137000{n:05d}", phone=f"+86137000{n:05d}"))


def _ship(actor, transfer_id):
    def call():
        try:
            transfer_ship(actor=actor, transfer_id=transfer_id)
            return "shipped"
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test counts
            return getattr(exc, "code", repr(exc))
    return call


@pytest.mark.parametrize("round_", range(3))
def test_shipping_races_online_orders_for_the_same_units(round_):
    chain = make_chain((31.2304, 121.4737), (31.2400, 121.4800))
    a, b = chain.stores
    tea, cake = chain.product(a, "TEA", stock=10), chain.product(a, "CAKE", stock=10)
    tea_b, cake_b = chain.product(b, "TEA", stock=0), chain.product(b, "CAKE", stock=0)
    transfers = [transfer_request(actor=chain.owner, from_store_id=a.public_id, to_store_id=b.public_id,
                                  lines=[LineIn(product_id=tea.public_id, quantity=3),
                                         LineIn(product_id=cake.public_id, quantity=3)])[0] for _ in range(2)]
    buyers = [_buyer(round_ * 100 + i) for i in range(10)]
    calls = [_ship(chain.owner, t.public_id) for t in transfers]
    # orders take the products in both orders (cake first or tea first): no deadlock either way
    calls += [(lambda api=api, i=i: place(api, a, [(cake, 1), (tea, 1)] if i % 2 else [(tea, 1), (cake, 1)],
                                          f"c{round_}-{i}")) for i, api in enumerate(buyers)]
    outcomes = run_concurrently(calls)
    ships = Counter(outcomes[:2])
    orders = Counter(o.status_code for o in outcomes[2:])
    assert set(ships) <= {"shipped", "stock_insufficient"} and set(orders) <= {201, 409}, (ships, orders)
    shipped = ships["shipped"]
    sold = Order.objects.filter(store=a).count()
    assert sold == orders[201]
    for product in (tea, cake):
        item = StockItem.objects.get(product=product)
        assert item.quantity >= 0
        assert item.quantity == 10 - sold - 3 * shipped
    assert StockMovement.objects.filter(reason="transfer_out").count() == 2 * shipped
    for transfer in StockTransfer.objects.filter(state="shipped"):
        transfer_receive(actor=chain.owner, transfer_id=transfer.public_id)
    assert StockItem.objects.get(product=tea_b).quantity == 3 * shipped
    assert_balanced(tea, cake, tea_b, cake_b)
