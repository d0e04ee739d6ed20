"""Delivery use cases. When an order is accepted its task goes at once to the nearest
online, approved rider with room (within reach of the store); everything still waiting is
assigned by the batch dispatcher on the next tick (`dispatching.dispatch_tick`).

Every status change goes through `_move`, which checks `states.DELIVERY_MACHINE` and
writes a `DeliveryEvent` with the action, the actor and their role. Every assignment,
whichever path made it, is pushed to the rider's live channel after commit.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import PlatformRole, User
from linli.core.errors import (
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from linli.discovery.geo import bounding_box, haversine_m
from linli.orders.events import order_changed_on_commit
from linli.orders.models import Order, OrderEvent
from linli.orders.services import order_transition_as

from .deadlines import deadlines_for
from .fees import rider_fee
from .models import DeliveryEvent, DeliveryTask, Rider
from .selectors import rider_for_user
from .states import DELIVERY_MACHINE, DS

DISPATCH_RADIUS_M = 5000
LOCATION_FRESH_FOR = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
_CODE_FORMAT = re.compile(r"[0-9]{4}")


class TaskNotFound(NotFound):
    code = "delivery_task_not_found"
    message = _("The delivery task does not exist.")


class InvalidLocation(InvalidInput):
    code = "invalid_location"
    message = _("Latitude must be within ±90 and longitude within ±180.")


class DeliveryCodeFormat(InvalidInput):
    code = "delivery_code_format"
    message = _("Enter the 4-digit delivery code the customer gives you.")


class DeliveryCodeMismatch(DomainError):
    code = "delivery_code_mismatch"
    status = 400
    message = _("The delivery code is wrong.")


class DeliveryCodeLocked(DomainError):
    code = "delivery_code_locked"
    status = 423
    message = _("Too many wrong delivery codes: this delivery is locked, please contact support.")


def _check_location(lat: float, lng: float) -> None:
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidLocation(lat=lat, lng=lng)


def _event(task: DeliveryTask, source: str, *, action: str, actor: User | None, role: str) -> None:
    DeliveryEvent.objects.create(task=task, action=action, from_status=source, to_status=task.status,
                                 actor=actor, actor_role=role)


def _move(task: DeliveryTask, action: str, *, actor: User | None, role: str,
          now: datetime | None = None, fields: tuple[str, ...] = ()) -> None:
    """Apply one transition of the table to a locked task, stamp its time, write the event."""
    transition = DELIVERY_MACHINE.find(action=action, source=task.status)
    if transition is None:
        raise IllegalTransition(status=task.status, action=action)
    if role not in transition.roles:
        raise PermissionDenied(status=task.status, action=action)
    source, now = task.status, now or timezone.now()
    task.status = transition.target
    stamp = {DS.ASSIGNED: "assigned_at", DS.ACCEPTED: "accepted_at", DS.ARRIVED: "arrived_at",
             DS.PICKED_UP: "picked_up_at", DS.DELIVERED: "delivered_at", DS.FAILED: "failed_at",
             DS.RETURNED: "returned_at"}.get(transition.target)
    if stamp:
        setattr(task, stamp, now)
    task.save(update_fields=["status", *([stamp] if stamp else []), *fields])
    _event(task, source, action=action, actor=actor, role=role)


def _publish_on_commit(order: Order) -> None:
    """The same push an order status change makes (consumer page, store console, the
    assigned rider's task list), sent once the transaction has committed."""
    order_changed_on_commit(order)


def rider_register(*, user: User, city_code: str, name: str) -> Rider:
    rider, _created = Rider.objects.get_or_create(user=user, defaults={"city_code": city_code, "name": name})
    return rider


def rider_shift_set(*, user: User, online: bool, lat: float | None, lng: float | None) -> Rider:
    from .onboarding import RiderNotApproved

    rider = rider_for_user(user)
    if online and rider.approval != Rider.Approval.APPROVED:
        raise RiderNotApproved(approval=rider.approval)
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
        # A round for the city at once, in the dispatch worker, not in this request: a
        # round over thousands of open orders takes up to a second, and its solver
        # (scipy, ~50 MB) has no place in a web worker. Eager mode runs it right here.
        from linli.core.outbox import enqueue

        enqueue("linli.delivery.tasks.dispatch_pending", city_code=rider.city_code)
    return rider


def rider_location_update(*, user: User, lat: float, lng: float) -> Rider:
    """A location report (rate-limited, kept a day, flagged when implausible): tracking.py."""
    from .tracking import rider_location_report

    return rider_location_report(user=user, lat=lat, lng=lng)


def _nearest_rider(task: DeliveryTask) -> Rider | None:
    min_lat, max_lat, min_lng, max_lng = bounding_box(task.pickup_lat, task.pickup_lng, DISPATCH_RADIUS_M)
    candidates = Rider.objects.filter(
        city_code=task.city_code, is_online=True, approval=Rider.Approval.APPROVED,
        location_at__gte=timezone.now() - LOCATION_FRESH_FOR,
        lat__range=(min_lat, max_lat), lng__range=(min_lng, max_lng),
    ).annotate(open_tasks=Count("tasks", filter=Q(tasks__status__in=DS.ACTIVE))).filter(
        open_tasks__lt=F("max_concurrent"))
    best, best_d = None, float(DISPATCH_RADIUS_M)
    for rider in candidates:
        d = haversine_m(task.pickup_lat, task.pickup_lng, rider.lat, rider.lng)  # type: ignore[arg-type]
        if d <= best_d:
            best, best_d = rider, d
    return best


def _try_assign(task: DeliveryTask, *, publish: bool) -> bool:
    """Give a locked, unassigned task to the nearest rider. With `publish`, push the
    order's event after commit so the rider's open task list shows it at once; the accept
    that opens a task already pushes that event itself (orders._apply), by which time
    the task is assigned, so that path passes publish=False to avoid a duplicate."""
    nearest = _nearest_rider(task)
    if nearest is None:
        return False
    # Lock the rider and count again: a dispatch tick may be filling the same rider.
    rider = Rider.objects.select_for_update().get(pk=nearest.pk)
    if DeliveryTask.objects.filter(rider=rider, status__in=DS.ACTIVE).count() >= rider.max_concurrent:
        return False
    task.rider = rider
    _move(task, "assign", actor=None, role="system", fields=("rider",))
    if publish:
        _publish_on_commit(Order.objects.select_related("store").get(pk=task.order_id))
    return True


def _accepted_at(order: Order) -> datetime | None:
    return OrderEvent.objects.filter(order=order, action="accept").order_by("-id").values_list(
        "created_at", flat=True).first()


def delivery_open_for_order(*, order: Order) -> DeliveryTask:
    """Called when the merchant accepts a delivery order, inside that transaction: the
    task with its deadlines and the consumer's delivery code, assigned if a rider is free."""
    address: dict[str, Any] = order.address or {}
    dropoff_lat, dropoff_lng = float(address["lat"]), float(address["lng"])
    distance_m = round(haversine_m(order.store.lat, order.store.lng, dropoff_lat, dropoff_lng))
    # The deadline is the time promised at checkout (Order.promised_at); orders placed
    # before promises existed get prep time + ride.
    due = deadlines_for(now=timezone.now(), accepted_at=_accepted_at(order),
                        prep_minutes=order.store.prep_minutes, distance_m=distance_m,
                        promised_at=order.promised_at)
    task = DeliveryTask.objects.create(
        order=order, city_code=order.city_code,
        pickup_lat=order.store.lat, pickup_lng=order.store.lng,
        dropoff_lat=dropoff_lat, dropoff_lng=dropoff_lng, distance_m=distance_m,
        pickup_deadline=due.pickup, deliver_deadline=due.deliver,
        delivery_code=f"{secrets.randbelow(10_000):04d}",
    )
    _event(task, "", action="open", actor=None, role="system")
    _try_assign(task, publish=False)
    return task


def delivery_cancel_for_order(*, order: Order, actor: User | None) -> None:
    task = DeliveryTask.objects.select_for_update().filter(order=order).first()
    if task is None or task.status in DS.FINAL or task.status == DS.FAILED:
        return  # a failed task ends when the goods are back at the store
    _move(task, "cancel", actor=actor, role="system")


def dispatch_pending(*, city_code: str | None = None) -> int:
    """One batch dispatch round (the Celery beat task, and whenever a rider comes online);
    returns how many tasks were assigned. Each assignment is pushed to its rider after
    commit, like the one made when the order was accepted."""
    from .dispatching import dispatch_tick

    return dispatch_tick(city_code=city_code)


def _task_for_rider(user: User, task_id: str) -> DeliveryTask:
    rider = rider_for_user(user)
    task = DeliveryTask.objects.select_for_update().select_related("order").filter(public_id=task_id).first()
    if task is None or task.rider_id != rider.pk:
        raise TaskNotFound(task_id=task_id)
    return task


class FailReasonInvalid(InvalidInput):
    code = "fail_reason_invalid"
    message = _("Choose why the delivery failed (customer unreachable, wrong address, refused, damaged or other).")


def _rider_step(user: User, task_id: str, action: str, **changes: str) -> DeliveryTask:
    """One of the rider's own steps that leaves the order where it is: lock the task, set
    `changes`, move it, and push the order's pages once committed. Runs in the caller's
    transaction."""
    task = _task_for_rider(user, task_id)
    for name, value in changes.items():
        setattr(task, name, value)
    _move(task, action, actor=user, role="rider", fields=tuple(changes))
    _publish_on_commit(Order.objects.select_related("store").get(pk=task.order_id))
    return task


@transaction.atomic
def delivery_accept(*, user: User, task_id: str) -> DeliveryTask:
    """The rider takes the offer (抢单/接单): the tick no longer takes it back as unanswered."""
    return _rider_step(user, task_id, "accept")


@transaction.atomic
def delivery_fail(*, user: User, task_id: str, reason: str, note: str = "") -> DeliveryTask:
    """The goods cannot be handed over. The rider stays busy with the task (the goods go
    back to the store: `delivery_return`); the order stays as it was for support to refund
    or re-deliver, and the consumer's page and the store's queue are told at once."""
    if reason not in DeliveryTask.FailReason.values:
        raise FailReasonInvalid(reason=reason)
    note = (note or "").strip()[:200]
    if reason == DeliveryTask.FailReason.OTHER and not note:
        raise FailReasonInvalid(reason=reason, note="required")
    return _rider_step(user, task_id, "fail", fail_reason=reason, fail_note=note)


@transaction.atomic
def delivery_return(*, user: User, task_id: str) -> DeliveryTask:
    """The failed delivery's goods are back at the store: the rider is free of the task."""
    return _rider_step(user, task_id, "return")


@transaction.atomic
def delivery_arrive(*, user: User, task_id: str) -> DeliveryTask:
    """The rider is at the store (the order itself does not move)."""
    return _rider_step(user, task_id, "arrive")


@transaction.atomic
def delivery_pickup(*, user: User, task_id: str) -> DeliveryTask:
    """The rider has the food: the order is on its way."""
    task = _task_for_rider(user, task_id)
    if DELIVERY_MACHINE.find(action="pickup", source=task.status) is None:
        raise IllegalTransition(status=task.status, action="pickup")
    order_transition_as(order=task.order, action="rider_pickup", actor=user, role="rider")
    _move(task, "pickup", actor=user, role="rider")
    return task


def delivery_complete(*, user: User, task_id: str, code: str) -> DeliveryTask:
    """Handed over against the consumer's 4-digit code (compared in constant time).
    A wrong code is counted (and the count kept even though the call fails); the fifth
    wrong one locks the task until support unlocks it. The right code delivers the order
    and stores the rider's fee."""
    code = (code or "").strip()
    failure: DomainError | None = None
    with transaction.atomic():
        task = _task_for_rider(user, task_id)
        if DELIVERY_MACHINE.find(action="deliver", source=task.status) is None:
            raise IllegalTransition(status=task.status, action="deliver")
        if not _CODE_FORMAT.fullmatch(code):
            raise DeliveryCodeFormat()  # a typo, not a guess: not counted
        if task.code_locked_at is not None:
            raise DeliveryCodeLocked(attempts=task.code_attempts)
        if not secrets.compare_digest(code.encode(), task.delivery_code.encode()):
            task.code_attempts += 1
            left = CODE_MAX_ATTEMPTS - task.code_attempts
            if left <= 0:
                task.code_locked_at = timezone.now()
                task.save(update_fields=["code_attempts", "code_locked_at"])
                _event(task, task.status, action="code_locked", actor=user, role="rider")
                failure = DeliveryCodeLocked(attempts=task.code_attempts)
            else:
                task.save(update_fields=["code_attempts"])
                failure = DeliveryCodeMismatch(attempts_left=left)
        else:
            order_transition_as(order=task.order, action="deliver", actor=user, role="rider")
            now = timezone.now()
            late_s = (now - task.deliver_deadline).total_seconds() if task.deliver_deadline else 0
            fee = rider_fee(task.distance_m, late_s)
            task.rider_fee_fen, task.late_penalty_fen = fee.total_fen, fee.late_penalty_fen
            _move(task, "deliver", actor=user, role="rider", now=now,
                  fields=("rider_fee_fen", "late_penalty_fen"))
    if failure is not None:
        raise failure  # after the block: the attempt count is committed
    return task


@transaction.atomic
def delivery_code_unlock(*, actor: User, task_id: str) -> DeliveryTask:
    """Support, having checked with the consumer, lets the rider try the code again."""
    if actor.platform_role not in (PlatformRole.OPERATOR, PlatformRole.SUPPORT):
        raise PermissionDenied(action="unlock_code")
    task = DeliveryTask.objects.select_for_update().filter(public_id=task_id).first()
    if task is None:
        raise TaskNotFound(task_id=task_id)
    task.code_attempts, task.code_locked_at = 0, None
    task.save(update_fields=["code_attempts", "code_locked_at"])
    _event(task, task.status, action="code_unlocked", actor=actor, role=actor.platform_role)
    return task
