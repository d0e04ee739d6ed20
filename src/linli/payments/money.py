"""Pure money arithmetic for payments, refunds and the wallet (no Django imports).

Every function works in integer fen and never loses or creates a fen: each split
returns parts that sum exactly to what was split. Hypothesis tests in
tests/payments/test_money.py hold them to that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class WalletSplit:
    """How much of a wallet debit comes from the principal (cash) and from the bonus."""

    cash_fen: int
    bonus_fen: int

    @property
    def total_fen(self) -> int:
        return self.cash_fen + self.bonus_fen


def wallet_debit_split(amount_fen: int, *, cash_fen: int, bonus_fen: int) -> WalletSplit:
    """Take `amount_fen` from a wallet holding `cash_fen` principal and `bonus_fen` bonus,
    in proportion to the two balances (本金与赠送金按比例扣减), the bonus part rounded
    down so the consumer never loses principal to rounding. Raises ValueError when the
    wallet cannot cover the amount.

    Proportional spending is what keeps refunds of top-ups fair: a consumer who topped up
    100 (+10 bonus) and spent 55 has 50 principal and 5 bonus left, not 55 and 0."""
    if amount_fen < 0 or cash_fen < 0 or bonus_fen < 0:
        raise ValueError("negative amount")
    total = cash_fen + bonus_fen
    if amount_fen > total:
        raise ValueError("insufficient balance")
    if amount_fen == 0 or total == 0:
        return WalletSplit(0, 0)
    bonus = amount_fen * bonus_fen // total
    cash = amount_fen - bonus
    if cash > cash_fen:  # rounding pushed principal past what is there: move it to bonus
        bonus += cash - cash_fen
        cash = cash_fen
    return WalletSplit(cash, bonus)


def withdrawal_forfeit(amount_fen: int, *, cash_fen: int, bonus_fen: int) -> int:
    """Withdrawing principal gives up the bonus in the same proportion: withdrawing all the
    principal forfeits all the bonus. Rounded up, so bonus never outlives its principal."""
    if amount_fen < 0 or amount_fen > cash_fen:
        raise ValueError("withdrawal above principal")
    if cash_fen == 0:
        return bonus_fen
    return -(-amount_fen * bonus_fen // cash_fen)


def topup_bonus(amount_fen: int, rules: Sequence[tuple[int, int]]) -> int:
    """The bonus for a top-up: the rule (threshold_fen, bonus_fen) with the highest
    threshold the amount reaches (充100送10, 充200送25). One rule, never stacked."""
    reached = [(threshold, bonus) for threshold, bonus in rules if amount_fen >= threshold > 0]
    return max(reached)[1] if reached else 0


@dataclass(frozen=True)
class Paid:
    """One successful payment of an order, as the refund split sees it."""

    ref: str
    is_wallet: bool
    refundable_fen: int  # what is left of it to refund


def refund_split(amount_fen: int, paid: Sequence[Paid]) -> list[tuple[str, int]]:
    """Spread a refund over the payments that paid the order, back along the original
    path: gateway payments first (real money back where it came from), the wallet last.
    Returns (payment ref, amount) pairs summing exactly to `amount_fen`; ValueError if the
    payments cannot cover it."""
    if amount_fen <= 0:
        raise ValueError("refund amount must be positive")
    ordered = sorted(paid, key=lambda p: p.is_wallet)  # stable: gateways first
    parts: list[tuple[str, int]] = []
    left = amount_fen
    for payment in ordered:
        if left == 0:
            break
        take = min(left, max(payment.refundable_fen, 0))
        if take:
            parts.append((payment.ref, take))
            left -= take
    if left:
        raise ValueError("refund above what was paid")
    return parts


@dataclass(frozen=True)
class ItemLine:
    """An order line as the per-item refund sees it."""

    line: int  # 1-based position in the order
    quantity: int
    amount_fen: int  # what the line cost before order-level discounts
    refunded_quantity: int = 0


def item_refund_amount(*, lines: Sequence[ItemLine], picks: Sequence[tuple[int, int]],
                       goods_fen: int, paid_goods_fen: int, total_fen: int,
                       refunded_fen: int) -> int:
    """What refunding `picks` ((line, quantity) pairs) gives back.

    `goods_fen` is the sum of the lines' amounts; `paid_goods_fen` what the consumer paid
    for the goods (total without delivery: packaging in, discounts out). Each unit's share
    is its line's amount scaled by paid_goods/goods, rounded down. When the
    picks take every unit not yet refunded, the refund is everything still unrefunded
    (delivery fee and rounding remainders included): the consumer who returns the whole
    order gets the whole order back. ValueError on an unknown line or a quantity above
    what is left of that line."""
    by_line = {line.line: line for line in lines}
    wanted: dict[int, int] = {}
    for line_no, quantity in picks:
        if line_no not in by_line:
            raise ValueError(f"unknown line {line_no}")
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        wanted[line_no] = wanted.get(line_no, 0) + quantity
    for line_no, quantity in wanted.items():
        line = by_line[line_no]
        if quantity > line.quantity - line.refunded_quantity:
            raise ValueError(f"line {line_no} has only {line.quantity - line.refunded_quantity} left")
    remaining_units = sum(line.quantity - line.refunded_quantity for line in lines)
    if sum(wanted.values()) == remaining_units:
        return max(total_fen - refunded_fen, 0)
    if goods_fen <= 0:
        return 0
    amount = 0
    for line_no, quantity in wanted.items():
        line = by_line[line_no]
        amount += line.amount_fen * quantity * paid_goods_fen // (line.quantity * goods_fen)
    return min(amount, max(total_fen - refunded_fen, 0))
