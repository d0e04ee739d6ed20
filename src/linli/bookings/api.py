"""Bookings: service appointments over /api/v1 (docs/bookings.md). Parse, call one service or
selector, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from linli.core.auth import jwt_auth

from . import errors, selectors, services
from .models import BookableService, Booking, BookingSettings, Resource

router = Router(tags=["bookings"])


class ServiceOut(Schema):
    id: str = Field(description="the catalog product id (prd_...)")
    name: str
    price_fen: int
    duration_minutes: int
    buffer_minutes: int
    seats: int = Field(description="1: one person at a time; more: a class")
    skill: str


class ResourceOut(Schema):
    id: str
    kind: str
    name: str
    skills: list[str]
    working_hours: list[Any] = Field(description="weekly periods as store hours; [] = the store's")
    is_active: bool


class SlotResourceOut(Schema):
    id: str
    seats_left: int


class SlotOut(Schema):
    start: str
    end: str
    resources: list[SlotResourceOut]


class AvailabilityOut(Schema):
    store_id: str
    service: ServiceOut
    timezone: str
    slots: list[SlotOut]


class AvailabilityQuery(Schema):
    service: str = Field(description="a bookable service of the store (prd_...)")
    date: str = Field(description="first local date, YYYY-MM-DD")
    days: int = Field(1, ge=1, le=31)
    resource: str | None = Field(None, description="only this staff member / room / machine")


class BookingEventOut(Schema):
    action: str
    from_status: str
    to_status: str
    actor_role: str
    note: str
    at: str


class BookingOut(Schema):
    id: str
    store_id: str
    store_name: str
    service: ServiceOut
    resource: ResourceOut
    start: str
    end: str
    status: str
    price_fen: int
    payment: str
    fee_fen: int = Field(description="late-cancel fee (kept from the prepayment, or owed at the store)")
    prepay_fen: int = Field(description="deposit or full price paid online; 0 = pay at the store")
    order_id: str | None = Field(description="the order to pay (POST /orders/{id}/payments) when prepay_fen > 0")
    refunded_fen: int
    note: str
    reschedule_count: int
    actions: list[str] = Field(description="what the caller may do now")


class BookingDetailOut(BookingOut):
    events: list[BookingEventOut]


class BookIn(Schema):
    store_id: str
    service_id: str
    start: datetime = Field(description="ISO 8601 with offset, e.g. 2026-12-01T10:00:00+08:00")
    resource_id: str | None = None
    note: str = Field("", max_length=200)


class RescheduleIn(Schema):
    start: datetime
    resource_id: str | None = None


class BookingNoteIn(Schema):
    note: str = Field("", max_length=200)


class BookingListOut(Schema):
    items: list[BookingOut]


class SettingsIn(Schema):
    payment: Literal["none", "deposit", "full"] | None = None
    deposit_fen: int | None = None
    auto_confirm: bool | None = None
    step_minutes: int | None = None
    lead_minutes: int | None = None
    horizon_days: int | None = None
    cancel_deadline_minutes: int | None = None
    late_cancel_fee_fen: int | None = None
    reschedule_deadline_minutes: int | None = None
    no_show_forfeit: bool | None = None


class SettingsOut(Schema):
    payment: str
    deposit_fen: int
    auto_confirm: bool
    step_minutes: int
    lead_minutes: int
    horizon_days: int
    cancel_deadline_minutes: int
    late_cancel_fee_fen: int
    reschedule_deadline_minutes: int
    no_show_forfeit: bool


class ServiceIn(Schema):
    product_id: str
    buffer_minutes: int = 0
    seats: int = 1
    skill: str = ""
    is_active: bool = True


class ResourceIn(Schema):
    name: str
    kind: Literal["staff", "room", "machine"] = "staff"
    skills: list[str] = Field(default_factory=list)
    working_hours: list[Any] = Field(default_factory=list)
    is_active: bool = True
    user_id: str | None = None


class TimeOffIn(Schema):
    starts_at: datetime
    ends_at: datetime
    reason: str = Field("", max_length=100)


class TimeOffOut(Schema):
    resource_id: str
    starts_at: str
    ends_at: str
    reason: str


class CalendarQuery(Schema):
    date: str
    view: Literal["day", "week"] = "day"
    resource: str | None = None


class CalendarOut(Schema):
    store_id: str
    timezone: str
    days: list[str]
    resources: list[ResourceOut]
    bookings: list[BookingOut]


def service_out(service: BookableService) -> dict[str, Any]:
    p = service.product
    return {"id": p.public_id, "name": p.name, "price_fen": p.price_fen, "duration_minutes": p.duration_minutes or 0,
            "buffer_minutes": service.buffer_minutes, "seats": service.seats, "skill": service.skill}


def resource_out(r: Resource) -> dict[str, Any]:
    return {"id": r.public_id, "kind": r.kind, "name": r.name, "skills": r.skills or [],
            "working_hours": r.working_hours or [], "is_active": r.is_active}


def local_iso(moment: datetime, tz: str) -> str:
    """A moment as ISO 8601 in the store's time zone (what people at the store read)."""
    return moment.astimezone(ZoneInfo(tz)).isoformat()


def booking_out(b: Booking, *, role: str) -> dict[str, Any]:
    tz = b.store.timezone
    return {"id": b.public_id, "store_id": b.store.public_id, "store_name": b.store.name,
            "service": service_out(b.service), "resource": resource_out(b.resource),
            "start": local_iso(b.starts_at, tz), "end": local_iso(b.ends_at, tz), "status": b.status,
            "price_fen": b.price_fen, "payment": b.payment, "fee_fen": b.fee_fen, "note": b.note,
            "prepay_fen": b.prepay_fen, "order_id": b.order.public_id if b.order_id else None,
            "refunded_fen": b.refunded_fen,
            "reschedule_count": b.reschedule_count, "actions": services.MACHINE.actions_from(b.status, role)}


def _detail(b: Booking, *, role: str) -> dict[str, Any]:
    return {**booking_out(b, role=role), "events": [
        {"action": e.action, "from_status": e.from_status, "to_status": e.to_status, "actor_role": e.actor_role,
         "note": e.note, "at": e.created_at.isoformat()} for e in b.events.all()]}


def settings_out(s: BookingSettings) -> dict[str, Any]:
    return {name: getattr(s, name) for name in SettingsOut.model_fields}


# --- consumers ------------------------------------------------------------------------------------

@router.get("/stores/{store_id}/booking-services", response=list[ServiceOut],
            summary="A store's bookable services")
def store_services(request: HttpRequest, store_id: str) -> list[dict[str, Any]]:
    from linli.merchants.selectors import store_get

    return [service_out(s) for s in selectors.services_of_store(store=store_get(public_id=store_id))]


@router.get("/stores/{store_id}/availability", response=AvailabilityOut,
            summary="Bookable slots of a service from a local date (1..31 days)")
def availability(request: HttpRequest, store_id: str, q: Query[AvailabilityQuery]) -> dict[str, Any]:
    found = selectors.availability_get(store_id=store_id, service_id=q.service, day=services.day_parse(q.date),
                                       days=q.days, resource_id=q.resource)
    tz = found.store.timezone
    return {"store_id": found.store.public_id, "service": service_out(found.service),
            "timezone": found.store.timezone,
            "slots": [{"start": local_iso(s.starts_at, tz), "end": local_iso(s.ends_at, tz),
                       "resources": [{"id": key, "seats_left": left} for key, left in s.resources]}
                      for s in found.slots]}


@router.post("/bookings", response={200: BookingOut, 201: BookingOut}, auth=jwt_auth,
             summary="Book a service (retry-safe with an Idempotency-Key header)")
def booking_create(request: HttpRequest, payload: BookIn,
                   idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[dict[str, Any]]:
    done = services.booking_create(consumer=request.auth, store_id=payload.store_id,  # type: ignore[attr-defined]
                                   service_id=payload.service_id, start=payload.start,
                                   resource_id=payload.resource_id, note=payload.note,
                                   idempotency_key=idempotency_key)
    return Status(201 if done.created else 200, booking_out(done.booking, role="consumer"))


@router.get("/bookings", response=BookingListOut, auth=jwt_auth, summary="My bookings")
def my_bookings(request: HttpRequest, upcoming: bool | None = None) -> dict[str, Any]:
    rows = selectors.bookings_of(user=request.auth, upcoming=upcoming)  # type: ignore[attr-defined]
    return {"items": [booking_out(b, role="consumer") for b in rows]}


@router.get("/bookings/{booking_id}", response=BookingDetailOut, auth=jwt_auth, summary="One of my bookings")
def my_booking(request: HttpRequest, booking_id: str) -> dict[str, Any]:
    booking = selectors.booking_of(user=request.auth, booking_id=booking_id)  # type: ignore[attr-defined]
    return _detail(booking, role="consumer")


@router.post("/bookings/{booking_id}/cancel", response=BookingOut, auth=jwt_auth,
             summary="Cancel my booking (a late-cancel fee may apply after the store's deadline)")
def my_booking_cancel(request: HttpRequest, booking_id: str, payload: BookingNoteIn) -> dict[str, Any]:
    booking = services.booking_act(actor=request.auth, booking_id=booking_id,  # type: ignore[attr-defined]
                                   action="cancel", note=payload.note)
    return booking_out(booking, role="consumer")


@router.post("/bookings/{booking_id}/reschedule", response=BookingOut, auth=jwt_auth,
             summary="Move my booking to another time (until the store's deadline)")
def my_booking_reschedule(request: HttpRequest, booking_id: str, payload: RescheduleIn) -> dict[str, Any]:
    booking = services.booking_reschedule(actor=request.auth, booking_id=booking_id,  # type: ignore[attr-defined]
                                          start=payload.start, resource_id=payload.resource_id)
    return booking_out(booking, role="consumer")


# --- merchants --------------------------------------------------------------------------------------

@router.get("/merchant/stores/{store_id}/booking-settings", response=SettingsOut, auth=jwt_auth,
            summary="The store's booking rules")
def settings_get(request: HttpRequest, store_id: str) -> dict[str, Any]:
    from linli.merchants.selectors import store_for_member

    store, _role = store_for_member(user=request.auth, store_id=store_id,  # type: ignore[attr-defined]
                                    permission="store.view")
    return settings_out(selectors.settings_of(store))


@router.post("/merchant/stores/{store_id}/booking-settings", response=SettingsOut, auth=jwt_auth,
             summary="Change the store's booking rules (owner or manager)")
def settings_set(request: HttpRequest, store_id: str, payload: SettingsIn) -> dict[str, Any]:
    changes = payload.model_dump(exclude_none=True)
    return settings_out(services.settings_update(actor=request.auth, store_id=store_id,  # type: ignore[attr-defined]
                                                 changes=changes))


@router.post("/merchant/stores/{store_id}/booking-services", response=ServiceOut, auth=jwt_auth,
             summary="Make a catalog service bookable or change its terms (owner or manager)")
def service_set(request: HttpRequest, store_id: str, payload: ServiceIn) -> dict[str, Any]:
    return service_out(services.service_configure(actor=request.auth, store_id=store_id,  # type: ignore[attr-defined]
                                                  **payload.model_dump()))


def _spec(payload: ResourceIn) -> services.ResourceSpec:
    return services.ResourceSpec(name=payload.name, kind=payload.kind, skills=tuple(payload.skills),
                                 working_hours=payload.working_hours, is_active=payload.is_active,
                                 user_id=payload.user_id)


@router.get("/merchant/stores/{store_id}/resources", response=list[ResourceOut], auth=jwt_auth,
            summary="Staff members, rooms and machines of the store")
def resources_list(request: HttpRequest, store_id: str) -> list[dict[str, Any]]:
    _store, rows = selectors.resources_of_store(actor=request.auth, store_id=store_id)  # type: ignore[attr-defined]
    return [resource_out(r) for r in rows]


@router.post("/merchant/stores/{store_id}/resources", response={201: ResourceOut}, auth=jwt_auth,
             summary="Add a staff member, room or machine (owner or manager)")
def resource_add(request: HttpRequest, store_id: str, payload: ResourceIn) -> Status[dict[str, Any]]:
    resource = services.resource_save(actor=request.auth, store_id=store_id,  # type: ignore[attr-defined]
                                      spec=_spec(payload))
    return Status(201, resource_out(resource))


@router.post("/merchant/stores/{store_id}/resources/{resource_id}", response=ResourceOut, auth=jwt_auth,
             summary="Change a staff member, room or machine (owner or manager)")
def resource_change(request: HttpRequest, store_id: str, resource_id: str, payload: ResourceIn) -> dict[str, Any]:
    return resource_out(services.resource_save(actor=request.auth, store_id=store_id,  # type: ignore[attr-defined]
                                               spec=_spec(payload), resource_id=resource_id))


@router.post("/merchant/stores/{store_id}/resources/{resource_id}/time-off", response={201: TimeOffOut},
             auth=jwt_auth, summary="Mark a resource away (leave, repair)")
def time_off(request: HttpRequest, store_id: str, resource_id: str, payload: TimeOffIn) -> Status[dict[str, Any]]:
    row = services.time_off_add(actor=request.auth, store_id=store_id,  # type: ignore[attr-defined]
                                resource_id=resource_id, starts_at=payload.starts_at, ends_at=payload.ends_at,
                                reason=payload.reason)
    return Status(201, {"resource_id": resource_id, "starts_at": row.starts_at.isoformat(),
                        "ends_at": row.ends_at.isoformat(), "reason": row.reason})


@router.get("/merchant/stores/{store_id}/bookings", response=CalendarOut, auth=jwt_auth,
            summary="The store's calendar: a day or a week of bookings by resource")
def calendar(request: HttpRequest, store_id: str, q: Query[CalendarQuery]) -> dict[str, Any]:
    found = selectors.calendar_get(actor=request.auth, store_id=store_id,  # type: ignore[attr-defined]
                                   first=services.day_parse(q.date), days=7 if q.view == "week" else 1,
                                   resource_id=q.resource)
    return {"store_id": found.store.public_id, "timezone": found.store.timezone,
            "days": [d.isoformat() for d in found.days], "resources": [resource_out(r) for r in found.resources],
            "bookings": [booking_out(b, role="merchant") for b in found.bookings]}


@router.post("/merchant/bookings/{booking_id}/reschedule", response=BookingOut, auth=jwt_auth,
             summary="Move a booking of the store (until its start)")
def merchant_reschedule(request: HttpRequest, booking_id: str, payload: RescheduleIn) -> dict[str, Any]:
    booking = services.booking_reschedule(actor=request.auth, booking_id=booking_id,  # type: ignore[attr-defined]
                                          start=payload.start, resource_id=payload.resource_id)
    return booking_out(booking, role="merchant")


@router.post("/merchant/bookings/{booking_id}/{action}", response=BookingOut, auth=jwt_auth,
             summary="confirm, check_in, complete, no_show or cancel a booking of the store")
def merchant_act(request: HttpRequest, booking_id: str, action: str, payload: BookingNoteIn) -> dict[str, Any]:
    if action not in services.MERCHANT_ACTIONS:
        raise errors.BookingNotFound(action=action[:20])
    booking = services.booking_act(actor=request.auth, booking_id=booking_id,  # type: ignore[attr-defined]
                                   action=action, note=payload.note)
    return booking_out(booking, role="merchant")
