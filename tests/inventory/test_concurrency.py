"""Stock under real concurrency (PostgreSQL, threads with their own connections): the last
units are never oversold, a cancellation racing a payment never loses a unit, a release
racing a commit settles each reservation exactly once, and the ledger stays balanced
under a random mix of everything at once."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import User
from linli.inventory.models import StockItem, StockMovement, StockReservation
from linli.inventory.services import (
    StockInsufficient,
    stock_commit,
    stock_release,
    stock_reserve,
    stock_restock,
)
from linli.orders.models import Order
from linli.orders.services import order_act, orders_cancel_unpaid
from tests.fixtures import Api, make_product, make_store, token_api
from tests.threads import run_concurrently

from .helpers import assert_balanced, counts, notify, pay_notification, place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]




def _buyers(n: int, start: int = 0) -> list[tuple[User, Api]]:
    users = [User.objects.create_user(username=f"+86137100{start + i:05d}", phone=f"+86137100{start + i:05d}")
             for i in range(n)]
    return [(u, token_api(u)) for u in users]


def test_forty_buyers_for_the_last_ten_units_exactly_ten_win():
    store = make_store()
    product = make_product(store, stock=10)
    buyers = _buyers(40)
    answers = run_concurrently([lambda api=api, i=i: place(api, store, [(product, 1)], f"k{i}")
                                for i, (_u, api) in enumerate(buyers)])
    assert Counter(a.status_code for a in answers) == {201: 10, 409: 30}
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"stock_insufficient"}
    assert counts(product) == (0, 10)
    assert StockReservation.objects.filter(status="held").count() == Order.objects.count() == 10
    assert_balanced(product)


def test_two_products_bought_in_opposite_orders_never_deadlock_or_oversell():
    store = make_store()
    a = make_product(store, name="A", stock=12)
    b = make_product(store, name="B", stock=12)
    buyers = _buyers(24, start=100)
    calls = [lambda api=api, i=i: place(api, store, [(a, 1), (b, 1)] if i % 2 else [(b, 1), (a, 1)], f"ab{i}")
             for i, (_u, api) in enumerate(buyers)]
    answers = run_concurrently(calls)
    assert Counter(a.status_code for a in answers) == {201: 12, 409: 12}
    assert counts(a) == (0, 12) and counts(b) == (0, 12)
    assert_balanced(a, b)


def test_a_cancellation_racing_the_payment_never_loses_a_unit():
    store = make_store()
    product = make_product(store, stock=30)
    buyers = _buyers(15, start=200)
    orders = []
    for i, (user, api) in enumerate(buyers):
        order_id = place(api, store, [(product, 2)], f"c{i}").json()["id"]
        orders.append((user, order_id, pay_notification(api, order_id)))
    assert counts(product) == (0, 30)
    calls: list[Callable[[], Any]] = []
    for user, order_id, (body, headers) in orders:
        calls.append(lambda body=body, headers=headers: notify(body, headers))
        calls.append(lambda user=user, order_id=order_id: order_act(order_id=order_id, actor=user, action="cancel"))
    results = run_concurrently(calls)
    assert not [r for r in results if isinstance(r, Exception) and not hasattr(r, "code")], results
    sold = 0
    for _user, order_id, _n in orders:
        order = Order.objects.get(public_id=order_id)
        reservation = StockReservation.objects.get(reference=order_id)
        if order.status == "paid":
            sold += 2
            assert reservation.status == "committed"
        else:  # cancelled first (released) or paid then cancelled (returned): units back
            assert reservation.status in ("released", "returned"), (order.status, reservation.status)
    assert counts(product) == (30 - sold, 0)
    assert_balanced(product)


def test_the_unpaid_timeout_racing_payments_leaves_one_outcome_per_order():
    store = make_store()
    product = make_product(store, stock=20)
    buyers = _buyers(10, start=300)
    orders = []
    for i, (_user, api) in enumerate(buyers):
        order_id = place(api, store, [(product, 1)], f"t{i}").json()["id"]
        orders.append((order_id, pay_notification(api, order_id)))
    Order.objects.update(pay_deadline=timezone.now() - timedelta(seconds=1))
    calls: list[Callable[[], Any]] = [orders_cancel_unpaid, orders_cancel_unpaid]
    calls += [lambda body=body, headers=headers: notify(body, headers) for _o, (body, headers) in orders]
    results = run_concurrently(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    outcomes = Counter(results[2:])
    cancelled = sum(results[:2])
    assert outcomes["paid"] + outcomes["refunded_late"] == 10 and outcomes["refunded_late"] == cancelled
    for order_id, _n in orders:
        status = Order.objects.get(public_id=order_id).status
        reservation = StockReservation.objects.get(reference=order_id).status
        assert (status, reservation) in {("paid", "committed"), ("cancelled", "released")}
    assert counts(product) == (20 - outcomes["paid"], 0)
    assert_balanced(product)


def test_a_release_racing_a_commit_settles_each_reservation_once():
    store = make_store()
    product = make_product(store, stock=40)
    refs = [f"ord_race{i}" for i in range(20)]
    for ref in refs:
        stock_reserve(store_id=store.pk, lines=[(product, 2)], reference=ref, actor=None)

    def atomically(fn: Callable[..., int], ref: str) -> Callable[[], int]:
        def call() -> int:
            with transaction.atomic():
                return fn(reference=ref)
        return call

    calls = []
    for ref in refs:
        calls += [atomically(stock_commit, ref), atomically(stock_release, ref)]
    results = run_concurrently(calls)
    assert all(r in (0, 1) for r in results), results
    for i, ref in enumerate(refs):
        committed, released = results[2 * i], results[2 * i + 1]
        trail = list(StockMovement.objects.filter(reference=ref).order_by("pk").values_list("reason", flat=True))
        status = StockReservation.objects.get(reference=ref).status
        if committed and released:  # paid, then cancelled: sold once, returned once
            assert (trail, status) == (["order", "sale", "cancel"], "returned")
        else:  # the release won: the commit found nothing held and sold nothing
            assert (committed, released, trail, status) == (0, 1, ["order", "release"], "released")
    assert counts(product) == (40, 0)
    assert_balanced(product)


def test_a_random_mix_of_everything_keeps_the_ledger_balanced():
    store = make_store()
    products = [make_product(store, name=f"P{i}", stock=15) for i in range(3)]

    def worker(seed: int) -> Counter:
        rnd = random.Random(seed)
        mine: list[str] = []
        done: Counter = Counter()
        for step in range(25):
            op = rnd.random()
            try:
                with transaction.atomic():
                    if op < 0.45 or not mine:
                        ref = f"ord_mix{seed}_{step}"
                        lines = [(rnd.choice(products), rnd.randint(1, 3)) for _ in range(rnd.randint(1, 2))]
                        stock_reserve(store_id=store.pk, lines=lines, reference=ref, actor=None)
                        mine.append(ref)
                        done["reserve"] += 1
                    elif op < 0.7:
                        done["commit"] += stock_commit(reference=rnd.choice(mine))
                    elif op < 0.9:
                        done["release"] += stock_release(reference=rnd.choice(mine))
                    else:
                        stock_restock(product=rnd.choice(products), quantity=rnd.randint(1, 4))
                        done["restock"] += 1
            except StockInsufficient:
                done["refused"] += 1
        return done

    results = run_concurrently([lambda s=s: worker(s) for s in range(8)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["reserve"] for r in results) > 0
    assert_balanced(*products)
    for p in products:
        quantity, reserved = counts(p)
        assert quantity >= 0 and reserved >= 0
        held = sum(StockReservation.objects.filter(product=p, status="held").values_list("quantity", flat=True))
        assert reserved == held
    assert StockItem.objects.filter(quantity__lt=0).count() == 0
