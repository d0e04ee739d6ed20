"""Concurrency claims, proven with real concurrent clients (threads, each with its own
database connection) on PostgreSQL: no overselling, idempotent retries, idempotent
payment notifications."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.inventory.models import StockItem, StockMovement
from linli.orders.models import Order, OrderEvent
from linli.payments.gateways.sandbox import sandbox_notification_build
from linli.payments.models import Payment, SandboxTrade
from tests.fixtures import Api, delivery_address, make_product, make_store, token_api
from tests.threads import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]




def _consumer(n: int) -> Api:
    return token_api(User.objects.create_user(username=f"+86139000{n:05d}", phone=f"+86139000{n:05d}"))


def _order_call(api: Api, store, product, key: str, quantity: int = 1) -> Callable[[], Any]:
    body = {"store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
            "items": [{"product_id": product.public_id, "quantity": quantity}]}
    return lambda: api.post("/orders", body, headers={"Idempotency-Key": key})


def test_twenty_buyers_for_the_last_five_units_exactly_five_win():
    store = make_store()
    product = make_product(store, stock=5)
    buyers = [_consumer(i) for i in range(20)]
    answers = run_concurrently([_order_call(api, store, product, f"k{i}") for i, api in enumerate(buyers)])
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 5, 409: 15}, statuses
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"stock_insufficient"}
    assert StockItem.objects.get(product=product).quantity == 0
    assert Order.objects.count() == 5
    assert sum(StockMovement.objects.filter(reason="order").values_list("delta", flat=True)) == -5


def test_mixed_quantities_never_oversell():
    store = make_store()
    product = make_product(store, stock=10)
    buyers = [_consumer(100 + i) for i in range(16)]
    calls = [_order_call(api, store, product, f"m{i}", quantity=1 + i % 3) for i, api in enumerate(buyers)]
    answers = run_concurrently(calls)
    sold = sum(1 + i % 3 for i, a in enumerate(answers) if a.status_code == 201)
    assert sold <= 10
    assert StockItem.objects.get(product=product).quantity == 10 - sold
    assert sum(o.items.get().quantity for o in Order.objects.all()) == sold


def test_concurrent_retries_of_one_order_create_it_once():
    store = make_store()
    product = make_product(store, stock=50)
    api = _consumer(999)
    answers = run_concurrently([_order_call(api, store, product, "same-key") for _ in range(10)])
    assert {a.status_code for a in answers} <= {200, 201}
    assert Counter(a.status_code for a in answers)[201] == 1
    assert len({a.json()["id"] for a in answers}) == 1
    assert Order.objects.count() == 1
    assert StockItem.objects.get(product=product).quantity == 49


def test_duplicate_notifications_racing_each_other_pay_the_order_once():
    store = make_store()
    product = make_product(store, stock=5)
    api = _consumer(7)
    order = _order_call(api, store, product, "pay-race")().json()
    payment = api.post(f"/orders/{order['id']}/payments", {}).json()
    trade = SandboxTrade.objects.get(out_trade_no=payment["id"])
    trade.status = SandboxTrade.Status.SUCCESS
    trade.save()
    body, headers = sandbox_notification_build(trade)

    def notify() -> str:
        return Client().post("/api/v1/payments/callbacks/sandbox", body,
                             content_type="application/json", headers=headers)["Linli-Outcome"]

    outcomes = Counter(run_concurrently([notify for _ in range(10)]))
    assert outcomes == {"paid": 1, "duplicate": 9}
    assert OrderEvent.objects.filter(action="pay").count() == 1
    assert Payment.objects.get().status == "succeeded"
    assert Order.objects.get().status == "paid"
