"""Finance: commission, settlement and statements over /api/v1. Parse, call one service or
selector, shape the answer (docs/finance.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from linli.core.auth import jwt_auth

from . import selectors, services
from .models import Adjustment, CommissionRule, FinanceEntry, MerchantHold, Payout, SettlementBatch

router = Router(tags=["finance and settlement"])


class BalancesOut(Schema):
    merchant_id: str
    balance_fen: int
    pending_fen: int
    settling_fen: int
    held_fen: int
    paid_out_fen: int
    on_hold: bool


class EntryOut(Schema):
    kind: str
    channel: str
    ref: str
    occurred_at: datetime
    goods_fen: int
    delivery_fee_fen: int
    platform_discount_fen: int
    merchant_discount_fen: int
    paid_fen: int
    subsidy_fen: int
    commission_fen: int
    fee_fen: int
    delivery_fen: int
    net_fen: int
    due_on: date
    batch_id: str | None


class StatementOut(Schema):
    entries: list[EntryOut]
    total_net_fen: int


class StatementQuery(Schema):
    merchant_id: str = ""
    day: date | None = None
    batch_id: str = ""
    format: Literal["json", "csv", "xlsx"] = "json"


class BatchOut(Schema):
    id: str
    merchant_id: str
    period_end: date
    status: str
    entries_fen: int
    reserve_fen: int
    reserve_released_fen: int
    payout_fen: int
    payout_id: str | None
    payout_status: str | None


class RuleIn(Schema):
    rate_bp: int = Field(description="basis points: 500 = 5 %")
    min_fen: int = 0
    starts_at: datetime
    ends_at: datetime | None = None
    category: str = Field("", max_length=64, description="store category slug (e.g. food); empty = any")
    merchant_id: str = ""
    channel: str = Field("", description="delivery, pickup, dine_in, voucher, pos; empty = any")


class RuleOut(Schema):
    id: str
    rate_bp: int
    min_fen: int
    starts_at: datetime
    ends_at: datetime | None
    category: str | None = Field(description="store category slug; null = any")
    merchant_id: str | None = Field(description="null = any merchant")
    channel: str


class SettleIn(Schema):
    day: date


class RunOut(Schema):
    day: date
    batches: int
    skipped: int
    payout_fen: int


class HoldIn(Schema):
    merchant_id: str
    reason: Literal["fraud", "dispute", "other"]
    note: str


class HoldOut(Schema):
    id: str
    merchant_id: str
    reason: str
    active: bool


class AdjustmentIn(Schema):
    merchant_id: str
    amount_fen: int = Field(description="+ credits the merchant, - debits")
    reason: str = ""


class AdjustmentOut(Schema):
    id: str
    merchant_id: str
    amount_fen: int
    status: str


class PayoutOut(Schema):
    id: str
    status: str
    amount_fen: int
    attempts: int
    last_error: str


def _entry(e: FinanceEntry) -> dict[str, Any]:
    return {**{f: getattr(e, f) for f in EntryOut.model_fields if f != "batch_id"},
            "batch_id": e.batch.public_id if e.batch_id else None}


def _batch(b: SettlementBatch) -> dict[str, Any]:
    payout = getattr(b, "payout", None)
    return {"id": b.public_id, "merchant_id": b.merchant.public_id, "period_end": b.period_end, "status": b.status,
            "entries_fen": b.entries_fen, "reserve_fen": b.reserve_fen, "reserve_released_fen": b.reserve_released_fen,
            "payout_fen": b.payout_fen, "payout_id": payout.public_id if payout else None,
            "payout_status": payout.status if payout else None}


def _hold(h: MerchantHold) -> dict[str, Any]:
    return {"id": h.public_id, "merchant_id": h.merchant.public_id, "reason": h.reason, "active": h.released_at is None}


def _adjustment(a: Adjustment) -> dict[str, Any]:
    return {"id": a.public_id, "merchant_id": a.merchant.public_id, "amount_fen": a.amount_fen, "status": a.status}


def _payout(p: Payout) -> dict[str, Any]:
    return {"id": p.public_id, "status": p.status, "amount_fen": p.amount_fen, "attempts": p.attempts,
            "last_error": p.last_error}


def _rule(r: CommissionRule) -> dict[str, Any]:
    return {"id": r.public_id, "rate_bp": r.rate_bp, "min_fen": r.min_fen, "starts_at": r.starts_at,
            "ends_at": r.ends_at, "channel": r.channel,
            "category": r.category.slug if r.category_id else None,
            "merchant_id": r.merchant.public_id if r.merchant_id else None}


# --- the merchant ----------------------------------------------------------------------------

@router.get("/finance/balances", response=BalancesOut, auth=jwt_auth,
            summary="The merchant's balance: pending (T+N), settling, held, paid out")
def balances(request: HttpRequest, merchant_id: str = "") -> dict[str, Any]:
    merchant = selectors.merchant_for_user(user=request.auth, merchant_id=merchant_id)  # type: ignore[attr-defined]
    b = selectors.merchant_balances(merchant)
    return {"merchant_id": merchant.public_id, "balance_fen": b.balance_fen, "pending_fen": b.pending_fen,
            "settling_fen": b.settling_fen, "held_fen": b.held_fen, "paid_out_fen": b.paid_out_fen,
            "on_hold": b.on_hold}


@router.get("/finance/statement", response=StatementOut, auth=jwt_auth,
            summary="A statement per day or per batch; format=csv|xlsx downloads it",
            openapi_extra={"responses": {200: {"content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                    {"schema": {"type": "string", "format": "binary"}}}}}})
def statement(request: HttpRequest, query: Query[StatementQuery]) -> Any:
    merchant = selectors.merchant_for_user(user=request.auth, merchant_id=query.merchant_id)  # type: ignore[attr-defined]
    entries = list(selectors.statement_entries(merchant, day=query.day, batch_id=query.batch_id))
    name = f"statement-{merchant.public_id}-{query.batch_id or query.day or 'all'}"
    if query.format == "csv":
        answer = HttpResponse(selectors.statement_csv(entries), content_type="text/csv; charset=utf-8")
        answer["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return answer
    if query.format == "xlsx":
        answer = HttpResponse(selectors.statement_xlsx(entries),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        answer["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return answer
    return {"entries": [_entry(e) for e in entries], "total_net_fen": sum(e.net_fen for e in entries)}


@router.get("/finance/batches", response=list[BatchOut], auth=jwt_auth, summary="The merchant's settlement batches")
def batch_list(request: HttpRequest, merchant_id: str = "") -> list[dict[str, Any]]:
    merchant = selectors.merchant_for_user(user=request.auth, merchant_id=merchant_id)  # type: ignore[attr-defined]
    return [_batch(b) for b in selectors.batches(merchant).select_related("merchant")]


# --- operators -------------------------------------------------------------------------------

@router.post("/finance/commission-rules", response={201: RuleOut}, auth=jwt_auth,
             summary="A new commission rule version (operator)")
def rule_create(request: HttpRequest, body: RuleIn) -> Any:
    rule = services.commission_rule_create(actor=request.auth, **body.dict())  # type: ignore[attr-defined]
    return Status(201, _rule(rule))


@router.post("/finance/settlement-runs", response={201: RunOut}, auth=jwt_auth,
             summary="Settle every merchant for a day (operator)")
def run_create(request: HttpRequest, body: SettleIn) -> Any:
    run = services.settlement_run(day=body.day, actor=request.auth)  # type: ignore[attr-defined]
    return Status(201, {"day": run.day, "batches": run.batches, "skipped": run.skipped, "payout_fen": run.payout_fen})


@router.post("/finance/merchants/{merchant_id}/settlements", response={201: BatchOut}, auth=jwt_auth,
             summary="Settle one merchant for a day (operator); twice: 409")
def merchant_settle(request: HttpRequest, merchant_id: str, body: SettleIn) -> Any:
    services.require_operator(request.auth)  # type: ignore[attr-defined]
    batch = services.settle_merchant(merchant=services.merchant_get(merchant_id), day=body.day,
                                     actor=request.auth)  # type: ignore[attr-defined]
    return Status(201, _batch(batch))


@router.post("/finance/payouts/{payout_id}/send", response=PayoutOut, auth=jwt_auth,
             summary="Send or retry a payout (operator); a merchant on hold: 409")
def payout_send(request: HttpRequest, payout_id: str) -> dict[str, Any]:
    services.require_operator(request.auth)  # type: ignore[attr-defined]
    return _payout(services.payout_send(payout_id=payout_id, actor=request.auth))  # type: ignore[attr-defined]


@router.post("/finance/holds", response={201: HoldOut}, auth=jwt_auth, summary="Hold a merchant's payouts (operator)")
def hold_place(request: HttpRequest, body: HoldIn) -> Any:
    hold = services.hold_place(actor=request.auth, **body.dict())  # type: ignore[attr-defined]
    return Status(201, _hold(hold))


@router.post("/finance/holds/{hold_id}/release", response=HoldOut, auth=jwt_auth, summary="Lift a hold (operator)")
def hold_release(request: HttpRequest, hold_id: str) -> dict[str, Any]:
    return _hold(services.hold_release(actor=request.auth, hold_id=hold_id))  # type: ignore[attr-defined]


@router.post("/finance/adjustments", response={201: AdjustmentOut}, auth=jwt_auth,
             summary="A manual adjustment with a reason (operator); above the threshold it awaits a second operator")
def adjustment_create(request: HttpRequest, body: AdjustmentIn) -> Any:
    adjustment = services.adjustment_create(actor=request.auth, **body.dict())  # type: ignore[attr-defined]
    return Status(201, _adjustment(adjustment))


@router.post("/finance/adjustments/{adjustment_id}/{decision}", response=AdjustmentOut, auth=jwt_auth,
             summary="Approve or reject a pending adjustment (another operator)")
def adjustment_decide(request: HttpRequest, adjustment_id: str, decision: Literal["approve", "reject"]) -> dict[str, Any]:
    adjustment = services.adjustment_decide(actor=request.auth, adjustment_id=adjustment_id,  # type: ignore[attr-defined]
                                            approve=decision == "approve")
    return _adjustment(adjustment)
