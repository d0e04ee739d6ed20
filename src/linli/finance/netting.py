"""Settlement netting in plain Python (no Django): which of a merchant's entries are due,
what their batch pays out, what is held back as a reserve. Also the bulk form the
benchmark runs over a million entries (`settle_all`).

An entry is `(merchant, due_on, net_fen)`: sales are positive, refunds and negative
adjustments negative. A batch takes every due entry not yet settled; if their sum is
negative or zero nothing is paid and the entries wait (a payout is never negative)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Batch:
    total_fen: int  # sum of the entries
    reserve_fen: int  # held back from this batch
    payout_fen: int  # total - reserve

    def balanced(self) -> bool:
        return self.total_fen == self.reserve_fen + self.payout_fen


def due_on(completed: date, settlement_days: int) -> date:
    """T+N: an entry of day T is due N days later (T+1 by default)."""
    return completed + timedelta(days=settlement_days)


def net(amounts: Iterable[int], *, reserve_bp: int = 0, reserve_released_fen: int = 0) -> Batch | None:
    """The batch over due amounts, or None when there is nothing positive to pay. The
    reserve is `reserve_bp` of the batch's positive total, rounded down; a reserve released
    from an earlier batch is paid out with this one."""
    total = sum(amounts)
    if total + reserve_released_fen <= 0:
        return None
    reserve = max(total, 0) * reserve_bp // 10_000
    return Batch(total_fen=total + reserve_released_fen, reserve_fen=reserve,
                 payout_fen=total + reserve_released_fen - reserve)


def settle_all(entries: Iterable[tuple[int, date, int]], *, day: date,
               reserve_bp: int = 0) -> tuple[dict[int, Batch], dict[int, int]]:
    """Every merchant's batch for `day` from a stream of (merchant, due_on, net_fen), in
    one pass: (batches by merchant, amounts left waiting by merchant: not yet due, or a
    non-positive sum)."""
    due: dict[int, int] = {}
    waiting: dict[int, int] = {}
    for merchant, due_day, amount in entries:
        if due_day <= day:
            due[merchant] = due.get(merchant, 0) + amount
        else:
            waiting[merchant] = waiting.get(merchant, 0) + amount
    batches: dict[int, Batch] = {}
    for merchant, total in due.items():
        batch = net((total,), reserve_bp=reserve_bp)
        if batch is None:
            waiting[merchant] = waiting.get(merchant, 0) + total
        else:
            batches[merchant] = batch
    return batches, waiting
