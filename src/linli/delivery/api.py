"""/rider: shifts, location, tasks, earnings; /support: unlock a delivery code."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from linli.accounts.phone import phone_mask
from linli.core.auth import jwt_auth
from linli.orders.models import Order

from . import services
from .deadlines import seconds_left
from .dispatching import delivery_reject
from .models import DeliveryTask, Rider
from .onboarding import mask_id_number, rider_apply, rider_review
from .selectors import rider_earnings_today, rider_for_user, tasks_for_rider
from .states import DS
from .tracking import order_eta

router = Router(tags=["rider"], auth=jwt_auth)


class ShiftIn(Schema):
    online: bool
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


class LocationIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class DeliverIn(Schema):
    code: str = Field("", max_length=12, description="The consumer's 4-digit delivery code")


class RiderOut(Schema):
    id: str
    name: str
    online: bool
    lat: float | None
    lng: float | None
    approval: str = Field(description="applied, approved, rejected or suspended; only approved riders go online")
    vehicle: str
    max_concurrent: int
    plate: str
    id_number_masked: str = Field(description="The ID number with all but the region and last 4 hidden")


class ApplyIn(Schema):
    city_code: str = Field(min_length=1, max_length=16)
    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(max_length=32)
    vehicle: str = Field(max_length=16, description="bike, ebike, scooter or car")
    plate: str = Field("", max_length=32)
    max_concurrent: int = Field(3, ge=1, le=5)


class RiderReviewIn(Schema):
    action: str = Field(description="approve, reject or suspend")
    note: str = Field("", max_length=200)


class RejectIn(Schema):
    reason: str = Field("", max_length=400)


class EtaOut(Schema):
    order_id: str
    status: str = Field(description="The delivery task's status")
    eta: str | None = Field(description="When the rider should reach the consumer (UTC)")
    seconds_left: int | None
    stops_before: int = Field(description="Stops the rider makes before this drop-off")
    rider_name: str | None
    rider_position: dict[str, Any] | None = Field(
        description="The rider's latest position, only while the order is on its way to the consumer")


class TaskOut(Schema):
    id: str
    order_id: str
    status: str
    store_name: str
    store_address: str
    pickup: list[float]
    dropoff: list[float]
    dropoff_address: str
    dropoff_phone_masked: str | None = Field(
        description="The consumer's phone, masked (138****1234), while the task is active; else null")
    distance_m: int
    pickup_deadline: str | None = Field(description="When the food should be ready (UTC)")
    deliver_deadline: str | None = Field(description="The time promised to the consumer (UTC)")
    pickup_seconds_left: int | None = Field(description="Negative once the pickup deadline passed")
    deliver_seconds_left: int | None = Field(description="Negative once the delivery is late")
    assigned_at: str | None
    accepted_at: str | None
    arrived_at: str | None
    picked_up_at: str | None
    delivered_at: str | None
    failed_at: str | None
    fail_reason: str = Field(description="Why the delivery failed (empty unless failed)")
    returned_at: str | None
    code_attempts_left: int
    code_locked: bool
    rider_fee_fen: int | None
    late_penalty_fen: int


class EarningTaskOut(Schema):
    id: str
    order_id: str
    store_name: str
    distance_m: int
    delivered_at: str
    deliver_deadline: str | None
    rider_fee_fen: int
    late_penalty_fen: int


class EarningsOut(Schema):
    day: str = Field(description="The rider's local date")
    count: int
    total_fen: int
    late_count: int
    items: list[EarningTaskOut]


def _iso(dt: Any) -> str | None:
    return dt.isoformat() if dt else None


def rider_out(rider: Rider) -> dict[str, Any]:
    return {"id": rider.public_id, "name": rider.name, "online": rider.is_online,
            "lat": rider.lat, "lng": rider.lng, "approval": rider.approval, "vehicle": rider.vehicle,
            "max_concurrent": rider.max_concurrent, "plate": rider.plate,
            "id_number_masked": mask_id_number(rider.id_number)}


def _contact_masked(order: Order) -> str | None:
    phone = (order.address or {}).get("contact_phone")
    return phone_mask(phone) if phone else None


def task_out(task: DeliveryTask) -> dict[str, Any]:
    order, now = task.order, timezone.now()
    return {
        "id": task.public_id, "order_id": order.public_id, "status": task.status,
        "store_name": order.store.name, "store_address": order.store.address,
        "pickup": [task.pickup_lat, task.pickup_lng], "dropoff": [task.dropoff_lat, task.dropoff_lng],
        "dropoff_address": (order.address or {}).get("text", ""), "distance_m": task.distance_m,
        "dropoff_phone_masked": _contact_masked(order) if task.status in DS.ACTIVE else None,
        "pickup_deadline": _iso(task.pickup_deadline), "deliver_deadline": _iso(task.deliver_deadline),
        "pickup_seconds_left": seconds_left(task.pickup_deadline, now),
        "deliver_seconds_left": seconds_left(task.deliver_deadline, now),
        "assigned_at": _iso(task.assigned_at), "accepted_at": _iso(task.accepted_at),
        "arrived_at": _iso(task.arrived_at), "picked_up_at": _iso(task.picked_up_at),
        "delivered_at": _iso(task.delivered_at), "failed_at": _iso(task.failed_at),
        "fail_reason": task.fail_reason, "returned_at": _iso(task.returned_at),
        "code_attempts_left": max(0, services.CODE_MAX_ATTEMPTS - task.code_attempts),
        "code_locked": task.code_locked_at is not None,
        "rider_fee_fen": task.rider_fee_fen, "late_penalty_fen": task.late_penalty_fen,
    }


@router.post("/rider/shift", response=RiderOut, summary="Go online (with location) or offline")
def shift(request: HttpRequest, payload: ShiftIn) -> dict[str, Any]:
    return rider_out(services.rider_shift_set(user=request.auth, online=payload.online,  # type: ignore[attr-defined]
                                              lat=payload.lat, lng=payload.lng))


@router.post("/rider/apply", response={201: RiderOut}, summary="Apply to ride (ID number, vehicle)")
def apply(request: HttpRequest, payload: ApplyIn) -> Status:
    return Status(201, rider_out(rider_apply(user=request.auth, **payload.dict())))  # type: ignore[attr-defined]


@router.get("/rider/me", response=RiderOut, summary="My rider profile and approval state")
def me(request: HttpRequest) -> dict[str, Any]:
    return rider_out(rider_for_user(request.auth))  # type: ignore[attr-defined]


@router.post("/ops/riders/{rider_id}/review", response=RiderOut, tags=["ops"],
             summary="Approve, reject or suspend a rider (operator)")
def review(request: HttpRequest, rider_id: str, payload: RiderReviewIn) -> dict[str, Any]:
    return rider_out(rider_review(actor=request.auth, rider_id=rider_id,  # type: ignore[attr-defined]
                                  action=payload.action, note=payload.note))


@router.post("/rider/tasks/{task_id}/reject", response=TaskOut, summary="Hand an assigned task back",
             description="Only while `assigned`; the task is never offered to this rider again.")
def reject(request: HttpRequest, task_id: str, payload: RejectIn) -> dict[str, Any]:
    return task_out(delivery_reject(user=request.auth, task_id=task_id, reason=payload.reason))  # type: ignore[attr-defined]


@router.get("/orders/{order_id}/eta", response=EtaOut, tags=["orders"],
            summary="When the rider should arrive, and where they are while on the way")
def eta(request: HttpRequest, order_id: str) -> dict[str, Any]:
    answer = order_eta(user=request.auth, order_id=order_id)  # type: ignore[attr-defined]
    return {"order_id": answer.order_id, "status": answer.status, "eta": _iso(answer.eta),
            "seconds_left": answer.seconds_left, "stops_before": answer.stops_before,
            "rider_name": answer.rider_name, "rider_position": answer.rider_position}


@router.post("/rider/location", response=RiderOut, summary="Report the rider's position",
             description="At most one report per 3 s (429 `rate_limited`); a jump no vehicle could "
                         "make is kept as flagged history and not used (422 `location_implausible`).")
def location(request: HttpRequest, payload: LocationIn) -> dict[str, Any]:
    return rider_out(services.rider_location_update(user=request.auth, lat=payload.lat, lng=payload.lng))  # type: ignore[attr-defined]


@router.get("/rider/tasks", response=list[TaskOut], summary="My assigned and ongoing deliveries")
def tasks(request: HttpRequest) -> list[dict[str, Any]]:
    return [task_out(t) for t in tasks_for_rider(user=request.auth)]  # type: ignore[attr-defined]


class FailIn(Schema):
    reason: str = Field(description="unreachable, wrong_address, refused, damaged or other (other needs a note)")
    note: str = Field(default="", max_length=200)


@router.post("/rider/tasks/{task_id}/accept", response=TaskOut, summary="Accept an offered task",
             description="An assignment is an offer: not accepted within 90 s, the next tick gives it to someone else.")
def accept(request: HttpRequest, task_id: str) -> dict[str, Any]:
    return task_out(services.delivery_accept(user=request.auth, task_id=task_id))  # type: ignore[attr-defined]


@router.post("/rider/tasks/{task_id}/fail", response=TaskOut, summary="The delivery failed",
             description="The goods could not be handed over; the task stays the rider's until they are returned.")
def fail(request: HttpRequest, task_id: str, payload: FailIn) -> dict[str, Any]:
    return task_out(services.delivery_fail(user=request.auth, task_id=task_id,  # type: ignore[attr-defined]
                                           reason=payload.reason, note=payload.note))


@router.post("/rider/tasks/{task_id}/return", response=TaskOut, summary="The failed delivery's goods are back at the store")
def returned(request: HttpRequest, task_id: str) -> dict[str, Any]:
    return task_out(services.delivery_return(user=request.auth, task_id=task_id))  # type: ignore[attr-defined]


@router.post("/rider/tasks/{task_id}/arrive", response=TaskOut, summary="Arrived at the store")
def arrive(request: HttpRequest, task_id: str) -> dict[str, Any]:
    return task_out(services.delivery_arrive(user=request.auth, task_id=task_id))  # type: ignore[attr-defined]


@router.post("/rider/tasks/{task_id}/pickup", response=TaskOut, summary="Picked up at the store")
def pickup(request: HttpRequest, task_id: str) -> dict[str, Any]:
    return task_out(services.delivery_pickup(user=request.auth, task_id=task_id))  # type: ignore[attr-defined]


@router.post("/rider/tasks/{task_id}/deliver", response=TaskOut,
             summary="Handed to the customer, against their 4-digit delivery code",
             description="Wrong code: 400 `delivery_code_mismatch` (details.attempts_left); the "
                         "fifth wrong code locks the task: 423 `delivery_code_locked` until support "
                         "unlocks it. Not yet picked up: 409 `illegal_transition`.")
def deliver(request: HttpRequest, task_id: str, payload: DeliverIn) -> dict[str, Any]:
    return task_out(services.delivery_complete(user=request.auth, task_id=task_id,  # type: ignore[attr-defined]
                                               code=payload.code))


@router.get("/rider/earnings/today", response=EarningsOut, summary="Today's deliveries and earnings")
def earnings_today(request: HttpRequest) -> dict[str, Any]:
    earnings = rider_earnings_today(rider=rider_for_user(request.auth))  # type: ignore[attr-defined]
    return {
        "day": earnings.day.isoformat(), "count": earnings.count, "total_fen": earnings.total_fen,
        "late_count": earnings.late_count,
        "items": [
            {"id": t.public_id, "order_id": t.order.public_id, "store_name": t.order.store.name,
             "distance_m": t.distance_m, "delivered_at": _iso(t.delivered_at),
             "deliver_deadline": _iso(t.deliver_deadline), "rider_fee_fen": t.rider_fee_fen or 0,
             "late_penalty_fen": t.late_penalty_fen}
            for t in earnings.tasks
        ],
    }


@router.post("/support/delivery-tasks/{task_id}/unlock-code", response=TaskOut, tags=["support"],
             summary="Let the rider try the delivery code again (operator or support)")
def unlock_code(request: HttpRequest, task_id: str) -> dict[str, Any]:
    task = services.delivery_code_unlock(actor=request.auth, task_id=task_id)  # type: ignore[attr-defined]
    return task_out(DeliveryTask.objects.select_related("order__store").get(pk=task.pk))
