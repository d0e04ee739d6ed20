"""/coupons/{id}/claim, /me/coupons, /stores/{id}/coupons/best: parse, call, shape."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from linli.core.auth import jwt_auth
from linli.core.errors import DomainError
from linli.core.ratelimit import limit
from linli.merchants.selectors import store_get

from . import selectors, services
from .models import Coupon

router = Router(tags=["marketing"], auth=jwt_auth)


class RefusalOut(Schema):
    code: str
    message: str
    details: dict[str, Any]


class CouponOut(Schema):
    id: str
    template_id: str
    name: str
    kind: str = Field(description="amount_off (threshold 0 = no threshold), percent_off or free_delivery")
    amount_fen: int
    percent_off: int
    cap_fen: int | None
    threshold_fen: int
    scope: str = Field(description="platform, store or category")
    store_id: str | None
    new_customers_only: bool
    stacks_with_promotions: bool
    status: str = Field(description="available, used or expired")
    valid_from: str
    valid_until: str
    order_id: str | None = Field(None, description="used: the order it paid")
    usable: bool | None = None
    reason: RefusalOut | None = Field(None, description="why it cannot be used now")


class CouponListOut(Schema):
    items: list[CouponOut]


class CouponsQuery(Schema):
    store_id: str | None = Field(None, max_length=40, description="check each coupon against this store")


class BestQuery(Schema):
    cart: str = Field(min_length=1, max_length=4000, description='"prd_a:2,prd_b:1"')
    fulfilment: Literal["delivery", "pickup", "dine_in"] = "delivery"


class CouponPriceLineOut(Schema):
    kind: str
    label: str
    amount_fen: int
    ref: str
    target: str


class CouponOptionOut(Schema):
    coupon: CouponOut
    total_fen: int | None
    saves_fen: int
    lines: list[CouponPriceLineOut]


class BestOut(Schema):
    best: CouponOptionOut | None = Field(description="the usable coupon giving the lowest total, if any saves")
    total_without_coupon_fen: int
    lines_without_coupon: list[CouponPriceLineOut]
    options: list[CouponOptionOut] = Field(description="usable coupons by total, then the refused ones with reason")


def _refusal(exc: DomainError) -> dict[str, Any]:
    return {"code": exc.code, "message": str(exc.message), "details": exc.details}


def coupon_out(coupon: Coupon, refusal: DomainError | None = None, *, checked: bool = False) -> dict[str, Any]:
    t = coupon.template
    return {
        "id": coupon.public_id, "template_id": t.public_id, "name": t.name, "kind": t.kind,
        "amount_fen": t.amount_fen, "percent_off": t.percent_off, "cap_fen": t.cap_fen,
        "threshold_fen": t.threshold_fen, "scope": t.scope,
        "store_id": t.store.public_id if t.store_id and t.store else None,
        "new_customers_only": t.new_customers_only, "stacks_with_promotions": t.stacks_with_promotions,
        "status": coupon.status, "valid_from": coupon.valid_from.isoformat(),
        "valid_until": coupon.valid_until.isoformat(),
        "order_id": coupon.order.public_id if coupon.order_id and coupon.order else None,
        "usable": (refusal is None) if checked else None,
        "reason": _refusal(refusal) if refusal else None,
    }


def _lines(breakdown: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(line).items() if k in CouponPriceLineOut.model_fields}
            for line in breakdown.lines] if breakdown else []


@router.post("/coupons/{template_id}/claim", response={201: CouponOut, 200: CouponOut},
             summary="Claim a coupon (free; retry-safe with an Idempotency-Key header)")
def coupon_claim(request: HttpRequest, template_id: str,
                 idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[dict[str, Any]]:
    limit("coupon_claim", request.auth.public_id)  # type: ignore[attr-defined]  # abuse: 429 above the budget
    claimed = services.coupon_claim(user=request.auth, template_id=template_id, key=idempotency_key)  # type: ignore[attr-defined]
    return Status(201 if claimed.created else 200, coupon_out(claimed.coupon))


@router.get("/me/coupons", response=CouponListOut, summary="My coupons: usable first, the others with why not")
def my_coupons(request: HttpRequest, q: Query[CouponsQuery]) -> dict[str, Any]:
    store = store_get(public_id=q.store_id) if q.store_id else None
    views = selectors.coupons_of(user=request.auth, now=timezone.now(), store=store)  # type: ignore[attr-defined]
    return {"items": [coupon_out(v.coupon, v.refusal, checked=True) for v in views]}


@router.get("/stores/{store_id}/coupons/best", response=BestOut,
            summary="The best of my coupons for a cart, priced like the order")
def coupons_best(request: HttpRequest, store_id: str, q: Query[BestQuery]) -> dict[str, Any]:
    store = store_get(public_id=store_id)
    cart = selectors.cart_parse(store, q.cart)
    found = selectors.coupon_best(consumer=request.auth, store=store, cart=cart,  # type: ignore[attr-defined]
                                  delivery=q.fulfilment == "delivery", now=timezone.now())

    def option(o: selectors.CouponOption) -> dict[str, Any]:
        return {"coupon": coupon_out(o.coupon, o.refusal, checked=True),
                "total_fen": o.breakdown.total_fen if o.breakdown else None,
                "saves_fen": o.saves_fen, "lines": _lines(o.breakdown)}

    return {"best": option(found.best) if found.best else None,
            "total_without_coupon_fen": found.without.total_fen,
            "lines_without_coupon": _lines(found.without),
            "options": [option(o) for o in found.options]}
