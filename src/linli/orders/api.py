"""/orders for consumers and /merchant/orders for stores: parse, call a service, shape."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from linli.core.auth import jwt_auth

from . import selectors, services
from .models import Order

router = Router(tags=["orders"], auth=jwt_auth)


class LineIn(Schema):
    product_id: str = Field(min_length=1, max_length=40)
    quantity: int = Field(description="1 to 999")
    variant: str | None = Field(None, max_length=40,
                                description="the chosen variant (规格) id; required when the product has variants")
    options: list[str] = Field(default_factory=list, max_length=services.MAX_LINE_OPTIONS,
                               description="chosen option (加料) ids, within each group's min/max")


class AddressIn(Schema):
    text: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    contact_name: str = Field(min_length=1, max_length=50)
    contact_phone: str = Field(min_length=5, max_length=32)


class OrderIn(Schema):
    store_id: str = Field(min_length=1, max_length=40)
    items: list[LineIn] = Field(max_length=100)
    fulfilment: Literal["delivery", "pickup"]
    address: AddressIn | None = None
    note: str = Field("", max_length=200)


class ActionIn(Schema):
    note: str = Field("", max_length=200)


class CollectIn(Schema):
    pickup_code: str = Field(min_length=1, max_length=12)


class ChoiceOut(Schema):
    id: str
    name: str
    delta_fen: int
    group: str


class ItemOut(Schema):
    product_id: str
    name: str
    unit_price_fen: int = Field(description="base price + variant delta + option deltas")
    quantity: int
    amount_fen: int
    variant: ChoiceOut | None
    options: list[ChoiceOut]


class PriceLineOut(Schema):
    kind: str
    label: str
    amount_fen: int
    quantity: int
    unit_price_fen: int
    product_ref: str


class EventOut(Schema):
    action: str
    from_status: str
    to_status: str
    actor_role: str
    at: str


class DeliveryOut(Schema):
    id: str
    status: str
    rider_name: str | None
    delivery_code: str | None = Field(
        None, description="The 4-digit code the consumer gives the rider at the door; only in "
                          "the consumer's own answer, while the delivery is under way")


class OrderOut(Schema):
    id: str
    status: str
    fulfilment: str
    store_id: str
    store_name: str
    items: list[ItemOut]
    price_lines: list[PriceLineOut]
    items_fen: int
    packaging_fee_fen: int
    delivery_fee_fen: int
    total_fen: int
    address: dict[str, Any] | None
    distance_m: int | None
    pickup_code: str | None
    note: str
    created_at: str
    pay_deadline: str
    paid_at: str | None
    delivery: DeliveryOut | None
    events: list[EventOut]


class OrderListOut(Schema):
    items: list[OrderOut]
    next: str | None


def _iso(dt: Any) -> str | None:
    return dt.isoformat() if dt else None


def _choice_out(choice: dict[str, Any]) -> dict[str, Any]:
    return {"id": choice["ref"], "name": choice["name"], "delta_fen": choice["delta_fen"],
            "group": choice.get("group", "")}


def order_out(order: Order, *, show_pickup_code: bool) -> dict[str, Any]:
    from linli.delivery.selectors import delivery_code_shown

    delivery = getattr(order, "delivery", None)
    return {
        "id": order.public_id, "status": order.status, "fulfilment": order.fulfilment,
        "store_id": order.store.public_id, "store_name": order.store.name,
        "items": [
            {"product_id": line["product_ref"], "name": line["label"],
             "unit_price_fen": line["unit_price_fen"], "quantity": line["quantity"],
             "amount_fen": line["amount_fen"],
             "variant": _choice_out(line["variant"]) if line.get("variant") else None,
             "options": [_choice_out(option) for option in line.get("options") or ()]}
            for line in order.price_lines if line["kind"] == "item"
        ],
        "price_lines": order.price_lines,
        "items_fen": order.items_fen, "packaging_fee_fen": order.packaging_fee_fen,
        "delivery_fee_fen": order.delivery_fee_fen, "total_fen": order.total_fen,
        "address": order.address, "distance_m": order.distance_m,
        "pickup_code": order.pickup_code if (show_pickup_code and order.pickup_code) else None,
        "note": order.note, "created_at": _iso(order.created_at),
        "pay_deadline": _iso(order.pay_deadline), "paid_at": _iso(order.paid_at),
        "delivery": {
            "id": delivery.public_id, "status": delivery.status,
            "rider_name": delivery.rider.name if delivery.rider else None,
            "delivery_code": delivery_code_shown(delivery) if show_pickup_code else None,
        } if delivery else None,
        "events": [
            {"action": e.action, "from_status": e.from_status, "to_status": e.to_status,
             "actor_role": e.actor_role, "at": _iso(e.created_at)}
            for e in order.events.all()
        ],
    }


def _consumer_view(request: HttpRequest, order: Order) -> dict[str, Any]:
    return order_out(order, show_pickup_code=order.consumer_id == request.auth.pk)  # type: ignore[attr-defined]


@router.post("/orders", response={201: OrderOut, 200: OrderOut},
             summary="Place an order (retry-safe with an Idempotency-Key header)")
def order_create(
    request: HttpRequest, payload: OrderIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> Status[dict[str, Any]]:
    address = services.AddressInput(**payload.address.dict()) if payload.address else None
    placed = services.order_place(
        consumer=request.auth,  # type: ignore[attr-defined]
        store_id=payload.store_id,
        lines=[services.LineInput(product_id=i.product_id, quantity=i.quantity, variant=i.variant,
                                  options=tuple(i.options)) for i in payload.items],
        fulfilment=payload.fulfilment, address=address, note=payload.note,
        idempotency_key=idempotency_key,
    )
    order = selectors.order_get_visible(actor=request.auth, order_id=placed.order.public_id)  # type: ignore[attr-defined]
    return Status(201 if placed.created else 200, _consumer_view(request, order))


class ListQuery(Schema):
    before: str | None = Field(None, max_length=40, description="`next` of the previous page")
    limit: int = Field(20, ge=1, le=50)


@router.get("/orders", response=OrderListOut, summary="My orders, newest first")
def order_list(request: HttpRequest, q: Query[ListQuery]) -> dict[str, Any]:
    orders = selectors.order_list_for_consumer(consumer=request.auth, limit=q.limit + 1, before=q.before)  # type: ignore[attr-defined]
    page = orders[: q.limit]
    return {
        "items": [_consumer_view(request, o) for o in page],
        "next": page[-1].public_id if len(orders) > q.limit else None,
    }


@router.get("/orders/{order_id}", response=OrderOut, summary="One order with its history")
def order_detail(request: HttpRequest, order_id: str) -> dict[str, Any]:
    return _consumer_view(request, selectors.order_get_visible(actor=request.auth, order_id=order_id))  # type: ignore[attr-defined]


def _act(request: HttpRequest, order_id: str, action: str, **kwargs: Any) -> dict[str, Any]:
    services.order_act(order_id=order_id, actor=request.auth, action=action, **kwargs)  # type: ignore[attr-defined]
    return _consumer_view(request, selectors.order_get_visible(actor=request.auth, order_id=order_id))  # type: ignore[attr-defined]


@router.post("/orders/{order_id}/cancel", response=OrderOut, summary="Cancel (refunds if paid)")
def order_cancel(request: HttpRequest, order_id: str, payload: ActionIn) -> dict[str, Any]:
    return _act(request, order_id, "cancel", note=payload.note)


@router.post("/orders/{order_id}/confirm", response=OrderOut, summary="Confirm receipt")
def order_confirm(request: HttpRequest, order_id: str) -> dict[str, Any]:
    return _act(request, order_id, "confirm")


class QueueQuery(Schema):
    status: Order.Status | None = None


@router.get("/merchant/orders", response=list[OrderOut], tags=["merchant"],
            summary="The store's live order queue, oldest first")
def merchant_queue(request: HttpRequest, q: Query[QueueQuery]) -> list[dict[str, Any]]:
    orders = selectors.order_queue_for_merchant(user=request.auth, status=q.status)  # type: ignore[attr-defined]
    return [order_out(o, show_pickup_code=False) for o in orders]


@router.post("/merchant/orders/{order_id}/collect", response=OrderOut, tags=["merchant"],
             summary="Hand a pickup order over against its pickup code")
def merchant_collect(request: HttpRequest, order_id: str, payload: CollectIn) -> dict[str, Any]:
    return _act(request, order_id, "collect", pickup_code=payload.pickup_code)


@router.post("/merchant/orders/{order_id}/{action}", response=OrderOut, tags=["merchant"],
             summary="accept, reject, prepare or ready")
def merchant_act(
    request: HttpRequest, order_id: str, action: Literal["accept", "reject", "prepare", "ready"],
    payload: ActionIn,
) -> dict[str, Any]:
    return _act(request, order_id, action, note=payload.note)
