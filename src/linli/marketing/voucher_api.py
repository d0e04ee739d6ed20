"""Group-buy vouchers over /api/v1: deals (public reads), buy, my vouchers, refund unused;
merchants: look up and redeem a code (核销), the day's redemptions, create/pause deals.
Parse, call one service or selector, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from linli.core.auth import jwt_auth
from linli.merchants.selectors import store_for_member, store_get

from . import voucher_selectors as selectors
from . import voucher_services as services
from .voucher_models import Voucher, VoucherDeal, VoucherRedemption

router = Router(tags=["group-buy vouchers"])


class DealOut(Schema):
    id: str
    store_id: str
    store_name: str
    title: str
    description: str
    price_fen: int
    worth_fen: int
    uses_per_voucher: int
    valid_days: int | None = Field(description="valid N days after purchase (else valid_until)")
    valid_until: str | None
    refund_anytime: bool = Field(description="随时退: the owner may refund an unused voucher before expiry")
    refund_unused_on_expiry: bool = Field(description="过期自动退: unused uses refunded at expiry")
    total_quota: int | None
    sold_count: int
    per_user_limit: int | None
    status: str = Field(description="on_sale, paused or ended")


class DealListOut(Schema):
    items: list[DealOut]


class BuyIn(Schema):
    quantity: int = Field(1, description="vouchers in this order, 1-10")


class BuyOut(Schema):
    order_id: str
    status: str
    total_fen: int
    pay_deadline: str
    pay_url: str = Field(description="the H5 cashier for this order")


class VoucherOut(Schema):
    id: str
    deal: DealOut
    order_id: str
    code: str | None = Field(None, description="only for the owner")
    uses_total: int
    uses_left: int
    price_fen: int
    refunded_fen: int
    status: str = Field(description="active, used, expired or refunded")
    expires_at: str
    issued_at: str


class VoucherListOut(Schema):
    items: list[VoucherOut]


class RedeemIn(Schema):
    code: str = Field(min_length=1, max_length=40, description="the 12 digits (spaces allowed)")
    uses: int = Field(1, description="uses to redeem, 1 to what is left")
    counter: str = Field("", max_length=40, description="the till or device; keys are unique per counter")


class RedemptionOut(Schema):
    id: str
    voucher_id: str
    deal_title: str
    uses: int
    uses_left: int
    amount_fen: int = Field(description="the consumer's money for these uses")
    worth_fen: int
    funded_by: str
    platform_fen: int
    merchant_fen: int
    counter: str
    by: str
    redeemed_at: str


class RedemptionListOut(Schema):
    items: list[RedemptionOut]


class CounterVoucherOut(Schema):
    id: str
    deal_title: str
    uses_total: int
    uses_left: int
    status: str
    expires_at: str
    redeemable: bool
    reason: dict[str, Any] | None


class CodeQuery(Schema):
    code: str = Field(min_length=1, max_length=40)


class DayQuery(Schema):
    date: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="local day, default today")


class DealIn(Schema):
    title: str = Field(min_length=1, max_length=60)
    description: str = Field("", max_length=1000)
    price_fen: int = Field(gt=0, le=10**8)
    worth_fen: int = Field(gt=0, le=10**8)
    uses_per_voucher: int = 1
    valid_days: int | None = 30
    valid_until: datetime | None = None
    refund_anytime: bool = True
    refund_unused_on_expiry: bool = True
    total_quota: int | None = Field(None, ge=1, le=10**7)
    per_user_limit: int | None = Field(None, ge=1, le=100)


class DealActIn(Schema):
    action: Literal["pause", "resume", "end"]


def deal_out(deal: VoucherDeal) -> dict[str, Any]:
    return {"id": deal.public_id, "store_id": deal.store.public_id, "store_name": deal.store.name,
            "title": deal.title, "description": deal.description, "price_fen": deal.price_fen,
            "worth_fen": deal.worth_fen, "uses_per_voucher": deal.uses_per_voucher, "valid_days": deal.valid_days,
            "valid_until": deal.valid_until.isoformat() if deal.valid_until else None,
            "refund_anytime": deal.refund_anytime, "refund_unused_on_expiry": deal.refund_unused_on_expiry,
            "total_quota": deal.total_quota, "sold_count": deal.sold_count, "per_user_limit": deal.per_user_limit,
            "status": deal.status}


def voucher_out(voucher: Voucher, *, owner: bool) -> dict[str, Any]:
    return {"id": voucher.public_id, "deal": deal_out(voucher.deal), "order_id": voucher.order.public_id,
            "code": voucher.code if owner else None, "uses_total": voucher.uses_total,
            "uses_left": voucher.uses_left, "price_fen": voucher.price_fen, "refunded_fen": voucher.refunded_fen,
            "status": voucher.status, "expires_at": voucher.expires_at.isoformat(),
            "issued_at": voucher.issued_at.isoformat()}


def redemption_out(r: VoucherRedemption) -> dict[str, Any]:
    return {"id": r.public_id, "voucher_id": r.voucher.public_id, "deal_title": r.voucher.deal.title,
            "uses": r.uses, "uses_left": r.voucher.uses_left, "amount_fen": r.amount_fen,
            "worth_fen": r.worth_fen, "funded_by": r.funded_by, "platform_fen": r.platform_fen,
            "merchant_fen": r.merchant_fen, "counter": r.counter, "by": r.actor.public_id,
            "redeemed_at": r.redeemed_at.isoformat()}


# --- consumers ----------------------------------------------------------------------------------

@router.get("/stores/{store_id}/voucher-deals", response=DealListOut, summary="A store's group-buy deals on sale")
def store_deals(request: HttpRequest, store_id: str) -> dict[str, Any]:
    store = store_get(public_id=store_id)
    return {"items": [deal_out(d) for d in selectors.deals_of_store(store=store)]}


@router.get("/voucher-deals/{deal_id}", response=DealOut, summary="A group-buy deal")
def deal_detail(request: HttpRequest, deal_id: str) -> dict[str, Any]:
    return deal_out(selectors.deal_get(deal_id=deal_id))


@router.post("/voucher-deals/{deal_id}/buy", response={201: BuyOut, 200: BuyOut}, auth=jwt_auth,
             summary="Buy vouchers: an order to pay at the cashier (Idempotency-Key required)")
def deal_buy(request: HttpRequest, deal_id: str, payload: BuyIn,
             idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[dict[str, Any]]:
    placed = services.voucher_buy(consumer=request.auth, deal_id=deal_id,  # type: ignore[attr-defined]
                                  quantity=payload.quantity, idempotency_key=idempotency_key)
    order = placed.order
    return Status(201 if placed.created else 200, {
        "order_id": order.public_id, "status": order.status, "total_fen": order.total_fen,
        "pay_deadline": order.pay_deadline.isoformat(), "pay_url": f"/orders/{order.public_id}/pay"})


@router.get("/me/vouchers", response=VoucherListOut, auth=jwt_auth,
            summary="My vouchers: to use first (soonest to expire), then the ended ones")
def my_vouchers(request: HttpRequest) -> dict[str, Any]:
    return {"items": [voucher_out(v, owner=True)
                      for v in selectors.vouchers_of(user=request.auth)]}  # type: ignore[attr-defined]


@router.post("/me/vouchers/{voucher_id}/refund", response=VoucherOut, auth=jwt_auth,
             summary="Refund an unused voucher before it expires (随时退, when the deal allows)")
def voucher_refund(request: HttpRequest, voucher_id: str) -> dict[str, Any]:
    voucher = services.voucher_refund(consumer=request.auth, voucher_id=voucher_id)  # type: ignore[attr-defined]
    return voucher_out(selectors.voucher_of(user=request.auth, voucher_id=voucher.public_id),  # type: ignore[attr-defined]
                       owner=True)


# --- merchants ----------------------------------------------------------------------------------

@router.get("/merchant/stores/{store_id}/vouchers/lookup", response=CounterVoucherOut, auth=jwt_auth,
            summary="See a voucher by its code before redeeming it")
def voucher_lookup(request: HttpRequest, store_id: str, q: Query[CodeQuery]) -> dict[str, Any]:
    from django.utils import timezone

    store, voucher = selectors.voucher_for_counter(actor=request.auth, store_id=store_id,  # type: ignore[attr-defined]
                                                   code=q.code)
    refusal = services.voucher_refusal(voucher, store=store, uses=1, now=timezone.now())
    return {"id": voucher.public_id, "deal_title": voucher.deal.title, "uses_total": voucher.uses_total,
            "uses_left": voucher.uses_left, "status": voucher.status, "expires_at": voucher.expires_at.isoformat(),
            "redeemable": refusal is None,
            "reason": {"code": refusal.code, "message": str(refusal.message), "details": refusal.details}
            if refusal else None}


@router.post("/merchant/stores/{store_id}/vouchers/redeem", response={201: RedemptionOut, 200: RedemptionOut},
             auth=jwt_auth, summary="核销: redeem uses of a voucher by code (retry-safe per counter and key)")
def voucher_redeem(request: HttpRequest, store_id: str, payload: RedeemIn,
                   idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[dict[str, Any]]:
    done = services.voucher_redeem(actor=request.auth, store_id=store_id, code=payload.code,  # type: ignore[attr-defined]
                                   uses=payload.uses, counter=payload.counter, key=idempotency_key)
    return Status(201 if done.created else 200, redemption_out(done.redemption))


@router.get("/merchant/stores/{store_id}/voucher-redemptions", response=RedemptionListOut, auth=jwt_auth,
            summary="A store's redemptions of one day (today by default)")
def redemptions(request: HttpRequest, store_id: str, q: Query[DayQuery]) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    day = None
    if q.date:
        store, _role = store_for_member(user=request.auth, store_id=store_id)  # type: ignore[attr-defined]
        try:
            day = datetime.fromisoformat(q.date).replace(hour=12, tzinfo=ZoneInfo(store.timezone))
        except ValueError:
            from linli.core.errors import InvalidInput

            raise InvalidInput(field="date") from None
    _store, found = selectors.redemptions_of_store(actor=request.auth, store_id=store_id, day=day)  # type: ignore[attr-defined]
    return {"items": [redemption_out(r) for r in found]}


@router.get("/merchant/stores/{store_id}/voucher-deals", response=DealListOut, auth=jwt_auth,
            summary="A store's deals on sale and paused (console)")
def merchant_deals(request: HttpRequest, store_id: str) -> dict[str, Any]:
    store, _role = store_for_member(user=request.auth, store_id=store_id)  # type: ignore[attr-defined]
    return {"items": [deal_out(d) for d in selectors.deals_of_store(store=store, include_paused=True)]}


@router.post("/merchant/stores/{store_id}/voucher-deals", response={201: DealOut}, auth=jwt_auth,
             summary="Put a group-buy deal on sale (owner or manager)")
def deal_create(request: HttpRequest, store_id: str, payload: DealIn) -> Status[dict[str, Any]]:
    terms = payload.dict()
    if terms["valid_until"] is not None and "valid_days" not in payload.model_fields_set:
        terms["valid_days"] = None  # a fixed end given: not also N days
    deal = services.deal_create(actor=request.auth, store_id=store_id,  # type: ignore[attr-defined]
                                spec=services.DealSpec(**terms))
    return Status(201, deal_out(deal))


@router.post("/merchant/voucher-deals/{deal_id}/status", response=DealOut, auth=jwt_auth,
             summary="Pause, resume or end a deal (owner or manager); vouchers sold stay valid")
def deal_act(request: HttpRequest, deal_id: str, payload: DealActIn) -> dict[str, Any]:
    return deal_out(services.deal_act(actor=request.auth, deal_id=deal_id,  # type: ignore[attr-defined]
                                      action=payload.action))
