"""/pos/...: the counter's API (merchant console and third-party POS hardware), staff of
the store only. Thin: parse, call one service or selector, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from ninja import Query, Router, Schema, Status
from pydantic import Field

from linli.accounts.phone import phone_mask
from linli.core.auth import jwt_auth

from . import gateway_sales, selectors, services, sync
from .conflicts import conflict_actions
from .conflicts import conflict_resolve as resolve
from .models import Sale, SaleReturn, SyncBatch, SyncConflict
from .points import points_balance, spend_12m_fen
from .points_rules import tier_for
from .receipt import escpos_text

router = Router(tags=["pos"], auth=jwt_auth)


class CounterIn(Schema):
    name: str = Field(min_length=1, max_length=50)


class CounterOut(Schema):
    id: str
    store_id: str
    name: str


class BarcodeIn(Schema):
    product_id: str = Field(max_length=40)
    code: str = Field(max_length=20)


class MemberPriceIn(Schema):
    product_id: str = Field(max_length=40)
    price_fen: int | None = Field(default=None, ge=1, le=10_000_000)


class IdentifyIn(Schema):
    store_id: str = Field(max_length=40)
    code: str = Field(max_length=40)
    counter_id: str = Field(default="", max_length=40)


class PosMemberOut(Schema):
    id: str
    phone: str | None
    tier: str
    points: int
    wallet_fen: int
    member_ticket: str


class SaleLineIn(Schema):
    product_id: str | None = Field(default=None, max_length=40)
    barcode: str | None = Field(default=None, max_length=20)
    quantity: int


class SaleIn(Schema):
    counter_id: str = Field(max_length=40)
    client_sale_id: str = Field(min_length=1, max_length=64)
    lines: list[SaleLineIn] = Field(min_length=1, max_length=200)
    payment_method: Literal["cash", "wallet", "gateway_qr"]
    member_ticket: str = Field(default="", max_length=400)
    points_to_redeem: int = Field(default=0, ge=0, le=100_000_000)
    expected_total_fen: int | None = None
    member_phone: str = Field(default="", max_length=32)  # instead of a member code: kept pending


class SaleLineOut(Schema):
    line: int
    product_id: str
    barcode: str
    name: str
    quantity: int
    unit_price_fen: int
    member_price_fen: int | None
    charged_unit_fen: int
    amount_fen: int
    returned_quantity: int


class SaleQrOut(Schema):
    qr_code: str
    expires_at: datetime


class SaleOut(Schema):
    id: str
    client_sale_id: str
    store_id: str
    counter_id: str | None
    status: str
    member_id: str | None
    items_fen: int
    member_discount_fen: int
    total_fen: int
    points_redeemed: int
    points_value_fen: int
    paid_fen: int
    refunded_fen: int
    points_earned: int
    payment_method: str
    payment_id: str
    offline: bool
    cashier_id: str
    client_created_at: datetime | None
    created_at: datetime
    lines: list[SaleLineOut]
    qr: SaleQrOut | None = None  # gateway_qr while awaiting_payment: show it to the customer


class ReturnLineIn(Schema):
    line: int = Field(ge=1)
    quantity: int = Field(ge=1, le=9_999)


class ReturnIn(Schema):
    client_return_id: str = Field(min_length=1, max_length=64)
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=200)


class ReturnOut(Schema):
    id: str
    sale_id: str
    goods_fen: int
    refund_fen: int
    points_back: int
    points_reversed: int
    refund_id: str
    created_at: datetime


class SyncIn(Schema):
    counter_id: str = Field(max_length=40)
    sales: list[dict[str, Any]] = Field(min_length=1, max_length=sync.MAX_BATCH)


class SyncResultOut(Schema):
    client_sale_id: str
    status: str
    sale_id: str | None
    reasons: list[str]


class SyncOut(Schema):
    batch_id: str
    accepted: int
    duplicate: int
    conflict: int
    rejected: int
    results: list[SyncResultOut]


class ConflictOut(Schema):
    id: str
    client_sale_id: str
    sale_id: str | None
    kind: str
    reason: str
    details: dict[str, Any]
    created_at: datetime
    actions: list[str]  # what the documented rules allow (docs/pos.md "Resolving conflicts")
    resolution: str
    resolution_note: str
    resolved_at: datetime | None
    resolved_by: str | None


class ResolveIn(Schema):
    action: Literal["acknowledge", "accept_server_price", "void"]
    note: str = Field(default="", max_length=200)


class ReceiptQuery(Schema):
    format: Literal["html", "escpos"] = "html"
    width: Literal["32", "42"] = "32"


class PointsOut(Schema):
    points: int
    tier: str
    spend_12m_fen: int


def sale_out(sale: Sale) -> dict[str, Any]:
    return {
        "id": sale.public_id, "client_sale_id": sale.client_sale_id, "store_id": sale.store.public_id,
        "counter_id": sale.counter.public_id if sale.counter else None, "status": sale.status,
        "member_id": sale.member.public_id if sale.member else None, "items_fen": sale.items_fen,
        "member_discount_fen": sale.member_discount_fen, "total_fen": sale.total_fen,
        "points_redeemed": sale.points_redeemed, "points_value_fen": sale.points_value_fen,
        "paid_fen": sale.paid_fen, "refunded_fen": sale.refunded_fen, "points_earned": sale.points_earned,
        "payment_method": sale.payment_method, "payment_id": sale.payment_id, "offline": sale.offline,
        "cashier_id": sale.cashier.public_id, "client_created_at": sale.client_created_at,
        "created_at": sale.created_at, "qr": gateway_sales.sale_qr(sale),
        "lines": [{"line": line.position, "product_id": line.product.public_id, "barcode": line.barcode,
                   "name": line.name, "quantity": line.quantity, "unit_price_fen": line.unit_price_fen,
                   "member_price_fen": line.member_price_fen, "charged_unit_fen": line.charged_unit_fen,
                   "amount_fen": line.amount_fen, "returned_quantity": line.returned_quantity}
                  for line in sale.lines.select_related("product")],
    }


def return_out(ret: SaleReturn) -> dict[str, Any]:
    return {"id": ret.public_id, "sale_id": ret.sale.public_id, "goods_fen": ret.goods_fen,
            "refund_fen": ret.refund_fen, "points_back": ret.points_back,
            "points_reversed": ret.points_reversed, "refund_id": ret.refund_id, "created_at": ret.created_at}


def batch_out(batch: SyncBatch) -> dict[str, Any]:
    return {"batch_id": batch.public_id, "accepted": batch.accepted, "duplicate": batch.duplicate,
            "conflict": batch.conflict, "rejected": batch.rejected, "results": batch.results}


@router.post("/pos/stores/{store_id}/counters", response={201: CounterOut}, summary="Register a counter (manager)")
def counter_register(request: HttpRequest, store_id: str, payload: CounterIn) -> Status[dict[str, Any]]:
    counter = services.counter_register(actor=request.auth, store_id=store_id, name=payload.name)  # type: ignore[attr-defined]
    return Status(201, {"id": counter.public_id, "store_id": store_id, "name": counter.name})


@router.post("/pos/stores/{store_id}/barcodes", response={201: dict}, summary="Give a product an EAN-13 barcode")
def barcode_set(request: HttpRequest, store_id: str, payload: BarcodeIn) -> Status[dict[str, Any]]:
    services.barcode_set(actor=request.auth, store_id=store_id, product_id=payload.product_id,  # type: ignore[attr-defined]
                         code=payload.code)
    return Status(201, {"product_id": payload.product_id, "code": payload.code})


@router.post("/pos/stores/{store_id}/member-prices", response={204: None}, summary="Set or clear a member price")
def member_price_set(request: HttpRequest, store_id: str, payload: MemberPriceIn) -> Status[None]:
    services.member_price_set(actor=request.auth, store_id=store_id, product_id=payload.product_id,  # type: ignore[attr-defined]
                              price_fen=payload.price_fen)
    return Status(204, None)


@router.post("/pos/members/identify", response=PosMemberOut, summary="Scan a member code (usable once)")
def identify(request: HttpRequest, payload: IdentifyIn) -> dict[str, Any]:
    found = services.member_identify(actor=request.auth, store_id=payload.store_id,  # type: ignore[attr-defined]
                                     code=payload.code, counter_id=payload.counter_id)
    return {"id": found.user.public_id, "phone": phone_mask(found.user.phone) if found.user.phone else None,
            "tier": found.tier, "points": found.points, "wallet_fen": found.wallet_fen,
            "member_ticket": found.ticket}


@router.post("/pos/stores/{store_id}/sales", response={200: SaleOut, 201: SaleOut}, summary="Ring up a sale")
def sale_create(request: HttpRequest, store_id: str, payload: SaleIn) -> Status[dict[str, Any]]:
    result = services.sale_ring_up(
        actor=request.auth, store_id=store_id, counter_id=payload.counter_id,  # type: ignore[attr-defined]
        client_sale_id=payload.client_sale_id, lines=[line.dict(exclude_none=True) for line in payload.lines],
        payment_method=payload.payment_method, member_ticket=payload.member_ticket,
        points_to_redeem=payload.points_to_redeem, expected_total_fen=payload.expected_total_fen,
        member_phone=payload.member_phone)
    return Status(201 if result.created else 200, sale_out(result.sale))


@router.get("/pos/sales/{sale_id}", response=SaleOut, summary="A counter sale (a waiting QR sale asks the gateway)")
def sale_detail(request: HttpRequest, sale_id: str) -> dict[str, Any]:
    sale = services.sale_get(actor=request.auth, sale_id=sale_id)  # type: ignore[attr-defined]
    return sale_out(gateway_sales.sale_payment_check(sale=sale))


@router.post("/pos/sales/{sale_id}/cancel-qr", response=SaleOut, summary="Give up a waiting QR payment")
def sale_cancel_qr(request: HttpRequest, sale_id: str) -> dict[str, Any]:
    sale = services.sale_get(actor=request.auth, sale_id=sale_id)  # type: ignore[attr-defined]
    return sale_out(gateway_sales.sale_qr_cancel(sale=sale, actor=request.auth))  # type: ignore[attr-defined]


@router.get("/pos/sales/{sale_id}/receipt", summary="Receipt: HTML, or ESC/POS text 32/42 columns")
def sale_receipt(request: HttpRequest, sale_id: str, query: Query[ReceiptQuery]) -> HttpResponse:
    sale, receipt = selectors.receipt_for(actor=request.auth, sale_id=sale_id)  # type: ignore[attr-defined]
    if query.format == "escpos":
        return HttpResponse(escpos_text(receipt, width=int(query.width)), content_type="text/plain; charset=utf-8")
    return HttpResponse(render_to_string("pos/receipt.html", selectors.receipt_html_context(receipt),
                                         request=request))


@router.post("/pos/sales/{sale_id}/returns", response={200: ReturnOut, 201: ReturnOut}, summary="Return at the counter")
def sale_return(request: HttpRequest, sale_id: str, payload: ReturnIn) -> Status[dict[str, Any]]:
    before = SaleReturn.objects.filter(sale__public_id=sale_id, client_return_id=payload.client_return_id).exists()
    ret = services.sale_return(actor=request.auth, sale_id=sale_id,  # type: ignore[attr-defined]
                               client_return_id=payload.client_return_id,
                               lines=[line.dict() for line in payload.lines], reason=payload.reason)
    return Status(200 if before else 201, return_out(ret))


@router.post("/pos/sync", response=SyncOut, summary="Upload sales queued while offline")
def sync_upload(request: HttpRequest, payload: SyncIn) -> dict[str, Any]:
    return batch_out(sync.sync_upload(actor=request.auth, counter_id=payload.counter_id,  # type: ignore[attr-defined]
                                      sales=payload.sales))


def conflict_out(c: SyncConflict) -> dict[str, Any]:
    return {"id": c.public_id, "client_sale_id": c.client_sale_id, "sale_id": c.sale.public_id if c.sale else None,
            "kind": c.kind, "reason": c.reason, "details": c.details, "created_at": c.created_at,
            "actions": conflict_actions(c), "resolution": c.resolution, "resolution_note": c.resolution_note,
            "resolved_at": c.resolved_at, "resolved_by": c.resolved_by.public_id if c.resolved_by else None}


@router.get("/pos/stores/{store_id}/conflicts", response=list[ConflictOut], summary="Open offline conflicts (manager)")
def conflicts(request: HttpRequest, store_id: str) -> list[dict[str, Any]]:
    return [conflict_out(c) for c in selectors.conflicts_open(actor=request.auth, store_id=store_id)[:500]]  # type: ignore[attr-defined]


@router.post("/pos/conflicts/{conflict_id}/resolve", response=ConflictOut, summary="Resolve an offline conflict (manager)")
def conflict_resolve(request: HttpRequest, conflict_id: str, payload: ResolveIn) -> dict[str, Any]:
    return conflict_out(resolve(actor=request.auth, conflict_id=conflict_id,  # type: ignore[attr-defined]
                                action=payload.action, note=payload.note))


@router.get("/me/points", response=PointsOut, summary="My points and tier")
def my_points(request: HttpRequest) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    spend = spend_12m_fen(user)
    return {"points": points_balance(user), "tier": tier_for(spend), "spend_12m_fen": spend}
