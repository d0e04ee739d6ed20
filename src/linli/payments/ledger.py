"""The double-entry ledger: every money movement is one transaction of postings that
sum to zero. Postings are never changed or deleted; a correction is a new transaction.

Accounts (docs/payments.md "Ledger"):
- `gateway:<provider>` (debit-normal): money the gateway holds for us;
- `wallet:<user>:cash` / `wallet:<user>:bonus` (credit-normal, never negative): what we
  owe a consumer in stored value, principal and top-up bonus kept apart;
- `payments:hold` (credit-normal): wallet money set aside for a payment whose gateway
  part is not paid yet (never negative by construction: a hold is captured or released
  once, by its key);
- `clearing:orders` (credit-normal): consumers' money for orders, owed to merchants and
  the platform until settlement (finance, issue 12, moves it on);
- `expense:topup_bonus` (debit-normal): what top-up bonuses cost the platform.

Wallets, which may not go negative, keep a materialised balance changed by a conditional
UPDATE in the same transaction as the postings, so two concurrent debits of one wallet
can never both pass; the platform's accounts (gateways, clearing, the hold, refunds in
flight) are summed from postings when asked, so no hot row serialises every payment.
`ledger_verify` recomputes everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import Conflict

from .models import LedgerAccount, LedgerTransaction, Payment, Posting, Refund

HOLD = "payments:hold"
CLEARING = "clearing:orders"
TOPUP_BONUS_EXPENSE = "expense:topup_bonus"


class InsufficientBalance(Conflict):
    code = "insufficient_balance"
    message = _("The wallet balance is not enough.")


class UnbalancedTransaction(ValueError):
    pass


def gateway_account(provider: str) -> str:
    return f"gateway:{provider}"


def wallet_cash(user: User) -> str:
    return f"wallet:{user.public_id}:cash"


def wallet_bonus(user: User) -> str:
    return f"wallet:{user.public_id}:bonus"


def _account_shape(code: str) -> tuple[str, bool]:
    """(normal side, non-negative) of an account, from its code."""
    if code.startswith(("gateway:", "expense:")):
        return LedgerAccount.Normal.DEBIT, False
    if code.startswith("wallet:"):
        return LedgerAccount.Normal.CREDIT, True
    return LedgerAccount.Normal.CREDIT, False


def account(code: str, *, user: User | None = None) -> LedgerAccount:
    found = LedgerAccount.objects.filter(code=code).first()
    if found is not None:
        return found
    normal, non_negative = _account_shape(code)
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(code=code, normal=normal, user=user,
                                                non_negative=non_negative)
    except IntegrityError:  # created by a concurrent request a moment ago
        return LedgerAccount.objects.get(code=code)


@dataclass(frozen=True)
class Entry:
    code: str
    amount_fen: int  # debit > 0, credit < 0
    user: User | None = None


def debit(code: str, amount_fen: int, user: User | None = None) -> Entry:
    return Entry(code, amount_fen, user)


def credit(code: str, amount_fen: int, user: User | None = None) -> Entry:
    return Entry(code, -amount_fen, user)


def post(*, key: str, kind: str, entries: Iterable[Entry], actor: User | None = None,
         role: str = "system", memo: str = "", payment: Payment | None = None,
         refund: Refund | None = None) -> LedgerTransaction:
    """Record one balanced transaction, once per `key`: posting the same key again
    returns the first transaction and changes nothing. Raises InsufficientBalance (and
    writes nothing) if a non-negative account would go below zero. Call inside the
    caller's transaction so the postings commit with the state change they record."""
    lines = [entry for entry in entries if entry.amount_fen]
    if sum(entry.amount_fen for entry in lines) != 0:
        raise UnbalancedTransaction(f"{key}: postings sum to {sum(e.amount_fen for e in lines)}")
    existing = LedgerTransaction.objects.filter(key=key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        txn = LedgerTransaction.objects.create(
            key=key, kind=kind, memo=memo[:200], payment=payment, refund=refund,
            order_id=payment.order_id if payment is not None else None,
            actor=actor, actor_role=role)
        # One read for the accounts that exist (every payment posts 2-4); the rare new one
        # (a consumer's first wallet posting) is created on the spot.
        accounts = {acct.code: acct for acct in
                    LedgerAccount.objects.filter(code__in={entry.code for entry in lines})}
        for entry in lines:
            if entry.code not in accounts:
                accounts[entry.code] = account(entry.code, user=entry.user)
        # Sorted so two transactions touching the same wallets lock them in one order.
        for code in sorted(accounts):
            acct = accounts[code]
            if not acct.non_negative:
                continue
            delta = sum(e.amount_fen for e in lines if e.code == code)
            natural = delta if acct.normal == LedgerAccount.Normal.DEBIT else -delta
            updated = LedgerAccount.objects.filter(pk=acct.pk)
            if natural < 0:
                updated = updated.filter(balance_fen__gte=-natural)
            if not updated.update(balance_fen=F("balance_fen") + natural):
                raise InsufficientBalance(account=code, needed_fen=-natural)
        Posting.objects.bulk_create([Posting(transaction=txn, account=accounts[e.code],
                                             amount_fen=e.amount_fen) for e in lines])
    return txn


def balance(code: str) -> int:
    """An account's natural balance (what a wallet holds, what a gateway owes us),
    summed from its postings."""
    acct = LedgerAccount.objects.filter(code=code).first()
    if acct is None:
        return 0
    total = acct.postings.aggregate(total=Sum("amount_fen"))["total"] or 0
    return int(total if acct.normal == LedgerAccount.Normal.DEBIT else -total)


def cached_balance(code: str, *, for_update: bool = False) -> int:
    """The materialised balance of a non-negative account (wallets, the hold)."""
    rows = LedgerAccount.objects.filter(code=code)
    if for_update:
        rows = rows.select_for_update()
    value = rows.values_list("balance_fen", flat=True).first()
    return int(value or 0)


@dataclass(frozen=True)
class LedgerProblem:
    kind: str
    ref: str
    detail: str


def ledger_verify() -> list[LedgerProblem]:
    """Every transaction sums to zero; every materialised balance equals its postings'
    sum and is not negative. Empty list = the books hold."""
    problems = [LedgerProblem("unbalanced", row["transaction__public_id"], str(row["total"]))
                for row in Posting.objects.values("transaction__public_id")
                .annotate(total=Sum("amount_fen")).exclude(total=0)]
    for acct in LedgerAccount.objects.filter(non_negative=True):
        derived = balance(acct.code)
        if derived != acct.balance_fen:
            problems.append(LedgerProblem("balance_drift", acct.code,
                                          f"cached {acct.balance_fen} != postings {derived}"))
        if derived < 0:
            problems.append(LedgerProblem("negative", acct.code, str(derived)))
    return problems
