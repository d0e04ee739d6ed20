"""/orders for consumers and /merchant/orders for stores: parse, call a service, shape."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from linli.accounts.phone import phone_mask
from linli.core.auth import jwt_auth
from linli.core.ratelimit import limit

from . import fulfilment, selectors, services
from .fulfilment import order_fulfilment_out
from .models import Order
from .states import S

router = Router(tags=["orders"], auth=jwt_auth)


class LineIn(Schema):
    product_id: str = Field(min_length=1, max_length=40)
    quantity: int = Field(description="1 to 999")
    variant: str | None = Field(None, max_length=40,
                                description="the chosen variant (规格) id; required when the product has variants")
    options: list[str] = Field(default_factory=list, max_length=services.MAX_LINE_OPTIONS,
                               description="chosen option (加料) ids, within each group's min/max")


class DeliveryAddressIn(Schema):
    text: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    contact_name: str = Field(min_length=1, max_length=50)
    contact_phone: str = Field(min_length=5, max_length=32)


# Before OrderIn, which holds it: a forward reference would leave OrderIn half-built.
class InvoiceIn(Schema):
    title: str = Field(min_length=1, max_length=100, description="抬头: company or person")
    tax_no: str = Field("", max_length=24, description="税号: 18-character unified social credit "
                                                       "code (checked) or a 15/20-character tax id")
    email: str = Field(max_length=254, description="where the e-invoice is sent")


class OrderIn(Schema):
    store_id: str = Field(min_length=1, max_length=40)
    items: list[LineIn] = Field(max_length=100)
    fulfilment: Literal["delivery", "pickup", "dine_in"]
    table_id: str | None = Field(  # fulfilment modes (issue 5)
        None, max_length=40, description="dine_in: the table's id (tbl_..., from its QR code)")
    scheduled_for: datetime | None = Field(
        None, description="a slot from GET /stores/{id}/slots (aware ISO 8601); omitted = now")
    address: DeliveryAddressIn | None = None
    note: str = Field("", max_length=200)
    utensils: int | None = Field(None, description="sets of utensils, 0..20; 0 = no utensils "
                                                   "(the eco choice); omitted = not said")
    invoice: InvoiceIn | None = Field(None, description="ask for an invoice")
    expected_total_fen: int | None = Field(  # pricing (issue 5)
        None, ge=0, le=2_000_000_000,
        description="the total the client showed; if the fresh price differs the answer is 409 "
                    "`price_changed` with {expected_total_fen, total_fen, lines} and nothing is placed")
    coupon_id: str | None = Field(None, max_length=40, description="one of my coupons (cpn_..., GET /me/coupons)")
    allow_reroute: bool = Field(
        False, description="delivery from a chain store: if the store rejects the order (or does not "
                           "accept it in time), it is refunded and the same cart is placed at the "
                           "chain's next-best store, awaiting payment (docs/orders.md \"Re-routing\")")


class ActionIn(Schema):
    note: str = Field("", max_length=200)


# --- lifecycle (issue 5) schemas -----------------------------------------------------------
class ReasonIn(Schema):
    reason: str = Field("", max_length=200)


class InvoiceOut(Schema):
    title: str
    tax_no: str
    email: str


class CancelRequestOut(Schema):
    status: str = Field(description="pending, approved or declined")
    reason: str
    decline_reason: str
    at: str | None


class ReorderLineOut(Schema):
    product_id: str
    name: str
    quantity: int
    variant: str | None
    options: list[str]
    choices_label: str
    was_unit_price_fen: int
    unit_price_fen: int | None = Field(description="today's unit price; null when not orderable")
    status: str = Field(description="ok, price_changed, unavailable, sold_out, not_available_now, "
                                    "stock_low, choices_changed or gone")
    orderable: bool


class ReorderOut(Schema):
    store_id: str
    store_name: str
    store_open: bool
    fulfilment: str
    note: str
    utensils: int | None
    items: list[ReorderLineOut]
    items_fen: int = Field(description="today's sum of the orderable lines")
    changed: bool = Field(description="true when any line differs from the old order")


class StoreOrderSettingsIn(Schema):
    auto_accept: bool
    accept_timeout_minutes: int | None = Field(
        None, description="1..60; null = the platform default (5 minutes)")
    cancel_request_timeout_minutes: int | None = Field(
        None, description="1..60: an unanswered cancel request is approved after this; null = unchanged")


class StoreOrderSettingsOut(Schema):
    store_id: str
    auto_accept: bool
    accept_timeout_minutes: int | None
    effective_accept_timeout_minutes: int
    cancel_request_timeout_minutes: int


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
    kind: str = Field(description="item, discount, packaging, delivery or surcharge")
    label: str
    amount_fen: int = Field(description="negative for discounts")
    quantity: int
    unit_price_fen: int
    product_ref: str
    ref: str = Field("", description="discounts: the promotion or coupon id")
    target: str = Field("", description='discounts: "items" or "delivery"')


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


class TableRefOut(Schema):  # fulfilment modes (issue 5)
    id: str
    label: str


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
    table: TableRefOut | None = None  # fulfilment modes (issue 5): dine-in
    tab_id: str | None = None
    scheduled_for: str | None = None
    prepare_at: str | None = Field(None, description="scheduled: when the kitchen starts")
    promised_at: str | None = Field(None, description="delivery: the time promised at checkout "
                                    "(at a peak it includes the wait for a rider); a scheduled order's slot")
    delivery: DeliveryOut | None
    events: list[EventOut]
    utensils: int | None = None
    invoice: InvoiceOut | None = None
    accept_deadline: str | None = None
    cancel_reason: str = ""
    cancel_request: CancelRequestOut | None = None
    refunded_at: str | None = None
    reroute_allowed: bool = False
    rerouted_from: str | None = Field(None, description="the rejected order this one replaces")
    rerouted_to: str | None = Field(None, description="the order placed at the chain's next store")


class OrderListOut(Schema):
    items: list[OrderOut]
    next: str | None


def _iso(dt: Any) -> str | None:
    return dt.isoformat() if dt else None


def _choice_out(choice: dict[str, Any]) -> dict[str, Any]:
    return {"id": choice["ref"], "name": choice["name"], "delta_fen": choice["delta_fen"],
            "group": choice.get("group", "")}


# Once an order is over, others than its buyer (the merchant's staff) see the contact
# phone of its delivery address masked (issue 14); while it runs they need it whole.
_OVER = (S.DELIVERED, S.COMPLETED, *S.CANCELLED_ALL)


def _address_out(order: Order, *, viewer_id: int | None) -> dict[str, Any] | None:
    address = order.address
    if (address and address.get("contact_phone") and viewer_id is not None
            and viewer_id != order.consumer_id and order.status in _OVER):
        return {**address, "contact_phone": phone_mask(address["contact_phone"])}
    return address


def _price_line_out(line: dict[str, Any]) -> dict[str, Any]:
    """A stored line as `PriceLineOut` (the stored line also keeps its variant and options)."""
    return {"kind": line["kind"], "label": line["label"], "amount_fen": line["amount_fen"],
            "quantity": line["quantity"], "unit_price_fen": line["unit_price_fen"],
            "product_ref": line["product_ref"], "ref": line.get("ref", ""), "target": line.get("target", "")}


def order_out(order: Order, *, show_pickup_code: bool, viewer_id: int | None = None) -> dict[str, Any]:
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
        "price_lines": [_price_line_out(line) for line in order.price_lines],
        "items_fen": order.items_fen, "packaging_fee_fen": order.packaging_fee_fen,
        "delivery_fee_fen": order.delivery_fee_fen, "total_fen": order.total_fen,
        "address": _address_out(order, viewer_id=viewer_id), "distance_m": order.distance_m,
        "pickup_code": order.pickup_code if (show_pickup_code and order.pickup_code) else None,
        "note": order.note, "created_at": _iso(order.created_at),
        "pay_deadline": _iso(order.pay_deadline), "paid_at": _iso(order.paid_at),
        "promised_at": _iso(order.promised_at),
        "delivery": {
            "id": delivery.public_id, "status": delivery.status,
            "rider_name": delivery.rider.name if delivery.rider else None,
            "delivery_code": delivery_code_shown(delivery) if show_pickup_code else None,
        } if delivery else None,
        **order_fulfilment_out(order),
        "events": [
            {"action": e.action, "from_status": e.from_status, "to_status": e.to_status,
             "actor_role": e.actor_role, "at": _iso(e.created_at)}
            for e in order.events.all()
        ],
        **_lifecycle_out(order),
        **_reroute_out(order),
    }


def _reroute_out(order: Order) -> dict[str, Any]:
    """Chain re-routing (orders/reroute.py); reads only for the rare orders it concerns."""
    if not order.reroute_allowed:
        return {"reroute_allowed": False, "rerouted_from": None, "rerouted_to": None}
    rejected = order.status in (Order.Status.REFUNDING, Order.Status.REFUNDED)
    to = Order.objects.filter(rerouted_from=order).values_list("public_id", flat=True).first() if rejected else None
    return {"reroute_allowed": True,
            "rerouted_from": order.rerouted_from.public_id if order.rerouted_from_id else None,
            "rerouted_to": to}


def _lifecycle_out(order: Order) -> dict[str, Any]:
    return {
        "utensils": order.utensils,
        "invoice": {"title": order.invoice_title, "tax_no": order.invoice_tax_no,
                    "email": order.invoice_email} if order.invoice_title else None,
        "accept_deadline": _iso(order.accept_deadline), "cancel_reason": order.cancel_reason,
        "cancel_request": {"status": order.cancel_request, "reason": order.cancel_request_reason,
                           "decline_reason": order.cancel_decline_reason,
                           "at": _iso(order.cancel_request_at)} if order.cancel_request else None,
        "refunded_at": _iso(order.refunded_at),
    }


def _consumer_view(request: HttpRequest, order: Order) -> dict[str, Any]:
    return order_out(order, show_pickup_code=order.consumer_id == request.auth.pk,  # type: ignore[attr-defined]
                     viewer_id=request.auth.pk)  # type: ignore[attr-defined]


@router.post("/orders", response={201: OrderOut, 200: OrderOut},
             summary="Place an order (retry-safe with an Idempotency-Key header)")
def order_create(
    request: HttpRequest, payload: OrderIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> HttpResponse:
    limit("order_place", request.auth.public_id)  # type: ignore[attr-defined]  # abuse: 429 above the budget
    address = services.AddressInput(**payload.address.dict()) if payload.address else None
    placed = services.order_place(
        consumer=request.auth,  # type: ignore[attr-defined]
        store_id=payload.store_id,
        lines=[services.LineInput(product_id=i.product_id, quantity=i.quantity, variant=i.variant,
                                  options=tuple(i.options)) for i in payload.items],
        fulfilment=payload.fulfilment, address=address, note=payload.note,
        idempotency_key=idempotency_key,
        table_id=payload.table_id, scheduled_for=payload.scheduled_for,  # fulfilment modes
        extras=services.OrderExtras(
            utensils=payload.utensils,
            invoice_title=payload.invoice.title if payload.invoice else "",
            invoice_tax_no=payload.invoice.tax_no if payload.invoice else "",
            invoice_email=payload.invoice.email if payload.invoice else ""),
        expected_total_fen=payload.expected_total_fen, coupon_id=payload.coupon_id,
        reroute_allowed=payload.allow_reroute,
    )
    order = selectors.order_placed_view(actor=request.auth, placed=placed)  # type: ignore[attr-defined]
    # Encoded as is, not validated again against OrderOut: `order_out` builds exactly that
    # shape (the GET of the same order goes through the schema, and the tests compare the
    # two), and the validation was a tenth of the CPU an order costs (docs/orders.md).
    return HttpResponse(json.dumps(_consumer_view(request, order), ensure_ascii=False),
                        status=201 if placed.created else 200, content_type="application/json")


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


@router.post("/merchant/orders/{order_id}/serve", response=OrderOut, tags=["merchant"],
             summary="Dine-in: the ready order was served at its table (completes it)")
def merchant_serve(request: HttpRequest, order_id: str) -> dict[str, Any]:
    return _act(request, order_id, "serve")


@router.post("/merchant/orders/{order_id}/{action}", response=OrderOut, tags=["merchant"],
             summary="accept, reject, prepare or ready")
def merchant_act(
    request: HttpRequest, order_id: str, action: Literal["accept", "reject", "prepare", "ready"],
    payload: ActionIn,
) -> dict[str, Any]:
    return _act(request, order_id, action, note=payload.note)


# --- lifecycle (issue 5): cancel requests, re-order, store order settings -------------------

@router.post("/orders/{order_id}/cancel-request", response=OrderOut,
             summary="Ask the store to cancel an accepted order (reason required; one request)")
def order_cancel_request(request: HttpRequest, order_id: str, payload: ReasonIn) -> dict[str, Any]:
    return _act(request, order_id, "request_cancel", note=payload.reason)


@router.post("/orders/{order_id}/reorder", response=ReorderOut,
             summary="再来一单: the order's lines as a new cart at today's prices (not an order)")
def order_reorder(request: HttpRequest, order_id: str) -> dict[str, Any]:
    cart = services.order_reorder(consumer=request.auth, order_id=order_id)  # type: ignore[attr-defined]
    return {
        "store_id": cart.store.public_id, "store_name": cart.store.name,
        "store_open": cart.store_open, "fulfilment": cart.fulfilment, "note": cart.note,
        "utensils": cart.utensils, "items_fen": cart.items_fen, "changed": cart.changed,
        "items": [{"product_id": line.product_id, "name": line.name, "quantity": line.quantity,
                   "variant": line.variant, "options": list(line.options),
                   "choices_label": line.choices_label,
                   "was_unit_price_fen": line.was_unit_price_fen,
                   "unit_price_fen": line.unit_price_fen, "status": line.status,
                   "orderable": line.orderable} for line in cart.lines],
    }


@router.post("/merchant/orders/{order_id}/cancel-request/{decision}", response=OrderOut,
             tags=["merchant"],
             summary="Approve (refund) or decline (reason required) the consumer's cancel request")
def merchant_cancel_request(request: HttpRequest, order_id: str,
                            decision: Literal["approve", "decline"], payload: ReasonIn) -> dict[str, Any]:
    return _act(request, order_id, f"{decision}_cancel", note=payload.reason)


def _settings_out(found: Any) -> dict[str, Any]:
    from django.conf import settings as django_settings

    default = int(django_settings.LINLI_ACCEPT_TIMEOUT.total_seconds() // 60)
    return {"store_id": found.store.public_id, "auto_accept": found.auto_accept,
            "accept_timeout_minutes": found.accept_timeout_minutes,
            "effective_accept_timeout_minutes": found.accept_timeout_minutes or default,
            "cancel_request_timeout_minutes": found.cancel_request_timeout_minutes}


@router.get("/merchant/stores/{store_id}/order-settings", response=StoreOrderSettingsOut,
            tags=["merchant"], summary="Auto-accept and the accept timeout of a store")
def store_order_settings(request: HttpRequest, store_id: str) -> dict[str, Any]:
    _, found = services.store_order_settings_get(store_id=store_id, actor=request.auth)  # type: ignore[attr-defined]
    return _settings_out(found)


@router.put("/merchant/stores/{store_id}/order-settings", response=StoreOrderSettingsOut,
            tags=["merchant"], summary="Set auto-accept and the accept timeout (owner, manager)")
def store_order_settings_put(request: HttpRequest, store_id: str,
                             payload: StoreOrderSettingsIn) -> dict[str, Any]:
    found = services.store_order_settings_set(
        store_id=store_id, actor=request.auth,  # type: ignore[attr-defined]
        auto_accept=payload.auto_accept, accept_timeout_minutes=payload.accept_timeout_minutes,
        cancel_request_timeout_minutes=payload.cancel_request_timeout_minutes)
    return _settings_out(found)



# --- fulfilment modes (issue 5): slots, tables, table tabs, pickup-code lookup --------------

class SlotsQuery(Schema):
    fulfilment: Literal["delivery", "pickup"] = "delivery"
    lat: float | None = Field(None, ge=-90, le=90, description="delivery: where to")
    lng: float | None = Field(None, ge=-180, le=180)


class SlotsOut(Schema):
    store_id: str
    timezone: str
    slot_minutes: int
    lead_minutes: int = Field(description="preparation, plus the ride for delivery")
    slots: list[str] = Field(description="aware ISO 8601 times in the store's zone, ascending")


@router.get("/stores/{store_id}/slots", response=SlotsOut, auth=None, tags=["stores"],
            summary="Time slots for a scheduled order: today and tomorrow, store time")
def store_slots(request: HttpRequest, store_id: str, q: Query[SlotsQuery]) -> dict[str, Any]:
    found = fulfilment.delivery_slots(store_id=store_id, fulfilment=q.fulfilment, lat=q.lat,
                                      lng=q.lng)
    store = fulfilment.store_get(public_id=store_id)
    distance = (fulfilment.distance_to(store, q.lat, q.lng)
                if q.fulfilment == "delivery" and q.lat is not None and q.lng is not None else None)
    return {"store_id": store.public_id, "timezone": store.timezone,
            "slot_minutes": fulfilment.slots.SLOT_MINUTES,
            "lead_minutes": fulfilment.order_lead_minutes(store, q.fulfilment, distance),
            "slots": [slot.isoformat() for slot in found]}


class DeliveryEstimateQuery(Schema):
    lat: float = Field(ge=-90, le=90, description="where to deliver")
    lng: float = Field(ge=-180, le=180)


class DeliveryEstimateOut(Schema):
    store_id: str
    distance_m: int
    delivery_fee_fen: int = Field(description="the distance's fee, before any promotion")
    promised_at: str = Field(description="the delivery time an order placed now is promised")
    minutes: int = Field(description="from now to promised_at")
    rider_wait_minutes: int = Field(description="what the city's load adds at a peak (0: riders keep up)")


@router.get("/stores/{store_id}/delivery-estimate", response=DeliveryEstimateOut, auth=None,
            tags=["stores"], summary="Delivery fee and promised time to a point, for an order placed now")
def store_delivery_estimate(request: HttpRequest, store_id: str,
                            q: Query[DeliveryEstimateQuery]) -> dict[str, Any]:
    found = fulfilment.delivery_estimate(store_id=store_id, lat=q.lat, lng=q.lng)
    return {"store_id": found.store.public_id, "distance_m": found.distance_m,
            "delivery_fee_fen": found.fee_fen, "promised_at": found.promise.at.isoformat(),
            "minutes": found.promise.minutes, "rider_wait_minutes": found.promise.rider_wait_minutes}


class TableOut(Schema):
    id: str
    label: str
    is_active: bool
    url: str = Field(description="what the table's QR code encodes: /t/<table id> on the H5 site")


class TableIn(Schema):
    label: str = Field(min_length=1, max_length=40, description='e.g. "A12"; unique in the store')


class TablePatchIn(Schema):
    label: str | None = Field(None, min_length=1, max_length=40)
    is_active: bool | None = None


def _table_out(request: HttpRequest, table: Any) -> dict[str, Any]:
    return {"id": table.public_id, "label": table.label, "is_active": table.is_active,
            "url": request.build_absolute_uri(f"/t/{table.public_id}")}


@router.get("/merchant/stores/{store_id}/tables", response=list[TableOut], tags=["merchant"],
            summary="The store's tables (dine-in QR codes)")
def tables_list(request: HttpRequest, store_id: str) -> list[dict[str, Any]]:
    _store, tables = fulfilment.tables_list(actor=request.auth, store_id=store_id)  # type: ignore[arg-type]
    return [_table_out(request, t) for t in tables]


@router.post("/merchant/stores/{store_id}/tables", response={201: TableOut}, tags=["merchant"],
             summary="Add a table (owner or manager)")
def table_create(request: HttpRequest, store_id: str, payload: TableIn) -> Status[dict[str, Any]]:
    table = fulfilment.table_create(actor=request.auth, store_id=store_id, label=payload.label)  # type: ignore[arg-type]
    return Status(201, _table_out(request, table))


@router.patch("/merchant/stores/{store_id}/tables/{table_id}", response=TableOut,
              tags=["merchant"], summary="Rename a table or take it out of service (owner or manager)")
def table_update(request: HttpRequest, store_id: str, table_id: str,
                 payload: TablePatchIn) -> dict[str, Any]:
    table = fulfilment.table_update(actor=request.auth, store_id=store_id, table_id=table_id,  # type: ignore[arg-type]
                                    label=payload.label, is_active=payload.is_active)
    return _table_out(request, table)


class ScannedTableOut(Schema):
    id: str
    label: str
    store_id: str
    store_name: str


@router.get("/tables/{table_id}", response=ScannedTableOut, auth=None, tags=["stores"],
            summary="What a table's QR code opens: the table and its store (dine-in)")
def table_scanned(request: HttpRequest, table_id: str) -> dict[str, Any]:
    table = fulfilment.table_for_diner(table_id=table_id)
    return {"id": table.public_id, "label": table.label, "store_id": table.store.public_id,
            "store_name": table.store.name}


class TabOut(Schema):
    id: str
    status: str = Field(description="open, paying (bill asked for), paid or closed")
    table: TableRefOut
    store_id: str
    unpaid_fen: int = Field(description="what one payment of the tab would be now")
    closes_at: str
    orders: list[OrderOut]


def tab_out(tab: Any, *, viewer_id: int | None) -> dict[str, Any]:
    return {"id": tab.public_id, "status": tab.status,
            "table": {"id": tab.table.public_id, "label": tab.table.label},
            "store_id": tab.store.public_id, "unpaid_fen": fulfilment.tab_unpaid_fen(tab),
            "closes_at": _iso(tab.closes_at),
            "orders": [order_out(o, show_pickup_code=o.consumer_id == viewer_id)
                       for o in tab.orders.all()]}


@router.get("/tabs/{tab_id}", response=TabOut, summary="A table's tab (diners who ordered on it)")
def tab_detail(request: HttpRequest, tab_id: str) -> dict[str, Any]:
    tab = fulfilment.tab_get_for_diner(tab_id=tab_id, consumer=request.auth)  # type: ignore[arg-type]
    return tab_out(tab, viewer_id=request.auth.pk)  # type: ignore[attr-defined]


class TabPaymentIn(Schema):
    provider: str = "sandbox"


class TabPaymentOut(Schema):
    id: str
    tab_id: str
    provider: str
    amount_fen: int
    status: str
    pay_url: str


@router.post("/tabs/{tab_id}/payments", response={201: TabPaymentOut},
             summary="Pay the whole tab at once: one payment for every unpaid order on it")
def tab_pay(request: HttpRequest, tab_id: str, payload: TabPaymentIn) -> Status[dict[str, Any]]:
    from linli.payments.services import payment_create_for_tab

    payment = payment_create_for_tab(tab_id=tab_id, consumer=request.auth,  # type: ignore[arg-type]
                                     provider=payload.provider)
    return Status(201, {"id": payment.public_id, "tab_id": tab_id, "provider": payment.provider,
                        "amount_fen": payment.amount_fen, "status": payment.status,
                        "pay_url": payment.pay_url})


class PickupQuery(Schema):
    code: str = Field(min_length=1, max_length=12)


@router.get("/merchant/stores/{store_id}/pickup-orders", response=list[OrderOut],
            tags=["merchant"], summary="Find the store's live orders by pickup code")
def pickup_lookup(request: HttpRequest, store_id: str, q: Query[PickupQuery]) -> list[dict[str, Any]]:
    orders = fulfilment.orders_by_pickup_code(actor=request.auth, store_id=store_id, code=q.code)  # type: ignore[arg-type]
    return [order_out(o, show_pickup_code=True) for o in orders]


@router.get("/merchant/stores/{store_id}/tabs", response=list[TabOut], tags=["merchant"],
            summary="Dine-in: the unpaid table tabs with their orders, grouped by table")
def merchant_tabs(request: HttpRequest, store_id: str) -> list[dict[str, Any]]:
    store, _tables = fulfilment.tables_list(actor=request.auth, store_id=store_id)  # type: ignore[arg-type]
    return [tab_out(tab, viewer_id=None) for tab in fulfilment.tabs_for_store(store=store)]
