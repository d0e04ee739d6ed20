"""SIGKILL an app worker in the middle of checkout, 100 times, then prove nothing is half
written (issue 14, docs/reliability.md).

The worker is a real process: forked from this one after Django is loaded (so it starts in
milliseconds, as a pre-forked app server worker does), with its own PostgreSQL connection,
placing orders and paying them through the WSGI application (`/api/v1/orders`,
`/orders/{id}/payments`, the sandbox's hosted pay page, whose notification is delivered
in-process after commit), paying from the wallet, cancelling paid and unpaid orders and
retrying with the same idempotency key. After a random 5-150 ms it is killed with SIGKILL
and another one starts. Afterwards the periodic jobs run (as beat would: the payments
query job, the unpaid-order timeout) and every invariant in `invariants.py` must hold.
"""

from __future__ import annotations

import gc
import os
import random
import select
import signal
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from linli.accounts.models import User
from linli.accounts.tokens import token_pair_issue
from linli.inventory.models import StockItem
from linli.orders.models import Order
from linli.orders.services import orders_cancel_unpaid
from linli.payments.gateways.sandbox import sandbox_trade_pay
from linli.payments.services import payments_sync, topup_create
from tests.fixtures import delivery_address, make_product, make_store

from .invariants import orders_problems, payments_problems, stock_problems

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

KILLS = 100
INITIAL_STOCK = 10_000
APP_NAME = "linli-faults-worker"
WELL_OFF = 6  # buyers 0-5 hold ¥2,000 in their wallets, 6 and 7 ¥50


def _worker(seed: int, tokens: list[str], stores: list[tuple[str, list[str]]], ready: int) -> None:
    """One app worker's life: connect, say so on the `ready` pipe (as a server worker is
    booted before it takes requests), then checkouts back to back until it is killed."""
    connections["default"].settings_dict.setdefault("OPTIONS", {})["application_name"] = APP_NAME
    connection.ensure_connection()
    os.write(ready, b"1")
    rnd = random.Random(seed)
    client = Client()
    for i in range(10_000):
        _checkout(client, rnd, f"kill-{seed}-{i}", tokens, stores)


def _checkout(client: Client, rnd: random.Random, key: str, tokens: list[str],
              stores: list[tuple[str, list[str]]]) -> None:
    """One consumer's visit: place an order (sometimes twice, as a retry), then pay it
    (gateway or wallet) and perhaps cancel it, or cancel it unpaid, or leave it unpaid."""
    buyer = rnd.randrange(len(tokens))
    token = tokens[buyer]
    auth = {"Authorization": f"Bearer {token}"}
    store_id, products = rnd.choice(stores)
    body = {"store_id": store_id, "fulfilment": "delivery", "address": delivery_address(),
            "items": [{"product_id": p, "quantity": rnd.randint(1, 3)}
                      for p in rnd.sample(products, rnd.randint(1, 3))]}
    retry = {"Idempotency-Key": key}
    placed = client.post("/api/v1/orders", body, content_type="application/json", headers=auth | retry)
    assert placed.status_code == 201, placed.content
    if rnd.random() < 0.15:  # a client retry: the first order again
        again = client.post("/api/v1/orders", body, content_type="application/json", headers=auth | retry)
        assert again.json()["id"] == placed.json()["id"], again.content
    order_id = placed.json()["id"]
    roll = rnd.random()
    if roll < 0.55:
        # well-off buyers pay some orders from the wallet alone; the others pay from what
        # their small wallet holds first and the rest through the gateway (a combined payment)
        provider = "wallet" if roll < 0.15 and buyer < WELL_OFF else "sandbox"
        use_wallet = buyer >= WELL_OFF
        paid = client.post(f"/api/v1/orders/{order_id}/payments",
                           {"provider": provider, "use_wallet": use_wallet},
                           content_type="application/json", headers=auth)
        assert paid.status_code == 201, paid.content
        if provider == "sandbox":
            paying = client.post(paid.json()["pay_url"])  # the buyer pays on the gateway's page
            assert paying.status_code == 302, paying.content
        if rnd.random() < 0.2:  # changed their mind: cancelled and refunded
            _cancel(client, order_id, auth)
    elif roll < 0.7:
        _cancel(client, order_id, auth)


def _cancel(client: Client, order_id: str, auth: dict[str, str]) -> None:
    answer = client.post(f"/api/v1/orders/{order_id}/cancel", {"note": "不要了"},
                         content_type="application/json", headers=auth)
    assert answer.status_code == 200, answer.content


def _backend_state(admin: psycopg.Connection) -> str:
    """What the worker's PostgreSQL backend is doing: "in transaction" (a statement running
    or a transaction open between statements), "idle", or "no connection"."""
    row = admin.execute("SELECT state, xact_start IS NOT NULL FROM pg_stat_activity "
                        "WHERE application_name = %s", [APP_NAME]).fetchone()
    if row is None:
        return "no connection"
    return "in transaction" if row[1] else str(row[0])


def _wait_for_a_transaction(admin: psycopg.Connection, limit_s: float = 0.3) -> str:
    deadline = time.monotonic() + limit_s
    state = _backend_state(admin)
    while state != "in transaction" and time.monotonic() < deadline:
        state = _backend_state(admin)
    return state


def test_checkout_survives_a_hundred_sigkills(settings):
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "order_place": (1_000_000, 60)}
    stores = []
    initial: dict[int, int] = {}
    for s in range(3):
        store = make_store(name=f"故障店{s}", delivery_radius_m=10_000)
        products = [make_product(store, name=f"菜{s}-{p}", price_fen=800 + 100 * p, stock=INITIAL_STOCK)
                    for p in range(6)]
        initial.update({p.pk: INITIAL_STOCK for p in products})
        stores.append((store.public_id, [p.public_id for p in products]))
    tokens = []
    for u in range(8):
        user = User.objects.create_user(username=f"kill-{u}", phone=f"+8613900{u:06d}")
        topup = topup_create(user=user, amount_fen=200_000 if u < WELL_OFF else 5_000)
        sandbox_trade_pay(trade_no=topup.payment.provider_trade_no)
        tokens.append(token_pair_issue(user_public_id=user.public_id,
                                       token_version=user.token_version)["access_token"])
    warm = random.Random(0)
    for i in range(12):  # load the URLconf, the API and the templates before forking, like a server
        _checkout(Client(), warm, f"warm-{i}", tokens, stores)
    warm_orders = Order.objects.count()
    db = settings.DATABASES["default"]
    admin = psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
                            password=db["PASSWORD"] or None, dbname=db["NAME"], autocommit=True)
    gc.freeze()  # as pre-forking servers do: the workers do not copy the parent's heap
    rnd = random.Random(14)
    states: dict[str, int] = {}
    started = time.monotonic()
    try:
        for kill in range(KILLS):
            connections.close_all()  # the worker opens its own connection, never this one
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: never returns into pytest
                code = 0
                try:
                    os.close(read_end)
                    _worker(1000 + kill, tokens, stores, write_end)
                except BaseException:  # noqa: BLE001 - reported through the exit code
                    import traceback

                    traceback.print_exc()
                    code = 1
                os._exit(code)
            os.close(write_end)
            assert select.select([read_end], [], [], 30)[0], "the worker did not start"
            os.close(read_end)
            time.sleep(rnd.uniform(0.005, 0.150))
            # Every other kill waits for the worker to be inside a transaction: transactions
            # are a small part of a worker's time, and they are what a kill could tear.
            state = _backend_state(admin) if kill % 2 == 0 else _wait_for_a_transaction(admin)
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, \
                f"worker {kill} ended by itself (status {status}): a request failed"
            states[state] = states.get(state, 0) + 1
            # wait until PostgreSQL has noticed the dead backend (its locks are gone)
            gone_by = time.monotonic() + 10
            while _backend_state(admin) != "no connection":
                assert time.monotonic() < gone_by, "PostgreSQL kept the killed worker's backend"
                time.sleep(0.002)
    finally:
        admin.close()
        gc.unfreeze()
    killing_s = time.monotonic() - started
    placed = Order.objects.count() - warm_orders
    # a worker that starts after the last kill still takes orders
    api_headers = {"Authorization": f"Bearer {tokens[0]}", "Idempotency-Key": "after-the-kills"}
    answer = Client().post("/api/v1/orders", {"store_id": stores[0][0], "fulfilment": "delivery",
                                              "address": delivery_address(),
                                              "items": [{"product_id": stores[0][1][0], "quantity": 1}]},
                           content_type="application/json", headers=api_headers)
    assert answer.status_code == 201, answer.content
    # What beat would do later: ask the gateway about payments whose notification died with
    # a worker, resend refunds that were never sent, cancel what was never paid.
    synced = payments_sync(older_than_s=0)
    cancelled = orders_cancel_unpaid(now=timezone.now() + timedelta(hours=1))
    problems = orders_problems() + stock_problems(initial) + payments_problems()
    by_status: dict[str, int] = {}
    for status in Order.objects.values_list("status", flat=True):
        by_status[status] = by_status.get(status, 0) + 1
    print(f"\nkill -9: {KILLS} kills in {killing_s:.1f} s; the worker's backend at the kill: {states}; "
          f"{placed} orders committed by killed workers, {Order.objects.count()} checked {by_status}; "
          f"payments_sync {synced}, unpaid cancelled {cancelled}; "
          f"stock rows {StockItem.objects.count()}; inconsistencies {len(problems)}")
    assert not problems, "\n".join(problems[:50])
    assert states.get("in transaction", 0) >= KILLS // 4, \
        f"too few kills landed inside a transaction to prove anything: {states}"
    connection.close()
