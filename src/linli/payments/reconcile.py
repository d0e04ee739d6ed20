"""Reconciliation: a gateway's statement for one day against our records.

Three kinds of mismatch (docs/payments.md "Reconciliation"):
- `missing_ours`: the gateway has a payment or refund we have no success for;
- `missing_theirs`: we recorded a success the gateway's statement does not have;
- `amount`: both have it, for different amounts.
Days are cut in China time, as Alipay and WeChat Pay cut their bills.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from .gateways import StatementLine, get_gateway
from .models import Payment, ReconciliationRun, Refund

STATEMENT_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def _ours(provider: str, day: dt.date) -> dict[tuple[str, str], int]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=STATEMENT_TZ)
    end = start + dt.timedelta(days=1)
    ours: dict[tuple[str, str], int] = {}
    for public_id, amount in Payment.objects.filter(
            provider=provider, succeeded_at__gte=start, succeeded_at__lt=end).values_list(
            "public_id", "amount_fen"):
        ours[("payment", public_id)] = amount
    for public_id, amount in Refund.objects.filter(
            payment__provider=provider, status=Refund.Status.SUCCEEDED,
            succeeded_at__gte=start, succeeded_at__lt=end).values_list("public_id", "amount_fen"):
        ours[("refund", public_id)] = amount
    return ours


def _theirs(lines: list[StatementLine]) -> dict[tuple[str, str], int]:
    theirs: dict[tuple[str, str], int] = {}
    for line in lines:
        key = (line.kind, line.out_refund_no if line.kind == "refund" else line.out_trade_no)
        theirs[key] = theirs.get(key, 0) + line.amount_fen
    return theirs


def compare(ours: dict[tuple[str, str], int],
            theirs: dict[tuple[str, str], int]) -> tuple[int, list[dict[str, object]]]:
    """(matched count, mismatches) — pure, so the rules are tested without a gateway."""
    mismatches: list[dict[str, object]] = []
    matched = 0
    for key in sorted(set(ours) | set(theirs)):
        kind, ref = key
        mine, their = ours.get(key), theirs.get(key)
        if mine is None:
            mismatches.append({"problem": "missing_ours", "kind": kind, "ref": ref,
                               "ours_fen": None, "theirs_fen": their})
        elif their is None:
            mismatches.append({"problem": "missing_theirs", "kind": kind, "ref": ref,
                               "ours_fen": mine, "theirs_fen": None})
        elif mine != their:
            mismatches.append({"problem": "amount", "kind": kind, "ref": ref,
                               "ours_fen": mine, "theirs_fen": their})
        else:
            matched += 1
    return matched, mismatches


def reconcile(*, provider: str, day: dt.date) -> ReconciliationRun:
    """Download the statement, compare, and keep the result for the back office."""
    statement = get_gateway(provider).statement(day=day)
    matched, mismatches = compare(_ours(provider, day), _theirs(statement))
    return ReconciliationRun.objects.create(provider=provider, day=day, matched=matched,
                                            mismatches=mismatches)
