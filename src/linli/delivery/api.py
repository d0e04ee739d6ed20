"""/rider: shifts, location, tasks."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from linli.core.auth import jwt_auth

from . import services
from .models import DeliveryTask, Rider
from .selectors import tasks_for_rider

router = Router(tags=["rider"], auth=jwt_auth)


class ShiftIn(Schema):
    online: bool
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


class LocationIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class RiderOut(Schema):
    id: str
    name: str
    online: bool
    lat: float | None
    lng: float | None


class TaskOut(Schema):
    id: str
    order_id: str
    status: str
    store_name: str
    store_address: str
    pickup: list[float]
    dropoff: list[float]
    dropoff_address: str


def rider_out(rider: Rider) -> dict[str, Any]:
    return {"id": rider.public_id, "name": rider.name, "online": rider.is_online,
            "lat": rider.lat, "lng": rider.lng}


def task_out(task: DeliveryTask) -> dict[str, Any]:
    order = task.order
    return {
        "id": task.public_id, "order_id": order.public_id, "status": task.status,
        "store_name": order.store.name, "store_address": order.store.address,
        "pickup": [task.pickup_lat, task.pickup_lng], "dropoff": [task.dropoff_lat, task.dropoff_lng],
        "dropoff_address": (order.address or {}).get("text", ""),
    }


@router.post("/rider/shift", response=RiderOut, summary="Go online (with location) or offline")
def shift(request: HttpRequest, payload: ShiftIn) -> dict[str, Any]:
    return rider_out(services.rider_shift_set(user=request.auth, online=payload.online,  # type: ignore[attr-defined]
                                              lat=payload.lat, lng=payload.lng))


@router.post("/rider/location", response=RiderOut, summary="Report the rider's position")
def location(request: HttpRequest, payload: LocationIn) -> dict[str, Any]:
    return rider_out(services.rider_location_update(user=request.auth, lat=payload.lat, lng=payload.lng))  # type: ignore[attr-defined]


@router.get("/rider/tasks", response=list[TaskOut], summary="My assigned and ongoing deliveries")
def tasks(request: HttpRequest) -> list[dict[str, Any]]:
    return [task_out(t) for t in tasks_for_rider(user=request.auth)]  # type: ignore[attr-defined]


@router.post("/rider/tasks/{task_id}/pickup", response=TaskOut, summary="Picked up at the store")
def pickup(request: HttpRequest, task_id: str) -> dict[str, Any]:
    return task_out(services.delivery_pickup(user=request.auth, task_id=task_id))  # type: ignore[attr-defined]


@router.post("/rider/tasks/{task_id}/deliver", response=TaskOut, summary="Handed to the customer")
def deliver(request: HttpRequest, task_id: str) -> dict[str, Any]:
    return task_out(services.delivery_complete(user=request.auth, task_id=task_id))  # type: ignore[attr-defined]
