"""Shared steps of the finance tests: real orders placed, paid at the sandbox (a verified
query) and walked to completion through the order state machine."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.test import TestCase
from django.utils import timezone

from linli.accounts.models import PlatformRole, User
from linli.finance import postings, selectors
from linli.finance.models import FinanceEntry
from linli.orders.models import Order
from linli.orders.services import LineInput, order_place, order_transition_as
from linli.payments import services as payments
from linli.payments.ledger import balance as ledger_balance
from linli.payments.models import LedgerAccount, SandboxTrade
from tests.fixtures import make_product, make_store, next_phone


def consumer() -> User:
    phone = next_phone()
    return User.objects.create_user(username=phone, phone=phone)


def operator(name: str = "") -> User:
    return User.objects.create_user(username=f"ops-{name}{next_phone()}", platform_role=PlatformRole.OPERATOR)


def shop(price_fen: int = 2000, stock: int = 500, name: str = "老王家常菜"):
    store = make_store(name=name)
    return store, make_product(store, price_fen=price_fen, stock=stock)


def paid_order(store, product, buyer: User, *, quantity: int = 1) -> Order:
    placed = order_place(consumer=buyer, store_id=store.public_id,
                         lines=[LineInput(product_id=product.public_id, quantity=quantity)],
                         fulfilment="pickup", address=None, idempotency_key=f"k{next_phone()}")
    order = placed.order if hasattr(placed, "order") else placed
    payment = payments.payment_create(order_id=order.public_id, consumer=buyer, provider="sandbox")
    SandboxTrade.objects.filter(out_trade_no=payment.public_id).update(status="SUCCESS")
    payments.payment_sync(payment_id=payment.public_id)
    order.refresh_from_db()
    assert order.status == "paid", order.status
    return order


def complete(order: Order, *, at: datetime | None = None) -> Order:
    owner = order.store.merchant.members.get(role="owner").user
    with transaction.atomic():
        for action in ("accept", "prepare", "ready", "collect"):
            order = order_transition_as(order=order, action=action, actor=owner, role="merchant")
    if at is not None:
        Order.objects.filter(pk=order.pk).update(completed_at=at)
        order.refresh_from_db()
    return order


def completed_order(store, product, buyer: User, *, quantity: int = 1, at: datetime | None = None) -> Order:
    return complete(paid_order(store, product, buyer, quantity=quantity), at=at)


def refund(order: Order, amount_fen: int) -> None:
    """A refund as an operator makes it; the gateway is told after commit (run here)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        payments.refund_create(order_id=order.public_id, actor=operator(), role="operator", reason="test",
                               amount_fen=amount_fen)


def balance(code: str) -> int:
    return ledger_balance(code) if LedgerAccount.objects.filter(code=code).exists() else 0


def days_ago(n: int) -> datetime:
    return timezone.now() - timedelta(days=n)


def merchant_accounts_hold(merchant) -> None:  # type: ignore[no-untyped-def]
    """paid out + pending + held = the sum of the merchant's entries' nets."""
    b = selectors.merchant_balances(merchant)
    nets = FinanceEntry.objects.filter(merchant=merchant).aggregate(t=Sum("net_fen"))["t"] or 0
    assert b.paid_out_fen + b.pending_fen + b.settling_fen + b.held_fen == nets
    assert b.pending_fen == balance(postings.payable(merchant))
