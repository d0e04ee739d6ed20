"""/merchant/transfers, /merchant/stock/{product}, /merchant/stores/{id}/alerts and
/chains/{merchant}/route: parse, call one inventory service or read, shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Header, Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from linli.core.auth import jwt_auth

from . import alerts, chains, history, transfers

router = Router(tags=["inventory"], auth=jwt_auth)


def _user(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


# --- transfers ---------------------------------------------------------------------------------

class TransferLineIn(Schema):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(max_length=40, description="the product at the source store")
    quantity: int = Field(ge=1, le=100_000)
    to_product_id: str | None = Field(None, max_length=40, description="the destination's product; "
                                      "default: the one with the same chain SKU")


class TransferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    from_store: str = Field(max_length=40)
    to_store: str = Field(max_length=40)
    lines: list[TransferLineIn] = Field(min_length=1, max_length=100)
    note: str = Field("", max_length=200)


class StockNoteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=200)


class ReceivedLineIn(Schema):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(max_length=40, description="the line's source product")
    received: int = Field(ge=0, le=100_000)
    loss_reason: str = Field("", max_length=200, description="required when fewer arrived than shipped")


class ReceiveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    lines: list[ReceivedLineIn] = Field(default_factory=list, max_length=100,
                                        description="only the lines that differ from what was shipped")
    note: str = Field("", max_length=200)


class TransferLineOut(Schema):
    product_id: str
    to_product_id: str
    name: str
    quantity: int
    received: int | None
    loss_reason: str


class TransferEventOut(Schema):
    action: str
    from_state: str
    to_state: str
    actor: str | None
    note: str
    at: datetime


class TransferOut(Schema):
    id: str
    state: str = Field(description="requested, shipped (in transit), received or cancelled")
    from_store: str
    to_store: str
    note: str
    created_at: datetime
    lines: list[TransferLineOut]
    events: list[TransferEventOut]


def _transfer(request: HttpRequest, transfer_id: str) -> dict[str, Any]:
    return transfers.transfer_out(transfers.transfer_get(actor=_user(request), transfer_id=transfer_id))


@router.post("/merchant/transfers", response={200: TransferOut, 201: TransferOut},
             summary="Ask for stock to move between two stores of the merchant (owner or manager)")
def transfer_create(request: HttpRequest, payload: TransferIn,
                    idempotency_key: str = Header("", alias="Idempotency-Key", max_length=80)) -> Status[dict[str, Any]]:
    transfer, created = transfers.transfer_request(
        actor=_user(request), from_store_id=payload.from_store, to_store_id=payload.to_store,
        lines=[transfers.LineIn(**line.model_dump()) for line in payload.lines], note=payload.note,
        idempotency_key=idempotency_key)
    return Status(201 if created else 200, _transfer(request, transfer.public_id))


@router.get("/merchant/transfers", response=list[TransferOut], summary="My merchants' transfers, newest first")
def transfer_index(request: HttpRequest, store: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
    return [transfers.transfer_out(t) for t in transfers.transfer_list(actor=_user(request), store_id=store,
                                                                        state=state)]


@router.get("/merchant/transfers/{transfer_id}", response=TransferOut, summary="One transfer with its events")
def transfer_show(request: HttpRequest, transfer_id: str) -> dict[str, Any]:
    return _transfer(request, transfer_id)


@router.post("/merchant/transfers/{transfer_id}/ship", response=TransferOut,
             summary="The goods leave the source store (stock leaves its ledger: transfer_out)")
def transfer_ship(request: HttpRequest, transfer_id: str, payload: StockNoteIn) -> dict[str, Any]:
    transfers.transfer_ship(actor=_user(request), transfer_id=transfer_id, note=payload.note)
    return _transfer(request, transfer_id)


@router.post("/merchant/transfers/{transfer_id}/receive", response=TransferOut,
             summary="The goods arrive (transfer_in; what did not arrive: transfer_loss with a reason)")
def transfer_receive(request: HttpRequest, transfer_id: str, payload: ReceiveIn) -> dict[str, Any]:
    transfers.transfer_receive(actor=_user(request), transfer_id=transfer_id, note=payload.note,
                               received=[transfers.ReceivedIn(**x.model_dump()) for x in payload.lines])
    return _transfer(request, transfer_id)


@router.post("/merchant/transfers/{transfer_id}/cancel", response=TransferOut,
             summary="Call off a transfer that has not shipped")
def transfer_cancel(request: HttpRequest, transfer_id: str, payload: StockNoteIn) -> dict[str, Any]:
    transfers.transfer_cancel(actor=_user(request), transfer_id=transfer_id, note=payload.note)
    return _transfer(request, transfer_id)


# --- stock of one product ---------------------------------------------------------------------

class InTransitOut(Schema):
    product_id: str
    outgoing: int = Field(description="shipped from this product's store, not yet received")
    incoming: int = Field(description="shipped to this product's store, not yet received")
    transfers: list[str]


class MovementOut(Schema):
    reason: str
    delta: int = Field(description="change of the available count")
    held_delta: int = Field(description="change of the units held by unpaid orders")
    reference: str
    actor: str | None
    at: datetime


class StockHistoryOut(Schema):
    product_id: str
    available: int
    held: int
    unlimited: bool
    in_transit: InTransitOut
    page: int
    pages: int
    movements: list[MovementOut]


def _in_transit(product_id: str, in_transit: transfers.InTransit) -> dict[str, Any]:
    return {"product_id": product_id, "outgoing": in_transit.outgoing, "incoming": in_transit.incoming,
            "transfers": in_transit.transfers}


@router.get("/merchant/stock/{product_id}/history", response=StockHistoryOut,
            summary="A product's stock ledger, newest first (50 a page), with its current counts")
def stock_history(request: HttpRequest, product_id: str, page: int = Query(1, ge=1)) -> dict[str, Any]:
    found = history.stock_history(actor=_user(request), product_id=product_id, page=page)
    return {"product_id": product_id, "available": found.available, "held": found.held,
            "unlimited": found.unlimited, "in_transit": _in_transit(product_id, found.in_transit),
            "page": found.page.number, "pages": found.page.paginator.num_pages,
            "movements": [{"reason": m.reason, "delta": m.delta, "held_delta": m.reserved_delta,
                           "reference": m.reference, "actor": m.actor.public_id if m.actor else None,
                           "at": m.created_at} for m in found.page.object_list]}


@router.get("/merchant/stock/{product_id}/in-transit", response=InTransitOut,
            summary="Units of this product on the road between the merchant's stores")
def stock_in_transit(request: HttpRequest, product_id: str) -> dict[str, Any]:
    found = history.stock_history(actor=_user(request), product_id=product_id, per_page=1)
    return _in_transit(product_id, found.in_transit)


class ThresholdIn(Schema):
    model_config = ConfigDict(extra="forbid")

    threshold: int | None = Field(strict=True, description="alert when available falls below it; null removes it")


class ThresholdOut(Schema):
    product_id: str
    threshold: int | None


@router.put("/merchant/stock/{product_id}/threshold", response=ThresholdOut,
            summary="Set the low-stock threshold of a product (owner or manager)")
def threshold_set(request: HttpRequest, product_id: str, payload: ThresholdIn) -> dict[str, Any]:
    rule = alerts.stock_threshold_set(actor=_user(request), product_id=product_id, threshold=payload.threshold)
    return {"product_id": product_id, "threshold": rule.threshold if rule else None}


class SkuIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sku: str | None = Field(description="the chain's identity of this item; null or \"\" removes it")


class SkuOut(Schema):
    product_id: str
    sku: str | None


@router.put("/merchant/stock/{product_id}/sku", response=SkuOut,
            summary="Set the chain SKU of a product (owner or manager): the same SKU at two stores is the same item")
def sku_set(request: HttpRequest, product_id: str, payload: SkuIn) -> dict[str, Any]:
    row = chains.chain_sku_set(actor=_user(request), product_id=product_id, sku=payload.sku)
    return {"product_id": product_id, "sku": row.sku if row else None}


class AlertOut(Schema):
    id: str
    product_id: str
    product_name: str
    threshold: int
    available: int = Field(description="the count when it fell below the threshold")
    opened_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None


@router.get("/merchant/stores/{store_id}/alerts", response=list[AlertOut],
            summary="Low-stock alerts of a store, newest first (any member)")
def alert_index(request: HttpRequest, store_id: str, open: bool = False) -> list[dict[str, Any]]:  # noqa: A002
    rows = alerts.stock_alert_list(actor=_user(request), store_id=store_id, open_only=open)[:200]
    return [_alert_out(a) for a in rows]


def _alert_out(a: Any) -> dict[str, Any]:
    return {"id": a.public_id, "product_id": a.product.public_id, "product_name": a.product.name,
            "threshold": a.threshold, "available": a.available, "opened_at": a.opened_at,
            "resolved_at": a.resolved_at, "acknowledged_at": a.acknowledged_at,
            "acknowledged_by": a.acknowledged_by.public_id if a.acknowledged_by else None}


@router.post("/merchant/alerts/{alert_id}/acknowledge", response=AlertOut,
             summary="Mark a low-stock alert as seen (owner or manager); it stays open until restocked")
def alert_acknowledge(request: HttpRequest, alert_id: str) -> dict[str, Any]:
    return _alert_out(alerts.stock_alert_acknowledge(actor=_user(request), alert_id=alert_id))


# --- chain routing ---------------------------------------------------------------------------

class CartItemIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sku: str | None = Field(None, max_length=40)
    product_id: str | None = Field(None, max_length=40, description="any store's product with a chain SKU")
    quantity: int = Field(ge=1, le=999)


class RouteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    items: list[CartItemIn] = Field(min_length=1, max_length=100)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    allow_split: bool = Field(False, description="two stores may share the cart when no single one can")
    exclude: list[str] = Field(default_factory=list, max_length=50, description="stores to pass over")


class RerouteIn(RouteIn):
    rejected_store: str = Field(max_length=40, description="the store that refused the order")


class RouteItemOut(Schema):
    sku: str
    product_id: str = Field(description="the product to order at this store")
    quantity: int


class RouteStoreOut(Schema):
    store_id: str
    name: str
    distance_m: int
    items: list[RouteItemOut]


class RouteOtherOut(Schema):
    store_id: str
    name: str
    reason: str = Field(description="farther, missing_items, out_of_range, closed, excluded, not_in_best_split")
    missing: list[str]


class RouteOut(Schema):
    kind: str = Field(description="single, split or none")
    why: str | None = Field(description="nearest_with_all_items or split_no_single_store")
    stores: list[RouteStoreOut]
    others: list[RouteOtherOut]


def _route(merchant_id: str, payload: RouteIn, rejected: str | None = None) -> dict[str, Any]:
    return chains.chain_route(merchant_id=merchant_id, lat=payload.lat, lng=payload.lng,
                              items=[chains.CartItem(**i.model_dump()) for i in payload.items],
                              allow_split=payload.allow_split, exclude=payload.exclude, rejected_store_id=rejected)


@router.post("/chains/{merchant_id}/route", response=RouteOut,
             summary="Which store of a chain should take this delivery cart, and why")
def chain_route(request: HttpRequest, merchant_id: str, payload: RouteIn) -> dict[str, Any]:
    return _route(merchant_id, payload)


@router.post("/chains/{merchant_id}/reroute", response=RouteOut,
             summary="The next best store after one refused the order")
def chain_reroute(request: HttpRequest, merchant_id: str, payload: RerouteIn) -> dict[str, Any]:
    return _route(merchant_id, payload, rejected=payload.rejected_store)
