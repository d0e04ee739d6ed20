"""The ledger's invariants over random sequences of top-ups, payments (wallet, gateway,
combined), cancellations, partial refunds and withdrawals (hypothesis), and under real
concurrent clients on PostgreSQL:

- every transaction's postings sum to zero, cached balances equal their postings;
- no wallet ever goes negative;
- what the gateway holds for us equals what consumers paid through it minus what it
  refunded (its own books, `SandboxTrade`, agree with our `gateway:sandbox` account);
- a refund never exceeds what was paid, however many ask at once.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.accounts.models import User
from linli.core.errors import DomainError
from linli.orders.models import Order
from linli.orders.services import order_transition_as
from linli.payments import services
from linli.payments.ledger import CLEARING, HOLD, ledger_verify
from linli.payments.ledger import balance as ledger_balance
from linli.payments.models import LedgerAccount, Payment, Refund, SandboxTrade, TopupBonusRule
from tests.fixtures import delivery_address, make_product, make_store, next_phone
from tests.payments.helpers import consumer, place, shop, top_up
from tests.threads import run_concurrently

USERS = 2
operation = st.one_of(
    st.tuples(st.just("topup"), st.integers(0, USERS - 1), st.integers(1, 300_00)),
    st.tuples(st.just("pay"), st.integers(0, USERS - 1), st.integers(1, 3),
              st.sampled_from(["wallet", "sandbox", "combined"])),
    st.tuples(st.just("cancel"), st.integers(0, USERS - 1)),
    st.tuples(st.just("refund"), st.integers(0, USERS - 1), st.integers(1, 10_000)),
    st.tuples(st.just("withdraw"), st.integers(0, USERS - 1), st.integers(1, 300_00)),
)


def _gateway_pays(payment_id: str) -> None:
    """The buyer pays at the sandbox; we learn it by a verified query."""
    SandboxTrade.objects.filter(out_trade_no=payment_id, status="WAIT_PAY").update(status="SUCCESS")
    services.payment_sync(payment_id=payment_id)


def _check_books(users: list[User]) -> None:
    assert ledger_verify() == []
    for user in users:
        assert services.wallet_balance(user).cash_fen >= 0
        assert services.wallet_balance(user).bonus_fen >= 0
    # the gateway's own books agree with our account of what it holds for us (refunds are
    # sent at once here, so none is in flight after a step)
    held = SandboxTrade.objects.filter(status="SUCCESS").aggregate(
        t=Sum(F("amount_fen") - F("refunded_fen")))["t"] or 0
    assert _balance("payments:refunds_in_flight") == 0
    assert _balance("gateway:sandbox") == held
    # money neither created nor destroyed: what came in through the gateway plus the
    # bonuses the platform gave is exactly what wallets, orders and the hold now hold
    wallets = sum(_balance(code) for code in LedgerAccount.objects.filter(
        code__startswith="wallet:").values_list("code", flat=True))
    assert held + _balance("expense:topup_bonus") == wallets + _balance(CLEARING) + _balance(HOLD)
    for payment in Payment.objects.all():
        assert 0 <= payment.refunded_fen <= payment.amount_fen


def _balance(code: str) -> int:
    return ledger_balance(code) if LedgerAccount.objects.filter(code=code).exists() else 0


def _step(op: tuple[Any, ...], users: list[User], store, product, orders: dict[int, list[str]],
          capture) -> None:
    kind, who = op[0], op[1]
    user = users[who]
    with capture(execute=True):  # what runs after commit in production (refunds sent)
        try:
            if kind == "topup":
                topup = services.topup_create(user=user, amount_fen=op[2])
                _gateway_pays(topup.payment.public_id)
            elif kind == "pay":
                from linli.orders.services import LineInput, order_place

                placed = order_place(
                    consumer=user, store_id=store.public_id,
                    lines=[LineInput(product_id=product.public_id, quantity=op[2])],
                    fulfilment="delivery", address=_address(), note="",
                    idempotency_key=f"k{next_phone()}")
                order_id = placed.order.public_id if hasattr(placed, "order") else placed.public_id
                orders.setdefault(who, []).append(order_id)
                method = op[3]
                payment = services.payment_create(
                    order_id=order_id, consumer=user,
                    provider="wallet" if method == "wallet" else "sandbox",
                    use_wallet=method == "combined")
                if payment.status == "pending":
                    _gateway_pays(payment.public_id)
            elif kind == "cancel" and orders.get(who):
                order = Order.objects.get(public_id=orders[who][-1])
                with transaction.atomic():
                    order_transition_as(order=order, action="cancel", actor=user, role="consumer")
            elif kind == "refund" and orders.get(who):
                services.refund_create(order_id=orders[who][0], actor=user, role="operator",
                                       reason="random", amount_fen=op[2])
            elif kind == "withdraw":
                services.withdrawal_create(user=user, amount_fen=op[2])
        except DomainError:
            pass  # refused: the books must still hold (checked after every step)


def _address():
    from linli.orders.services import AddressInput

    return AddressInput(**delivery_address())


@pytest.mark.django_db
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(operation, min_size=1, max_size=10))
def test_random_sequences_keep_the_books(ops, django_capture_on_commit_callbacks):
    with transaction.atomic():
        TopupBonusRule.objects.create(threshold_fen=100_00, bonus_fen=10_00)
        store = make_store()
        product = make_product(store, price_fen=1990, stock=1000)
        users = [User.objects.create_user(username=p, phone=p) for p in (next_phone(), next_phone())]
        orders: dict[int, list[str]] = {}
        for op in ops:
            _step(op, users, store, product, orders, django_capture_on_commit_callbacks)
            _check_books(users)
        transaction.set_rollback(True)


# --- real concurrent clients on PostgreSQL ----------------------------------------------------



@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_wallet_payments_never_overdraw_the_wallet():
    api, user = consumer()
    store, product = shop(price_fen=2000, stock=100)
    top_up(api, 100_00)
    orders = [place(api, store, product, key=f"cw{i}") for i in range(10)]
    total = orders[0]["total_fen"]
    answers = run_concurrently([
        (lambda o=o: api.post(f"/orders/{o['id']}/payments", {"provider": "wallet"}))
        for o in orders])
    codes = Counter(a.status_code for a in answers)
    expected_wins = 100_00 // total
    assert codes[201] == expected_wins and codes[409] == 10 - expected_wins
    assert all(a.json()["code"] == "insufficient_balance" for a in answers if a.status_code == 409)
    assert services.wallet_balance(user).total_fen == 100_00 - expected_wins * total
    assert Order.objects.filter(status="paid").count() == expected_wins
    assert ledger_verify() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_refunds_never_exceed_what_was_paid():
    api, _ = consumer()
    store, product = shop(price_fen=5000)
    order = place(api, store, product, key="cr")
    payment = api.post(f"/orders/{order['id']}/payments", {}).json()
    from django.test import Client

    Client().post(payment["pay_url"])
    ops_user = User.objects.create_user(username=f"ops{next_phone()}", platform_role="operator")
    share = order["total_fen"] * 4 // 10  # 40 %: at most two fit
    results = run_concurrently([
        (lambda: _try_refund(order["id"], ops_user, share)) for _ in range(8)])
    assert Counter(results) == Counter({"ok": 2, "refund_exceeds_paid": 6})
    paid = Payment.objects.get(public_id=payment["id"])
    assert paid.refunded_fen == 2 * share <= paid.amount_fen
    assert Refund.objects.aggregate(t=Sum("amount_fen"))["t"] == 2 * share
    assert ledger_verify() == []
    assert ledger_balance(CLEARING) == order["total_fen"] - 2 * share
    assert ledger_balance(HOLD) == 0


def _try_refund(order_id: str, actor: User, amount: int) -> str:
    try:
        services.refund_create(order_id=order_id, actor=actor, role="operator", reason="并发",
                               amount_fen=amount)
        return "ok"
    except DomainError as exc:
        return exc.code


def _concurrent_step(op: tuple[Any, ...], user: User, operator_user: User, store, product,
                     mine: list[str]) -> str:
    """One random operation by one client thread, committed for real (autocommit), so
    refunds go to the gateway after commit exactly as in production."""
    from linli.orders.services import LineInput, order_place

    kind = op[0]
    try:
        if kind == "topup":
            topup = services.topup_create(user=user, amount_fen=op[2])
            _gateway_pays(topup.payment.public_id)
        elif kind == "pay":
            placed = order_place(consumer=user, store_id=store.public_id,
                                 lines=[LineInput(product_id=product.public_id, quantity=op[2])],
                                 fulfilment="delivery", address=_address(), note="",
                                 idempotency_key=f"k{next_phone()}")
            mine.append(placed.order.public_id)
            payment = services.payment_create(
                order_id=placed.order.public_id, consumer=user,
                provider="wallet" if op[3] == "wallet" else "sandbox",
                use_wallet=op[3] == "combined")
            if payment.status == "pending":
                _gateway_pays(payment.public_id)
        elif kind == "cancel" and mine:
            with transaction.atomic():
                order = Order.objects.get(public_id=mine[-1])
                order_transition_as(order=order, action="cancel", actor=user, role="consumer")
        elif kind == "refund" and mine:
            services.refund_create(order_id=mine[0], actor=operator_user, role="operator",
                                   reason="random", amount_fen=op[2])
        elif kind == "withdraw":
            services.withdrawal_create(user=user, amount_fen=op[2])
        return "ok"
    except DomainError as exc:
        return exc.code


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plans=st.lists(st.lists(operation, min_size=3, max_size=6), min_size=4, max_size=4))
def test_random_sequences_from_four_concurrent_clients_keep_the_books(plans):
    """Four clients at once, two per wallet, each running its own random sequence: the
    books hold afterwards, whatever interleaving the database chose."""
    TopupBonusRule.objects.get_or_create(threshold_fen=100_00, bonus_fen=10_00)
    store = make_store()
    product = make_product(store, price_fen=1990, stock=1000)
    users = [User.objects.create_user(username=p, phone=p) for p in (next_phone(), next_phone())]
    operator_user = User.objects.create_user(username=f"ops{next_phone()}", platform_role="operator")
    orders: list[list[str]] = [[], []]

    def client(i: int) -> list[str]:
        who = i % 2
        return [_concurrent_step(op, users[who], operator_user, store, product, orders[who])
                for op in plans[i]]

    outcomes = run_concurrently([lambda i=i: client(i) for i in range(4)])
    assert all(isinstance(o, list) for o in outcomes), outcomes  # no thread died
    assert not any("deadlock" in str(code) for o in outcomes for code in o)
    _check_books(users)
