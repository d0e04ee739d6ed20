"""Bookings: table reservations and walk-in queue over /api/v1. Parse, call one service or
selector, shape the answer (src/linli/bookings/tables/README.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from linli.core.auth import jwt_auth

from . import selectors, services
from .models import QueueTicket, Reservation, TableSetup, TableType

router = Router(tags=["table reservations and queue"])


class TableTypeOut(Schema):
    id: str
    name: str
    seats: int
    count: int
    is_active: bool


class SetupOut(Schema):
    takes_reservations: bool
    takes_queue: bool
    auto_confirm: bool
    seating_minutes: int
    slot_minutes: int
    cancel_deadline_minutes: int
    days_ahead: int
    skip_after_minutes: int


class StoreTablesOut(Schema):
    store_id: str
    settings: SetupOut
    table_types: list[TableTypeOut]
    queue_waiting: dict[str, int] = Field(description="waiting numbers today per group (A 1-2, B 3-4, C 5+ people)")


class TableSlotOut(Schema):
    starts_at: str
    available: bool
    table_type: str


class TableAvailabilityQuery(Schema):
    date: str = Field(description="the store's local date, YYYY-MM-DD")
    party_size: int


class ReservationIn(Schema):
    party_size: int
    starts_at: datetime = Field(description="a slot from /availability; without an offset, the store's local time")
    note: str = ""


class ReservationOut(Schema):
    id: str
    store_id: str
    store_name: str
    status: str = Field(description="requested, confirmed, checked_in, completed, no_show or cancelled")
    party_size: int
    starts_at: str
    ends_at: str
    table_type: str
    table_no: int
    note: str
    cancel_deadline: str


class MerchantReservationOut(ReservationOut):
    consumer: str


class CancelIn(Schema):
    reason: str = ""


class QueueIn(Schema):
    party_size: int


class QueueTicketOut(Schema):
    id: str
    store_id: str
    store_name: str
    code: str = Field(description="group letter and number, e.g. A012")
    group: str
    party_size: int
    status: str = Field(description="waiting, called (your table is ready), seated, skipped or cancelled")
    position: int = Field(description="waiting numbers ahead of this one")
    service_date: str
    called_at: str | None


class QueueGroupOut(Schema):
    group: str
    waiting: list[QueueTicketOut]
    called: list[QueueTicketOut]


class CallIn(Schema):
    group: Literal["A", "B", "C"]


class SetupIn(Schema):
    takes_reservations: bool
    takes_queue: bool
    auto_confirm: bool = True
    seating_minutes: int = 90
    slot_minutes: int = 30
    cancel_deadline_minutes: int = 60
    days_ahead: int = 14
    skip_after_minutes: int = 10


class TableTypeIn(Schema):
    name: str
    seats: int
    count: int


class TableTypePatch(Schema):
    name: str | None = None
    seats: int | None = None
    count: int | None = None
    is_active: bool | None = None


def setup_out(setup: TableSetup) -> dict[str, Any]:
    return {name: getattr(setup, name) for name in SetupOut.model_fields}


def table_type_out(t: TableType) -> dict[str, Any]:
    return {"id": t.public_id, "name": t.name, "seats": t.seats, "count": t.count, "is_active": t.is_active}


def reservation_out(r: Reservation) -> dict[str, Any]:
    return {"id": r.public_id, "store_id": r.store.public_id, "store_name": r.store.name, "status": r.status,
            "party_size": r.party_size, "starts_at": r.starts_at.isoformat(), "ends_at": r.ends_at.isoformat(),
            "table_type": r.table_type.name, "table_no": r.table_no, "note": r.note,
            "cancel_deadline": selectors.cancel_deadline(r).isoformat()}


def ticket_out(t: QueueTicket, position: int | None = None) -> dict[str, Any]:
    return {"id": t.public_id, "store_id": t.store.public_id, "store_name": t.store.name, "code": t.code,
            "group": t.group, "party_size": t.party_size, "status": t.status,
            "position": selectors.queue_position(t) if position is None else position,
            "service_date": t.service_date.isoformat(),
            "called_at": t.called_at.isoformat() if t.called_at else None}


# --- consumer ---------------------------------------------------------------------------------------

@router.get("/stores/{store_id}/tables", response=StoreTablesOut,
            summary="Whether a store takes reservations and queue numbers, its table types, today's queue")
def store_tables(request: HttpRequest, store_id: str) -> dict[str, Any]:
    found = selectors.store_tables(store_id=store_id)
    return {"store_id": found.store.public_id, "settings": setup_out(found.setup),
            "table_types": [table_type_out(t) for t in found.table_types], "queue_waiting": found.waiting}


@router.get("/stores/{store_id}/tables/availability", response=list[TableSlotOut],
            summary="The day's reservation slots and whether a table fits the party")
def availability(request: HttpRequest, store_id: str, q: Query[TableAvailabilityQuery]) -> list[dict[str, Any]]:
    slots = selectors.availability(store_id=store_id, day=selectors.parse_day(q.date), party_size=q.party_size)
    return [{"starts_at": s.starts_at.isoformat(), "available": s.available, "table_type": s.table_type}
            for s in slots]


@router.post("/stores/{store_id}/reservations", response={201: ReservationOut, 200: ReservationOut}, auth=jwt_auth,
             summary="Reserve a table (retry-safe with an Idempotency-Key header)")
def reservation_create(request: HttpRequest, store_id: str, payload: ReservationIn,
                       idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[dict[str, Any]]:
    placed = services.reservation_create(
        consumer=request.auth, store_id=store_id, party_size=payload.party_size,  # type: ignore[attr-defined]
        starts_at=payload.starts_at, note=payload.note, idempotency_key=idempotency_key)
    return Status(201 if placed.created else 200, reservation_out(placed.reservation))


@router.get("/me/reservations", response=list[ReservationOut], auth=jwt_auth, summary="My table reservations")
def my_reservations(request: HttpRequest) -> list[dict[str, Any]]:
    return [reservation_out(r) for r in selectors.reservations_of_consumer(user=request.auth)]  # type: ignore[attr-defined]


@router.get("/reservations/{reservation_id}", response=ReservationOut, auth=jwt_auth,
            summary="One of my table reservations")
def reservation_get(request: HttpRequest, reservation_id: str) -> dict[str, Any]:
    return reservation_out(selectors.reservation_of_consumer(user=request.auth, reservation_id=reservation_id))  # type: ignore[attr-defined]


@router.post("/reservations/{reservation_id}/cancel", response=ReservationOut, auth=jwt_auth,
             summary="Cancel my reservation (until the store's deadline before the slot)")
def reservation_cancel(request: HttpRequest, reservation_id: str, payload: CancelIn) -> dict[str, Any]:
    done = services.reservation_cancel(consumer=request.auth, reservation_id=reservation_id,  # type: ignore[attr-defined]
                                       reason=payload.reason)
    return reservation_out(done)


@router.post("/stores/{store_id}/queue", response={201: QueueTicketOut}, auth=jwt_auth,
             summary="Take a queue number (取号) for a walk-in party")
def queue_take(request: HttpRequest, store_id: str, payload: QueueIn) -> Status[dict[str, Any]]:
    ticket = services.queue_take(consumer=request.auth, store_id=store_id, party_size=payload.party_size)  # type: ignore[attr-defined]
    return Status(201, ticket_out(ticket))


@router.get("/queue/tickets/{ticket_id}", response=QueueTicketOut, auth=jwt_auth,
            summary="My queue number: status and position (poll it)")
def queue_ticket(request: HttpRequest, ticket_id: str) -> dict[str, Any]:
    return ticket_out(selectors.queue_ticket_of_consumer(user=request.auth, ticket_id=ticket_id))  # type: ignore[attr-defined]


@router.post("/queue/tickets/{ticket_id}/cancel", response=QueueTicketOut, auth=jwt_auth,
             summary="Give up my queue number")
def queue_cancel(request: HttpRequest, ticket_id: str) -> dict[str, Any]:
    return ticket_out(services.queue_cancel(consumer=request.auth, ticket_id=ticket_id))  # type: ignore[attr-defined]


# --- merchant ---------------------------------------------------------------------------------------

@router.put("/merchant/stores/{store_id}/table-setup", response=SetupOut, auth=jwt_auth,
            summary="Reservation and queue settings of a store (store.edit)")
def setup_save(request: HttpRequest, store_id: str, payload: SetupIn) -> dict[str, Any]:
    setup = services.table_setup_save(actor=request.auth, store_id=store_id,  # type: ignore[attr-defined]
                                      data=services.SetupInput(**payload.dict()))
    return setup_out(setup)


@router.post("/merchant/stores/{store_id}/table-types", response={201: TableTypeOut}, auth=jwt_auth,
             summary="Add a table type: seats and how many such tables (store.edit)")
def table_type_create(request: HttpRequest, store_id: str, payload: TableTypeIn) -> Status[dict[str, Any]]:
    created = services.table_type_create(actor=request.auth, store_id=store_id, name=payload.name,  # type: ignore[attr-defined]
                                         seats=payload.seats, count=payload.count)
    return Status(201, table_type_out(created))


@router.patch("/merchant/table-types/{type_id}", response=TableTypeOut, auth=jwt_auth,
              summary="Change or deactivate a table type (store.edit)")
def table_type_update(request: HttpRequest, type_id: str, payload: TableTypePatch) -> dict[str, Any]:
    changed = services.table_type_update(actor=request.auth, type_id=type_id, **payload.dict())  # type: ignore[attr-defined]
    return table_type_out(changed)


@router.get("/merchant/stores/{store_id}/reservations", response=list[MerchantReservationOut], auth=jwt_auth,
            summary="A store's reservations of one local day (today by default)")
def reservations_of_day(request: HttpRequest, store_id: str, date: str = "") -> list[dict[str, Any]]:
    day = selectors.parse_day(date) if date else None
    _store, _day, rows = selectors.reservations_of_day(actor=request.auth, store_id=store_id, day=day)  # type: ignore[attr-defined]
    return [{**reservation_out(r), "consumer": r.consumer.display_name or r.consumer.public_id} for r in rows]


@router.post("/merchant/reservations/{reservation_id}/{action}", response=ReservationOut, auth=jwt_auth,
             summary="confirm, decline, seat (check in), complete, no_show or cancel a reservation")
def reservation_act(request: HttpRequest, reservation_id: str, action: str, payload: CancelIn) -> dict[str, Any]:
    done = services.reservation_act(actor=request.auth, reservation_id=reservation_id, action=action,  # type: ignore[attr-defined]
                                    reason=payload.reason)
    return reservation_out(done)


@router.get("/merchant/stores/{store_id}/queue", response=list[QueueGroupOut], auth=jwt_auth,
            summary="Today's queue board: waiting and called numbers per group")
def queue_board(request: HttpRequest, store_id: str) -> list[dict[str, Any]]:
    _store, groups = selectors.queue_board(actor=request.auth, store_id=store_id)  # type: ignore[attr-defined]
    out = []
    for g in groups:
        out.append({"group": g.group, "waiting": [ticket_out(t, position=i) for i, t in enumerate(g.waiting)],
                    "called": [ticket_out(t, position=0) for t in g.called]})
    return out


@router.post("/merchant/stores/{store_id}/queue/call", response=QueueTicketOut, auth=jwt_auth,
             summary="Call the next waiting number of a group: its holder is told the table is ready")
def queue_call(request: HttpRequest, store_id: str, payload: CallIn) -> dict[str, Any]:
    ticket = services.queue_call_next(actor=request.auth, store_id=store_id, group=payload.group)  # type: ignore[attr-defined]
    return ticket_out(ticket)


@router.post("/merchant/queue/tickets/{ticket_id}/{action}", response=QueueTicketOut, auth=jwt_auth,
             summary="seat a number, or skip a called number that did not come")
def queue_ticket_act(request: HttpRequest, ticket_id: str, action: str) -> dict[str, Any]:
    return ticket_out(services.queue_ticket_act(actor=request.auth, ticket_id=ticket_id, action=action))  # type: ignore[attr-defined]
