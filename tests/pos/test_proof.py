"""The issue's proofs: one member across channels (b), and one stock sold by two counters
(one offline) and online orders at once (a, PostgreSQL)."""

from __future__ import annotations

from collections import Counter as Tally

import pytest
from django.db import connection

from linli.inventory.models import StockItem
from linli.inventory.selectors import stock_ledger_audit
from linli.orders.models import Order
from linli.payments.ledger import ledger_verify
from linli.pos.models import Sale, SyncConflict
from linli.pos.points import points_balance, points_verify
from tests.orders.test_concurrency import run_concurrently
from tests.payments.helpers import wallet
from tests.pos.helpers import Shop, member, member_code, online_order_completed


@pytest.mark.django_db
def test_one_member_online_then_at_the_counter_by_wallet_then_a_return():
    shop = Shop(price_fen=1200, stock=30)
    api, user = member(wallet_fen=100_00)
    order = online_order_completed(api, shop, quantity=2)
    online_points = order.total_fen // 100
    assert points_balance(user) == online_points and shop.stock() == 28
    found = shop.identify(member_code(api)).json()
    assert found["id"] == user.public_id and found["points"] == online_points and found["wallet_fen"] == 100_00
    sale = shop.sell(quantity=5, method="wallet", ticket=found["member_ticket"]).json()
    assert sale["member_id"] == user.public_id and sale["paid_fen"] == 60_00
    assert points_balance(user) == online_points + 60 and sum(wallet(api)) == 40_00 and shop.stock() == 23
    ret = shop.cashier.post(f"/pos/sales/{sale['id']}/returns",
                            {"client_return_id": "back-2", "lines": [{"line": 1, "quantity": 2}]})
    assert ret.status_code == 201, ret.content
    assert ret.json()["refund_fen"] == 24_00 and ret.json()["points_reversed"] == 24
    assert points_balance(user) == online_points + 36
    assert sum(wallet(api)) == 64_00 and shop.stock() == 25
    assert api.get("/me/points").json()["points"] == online_points + 36
    assert not points_verify() and not ledger_verify()
    assert all(a.balanced for a in stock_ledger_audit([shop.product.pk]).values())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_counters_one_offline_and_online_orders_sell_one_stock():
    from tests.fixtures import delivery_address
    from tests.orders.test_concurrency import _consumer

    shop = Shop(stock=30)
    second = shop.counter_for("2号收银台")
    buyers = [_consumer(700 + i) for i in range(8)]
    offline_batch = [shop.offline_sale(sale_id=f"off-{i}", quantity=2) for i in range(10)]

    def online(i):
        body = {"store_id": shop.store.public_id, "fulfilment": "delivery", "address": delivery_address(),
                "items": [{"product_id": shop.product.public_id, "quantity": 1}]}
        return lambda: ("online", buyers[i].post("/orders", body, headers={"Idempotency-Key": f"o{i}"}))

    def counter(i, which):
        return lambda: ("live", shop.sell(quantity=1, counter=which, sale_id=f"live-{which}-{i}"))

    calls = [online(i) for i in range(8)] + [counter(i, shop.counter) for i in range(8)]
    calls.append(lambda: ("offline", shop.upload(offline_batch, counter=second)))
    results = run_concurrently(calls)
    online_ok = sum(1 for kind, a in results if kind == "online" and a.status_code == 201)
    live_ok = sum(1 for kind, a in results if kind == "live" and a.status_code == 201)
    refused = Tally(a.json()["code"] for kind, a in results if kind != "offline" and a.status_code != 201)
    assert set(refused) <= {"stock_insufficient"}, refused
    upload = next(a for kind, a in results if kind == "offline").json()
    assert upload["accepted"] + upload["conflict"] == 10 and upload["rejected"] == 0
    offline_units = 2 * 10
    short = sum(c.details["short"] for c in SyncConflict.objects.filter(reason="stock_short"))
    assert upload["conflict"] == SyncConflict.objects.filter(reason="stock_short").values("sale").distinct().count()
    # final stock = start - all accepted sales, with what the offline sales lacked reported
    assert StockItem.objects.get(product=shop.product).quantity - short == 30 - online_ok - live_ok - offline_units
    assert Order.objects.count() == online_ok and Sale.objects.filter(offline=False).count() == live_ok
    assert all(a.balanced for a in stock_ledger_audit([shop.product.pk]).values())
    retried = shop.upload(offline_batch, counter=second).json()
    assert retried["duplicate"] == 10 and Sale.objects.filter(offline=True).count() == 10
    connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_member_code_at_two_counters_at_once_exactly_one_wins():
    shop = Shop()
    api, _user = member()
    for _round in range(3):
        code = member_code(api)
        answers = run_concurrently([lambda: shop.identify(code), lambda: shop.identify(code, api=shop.manager)])
        assert sorted(a.status_code for a in answers) == [200, 409], [a.content for a in answers]
        assert {a.json().get("code") for a in answers if a.status_code == 409} == {"member_code_used"}
