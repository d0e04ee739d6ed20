"""Delivery use cases. Dispatch for now is the simple rule: the nearest online rider
with a fresh location within reach of the store (the dispatch engine replaces it)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import IllegalTransition, InvalidInput, NotFound
from linli.discovery.geo import bounding_box, haversine_m
from linli.orders.models import Order
from linli.orders.services import order_transition_as

from .models import DeliveryEvent, DeliveryTask, Rider
from .selectors import rider_for_user

DISPATCH_RADIUS_M = 5000
LOCATION_FRESH_FOR = timedelta(minutes=10)


class TaskNotFound(NotFound):
    code = "delivery_task_not_found"
    message = _("The delivery task does not exist.")


class InvalidLocation(InvalidInput):
    code = "invalid_location"
    message = _("Latitude must be within ±90 and longitude within ±180.")


def _check_location(lat: float, lng: float) -> None:
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidLocation(lat=lat, lng=lng)


def _event(task: DeliveryTask, source: str, *, actor: User | None, role: str) -> None:
    DeliveryEvent.objects.create(task=task, from_status=source, to_status=task.status,
                                 actor=actor, actor_role=role)


def rider_register(*, user: User, city_code: str, name: str) -> Rider:
    rider, _created = Rider.objects.get_or_create(user=user, defaults={"city_code": city_code, "name": name})
    return rider


def rider_shift_set(*, user: User, online: bool, lat: float | None, lng: float | None) -> Rider:
    rider = rider_for_user(user)
    if online and (lat is None or lng is None):
        raise InvalidLocation()
    with transaction.atomic():
        rider = Rider.objects.select_for_update().get(pk=rider.pk)
        rider.is_online = online
        if lat is not None and lng is not None:
            _check_location(lat, lng)
            rider.lat, rider.lng, rider.location_at = lat, lng, timezone.now()
        rider.save()
    if online:
        dispatch_pending(city_code=rider.city_code)
    return rider


def rider_location_update(*, user: User, lat: float, lng: float) -> Rider:
    _check_location(lat, lng)
    rider = rider_for_user(user)
    Rider.objects.filter(pk=rider.pk).update(lat=lat, lng=lng, location_at=timezone.now())
    rider.lat, rider.lng = lat, lng
    return rider


def _nearest_rider(task: DeliveryTask) -> Rider | None:
    min_lat, max_lat, min_lng, max_lng = bounding_box(task.pickup_lat, task.pickup_lng, DISPATCH_RADIUS_M)
    candidates = Rider.objects.filter(
        city_code=task.city_code, is_online=True,
        location_at__gte=timezone.now() - LOCATION_FRESH_FOR,
        lat__range=(min_lat, max_lat), lng__range=(min_lng, max_lng),
    )
    best, best_d = None, float(DISPATCH_RADIUS_M)
    for rider in candidates:
        d = haversine_m(task.pickup_lat, task.pickup_lng, rider.lat, rider.lng)  # type: ignore[arg-type]
        if d <= best_d:
            best, best_d = rider, d
    return best


def _try_assign(task: DeliveryTask) -> bool:
    rider = _nearest_rider(task)
    if rider is None:
        return False
    task.rider = rider
    task.status = DeliveryTask.Status.ASSIGNED
    task.assigned_at = timezone.now()
    task.save(update_fields=["rider", "status", "assigned_at"])
    _event(task, DeliveryTask.Status.UNASSIGNED, actor=None, role="system")
    return True


def delivery_open_for_order(*, order: Order) -> DeliveryTask:
    """Called when the merchant accepts a delivery order, inside that transaction."""
    address = order.address or {}
    task = DeliveryTask.objects.create(
        order=order, city_code=order.city_code,
        pickup_lat=order.store.lat, pickup_lng=order.store.lng,
        dropoff_lat=float(address["lat"]), dropoff_lng=float(address["lng"]),
    )
    _event(task, "", actor=None, role="system")
    _try_assign(task)
    return task


def delivery_cancel_for_order(*, order: Order, actor: User | None) -> None:
    task = DeliveryTask.objects.select_for_update().filter(order=order).first()
    if task is None or task.status in (DeliveryTask.Status.DELIVERED, DeliveryTask.Status.CANCELLED):
        return
    source = task.status
    task.status = DeliveryTask.Status.CANCELLED
    task.save(update_fields=["status"])
    _event(task, source, actor=actor, role="system")


def dispatch_pending(*, city_code: str | None = None) -> int:
    """Assign riders to waiting tasks; returns how many were assigned."""
    assigned = 0
    waiting = DeliveryTask.objects.filter(status=DeliveryTask.Status.UNASSIGNED)
    if city_code:
        waiting = waiting.filter(city_code=city_code)
    for task_id in waiting.order_by("created_at").values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            task = DeliveryTask.objects.select_for_update(skip_locked=True).filter(
                pk=task_id, status=DeliveryTask.Status.UNASSIGNED).first()
            if task is not None and _try_assign(task):
                assigned += 1
    return assigned


def _task_for_rider(user: User, task_id: str) -> DeliveryTask:
    rider = rider_for_user(user)
    task = DeliveryTask.objects.select_for_update().select_related("order").filter(public_id=task_id).first()
    if task is None or task.rider_id != rider.pk:
        raise TaskNotFound(task_id=task_id)
    return task


@transaction.atomic
def delivery_pickup(*, user: User, task_id: str) -> DeliveryTask:
    """The rider has the food: the order is on its way."""
    task = _task_for_rider(user, task_id)
    if task.status != DeliveryTask.Status.ASSIGNED:
        raise IllegalTransition(status=task.status, action="pickup")
    order_transition_as(order=task.order, action="rider_pickup", actor=user, role="rider")
    task.status, task.picked_up_at = DeliveryTask.Status.PICKED_UP, timezone.now()
    task.save(update_fields=["status", "picked_up_at"])
    _event(task, DeliveryTask.Status.ASSIGNED, actor=user, role="rider")
    return task


@transaction.atomic
def delivery_complete(*, user: User, task_id: str) -> DeliveryTask:
    task = _task_for_rider(user, task_id)
    if task.status != DeliveryTask.Status.PICKED_UP:
        raise IllegalTransition(status=task.status, action="deliver")
    order_transition_as(order=task.order, action="deliver", actor=user, role="rider")
    task.status, task.delivered_at = DeliveryTask.Status.DELIVERED, timezone.now()
    task.save(update_fields=["status", "delivered_at"])
    _event(task, DeliveryTask.Status.PICKED_UP, actor=user, role="rider")
    return task
