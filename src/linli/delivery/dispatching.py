"""The dispatch tick as a use case: per city, hand silent riders' tasks back, load the
waiting tasks and the online approved riders with room, run the batch dispatcher
(`dispatch.py`), and write its assignments.

Each assignment is its own short transaction that locks the task with
`SELECT ... FOR UPDATE SKIP LOCKED` (a task another worker holds is simply skipped: it is
being assigned there) and then the rider row (so two workers filling the same rider
re-count its open tasks one after the other and never exceed `max_concurrent`). The task
must still be unassigned and the rider still online, approved and not excluded.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import InvalidInput
from linli.orders.models import Order

from .dispatch import DispatchResult, DispatchSettings, OpenOrder, dispatch_batch
from .models import DeliveryTask, Rider, TaskRejection
from .states import DS
from .tracking import rider_route_state

ACCEPT_WITHIN = timedelta(seconds=90)      # an offer not accepted this long goes to someone else
SILENT_AFTER = timedelta(minutes=5)        # accepted this long and not yet at the store ...
LOCATION_SILENT_FOR = timedelta(minutes=3)  # ... by a rider not heard from for this long
LOCATION_FRESH_FOR = timedelta(minutes=10)
MAX_TASKS_PER_TICK = 2000
DISPATCH = DispatchSettings(radius_m=5000)


class RejectReasonRequired(InvalidInput):
    code = "reject_reason_required"
    message = _("Say why you are rejecting this task (1 to 200 characters).")


def _services():  # type: ignore[no-untyped-def]
    from . import services  # services imports this module for dispatch_pending

    return services


def riders_with_room(city_code: str, now: datetime) -> list[tuple[Rider, list[DeliveryTask]]]:
    """Online, approved riders with a fresh position, each with their open tasks; only
    those below their `max_concurrent`."""
    riders = list(Rider.objects.filter(
        city_code=city_code, is_online=True, approval=Rider.Approval.APPROVED,
        location_at__gte=now - LOCATION_FRESH_FOR, lat__isnull=False, lng__isnull=False))
    tasks: dict[int, list[DeliveryTask]] = defaultdict(list)
    for task in DeliveryTask.objects.filter(rider__in=riders, status__in=DS.ACTIVE):
        tasks[task.rider_id].append(task)  # type: ignore[index]
    return [(r, tasks[r.pk]) for r in riders if len(tasks[r.pk]) < r.max_concurrent]


def _silent_reassign(city_code: str, now: datetime) -> int:
    """Take back offers not accepted within ACCEPT_WITHIN, and accepted tasks whose rider
    has not reached the store after SILENT_AFTER and has stopped reporting a position."""
    unanswered = Q(status=DS.ASSIGNED, assigned_at__lt=now - ACCEPT_WITHIN)
    silent = (Q(status=DS.ACCEPTED, assigned_at__lt=now - SILENT_AFTER)
              & (Q(rider__location_at__lt=now - LOCATION_SILENT_FOR) | Q(rider__location_at__isnull=True)))
    stale = DeliveryTask.objects.filter(unanswered | silent, city_code=city_code)
    moved = 0
    for task_id in stale.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            task = DeliveryTask.objects.select_for_update(skip_locked=True).filter(
                pk=task_id, status__in=(DS.ASSIGNED, DS.ACCEPTED)).first()
            if task is None or task.rider_id is None:
                continue
            kind = TaskRejection.Reason.UNANSWERED if task.status == DS.ASSIGNED else TaskRejection.Reason.SILENT
            if task.status == DS.ASSIGNED and task.assigned_at and task.assigned_at >= now - ACCEPT_WITHIN:
                continue  # re-assigned meanwhile: a fresh offer
            TaskRejection.objects.get_or_create(task=task, rider_id=task.rider_id, defaults={"kind": kind})
            task.rider = None
            _services()._move(task, "reassign", actor=None, role="system", fields=("rider",))
            moved += 1
    return moved


def _assign(task_public_id: str, rider_public_id: str) -> bool:
    with transaction.atomic():
        task = DeliveryTask.objects.select_for_update(skip_locked=True).filter(
            public_id=task_public_id, status=DS.UNASSIGNED).first()
        if task is None:
            return False  # another worker has it, or it moved on
        rider = Rider.objects.select_for_update().filter(
            public_id=rider_public_id, is_online=True, approval=Rider.Approval.APPROVED).first()
        if rider is None or TaskRejection.objects.filter(task=task, rider=rider).exists():
            return False
        if DeliveryTask.objects.filter(rider=rider, status__in=DS.ACTIVE).count() >= rider.max_concurrent:
            return False
        task.rider = rider
        services = _services()
        services._move(task, "assign", actor=None, role="system", fields=("rider",))
        services._publish_on_commit(Order.objects.select_related("store").get(pk=task.order_id))
    return True


def plan_city(city_code: str, *, now: datetime | None = None) -> DispatchResult | None:
    """What the batch dispatcher would do for the city now (no writes)."""
    now = now or timezone.now()
    waiting = list(DeliveryTask.objects.filter(city_code=city_code, status=DS.UNASSIGNED)
                   .order_by("created_at")[:MAX_TASKS_PER_TICK])
    if not waiting:
        return None
    excluded: dict[int, set[str]] = defaultdict(set)
    for task_pk, rider_id in TaskRejection.objects.filter(task__in=waiting).values_list(
            "task_id", "rider__public_id"):
        excluded[task_pk].add(rider_id)
    now_s = now.timestamp()
    orders = [OpenOrder(
        t.public_id, t.pickup_lat, t.pickup_lng, t.dropoff_lat, t.dropoff_lng,
        ready_at=t.pickup_deadline.timestamp() if t.pickup_deadline else now_s,
        promised_at=t.deliver_deadline.timestamp() if t.deliver_deadline else now_s + 3600,
        excluded_riders=frozenset(excluded.get(t.pk, ())),
    ) for t in waiting]
    riders = [rider_route_state(r, tasks) for r, tasks in riders_with_room(city_code, now)]
    return dispatch_batch(orders, riders, now=now_s, cfg=DISPATCH)


def dispatch_tick(*, city_code: str | None = None, now: datetime | None = None) -> int:
    """One dispatch round per city (all cities with waiting or assigned tasks when none is
    given); returns how many tasks were assigned."""
    now = now or timezone.now()
    if city_code:
        cities = [city_code]
    else:
        cities = sorted(set(DeliveryTask.objects.filter(status__in=(DS.UNASSIGNED, DS.ASSIGNED, DS.ACCEPTED))
                            .values_list("city_code", flat=True).distinct()))
    assigned = 0
    for city in cities:
        _silent_reassign(city, now)
        started = time.perf_counter()
        plan = plan_city(city, now=now)
        if plan is None:
            continue
        for a in plan.assignments:
            assigned += _assign(a.order_id, a.rider_id)
        plan.stats["seconds"] = time.perf_counter() - started
    return assigned


@transaction.atomic
def delivery_reject(*, user: User, task_id: str, reason: str) -> DeliveryTask:
    """The rider hands an assigned task back, with a reason; it waits for the next tick
    and is never offered to this rider again."""
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 200:
        raise RejectReasonRequired()
    services = _services()
    task = services._task_for_rider(user, task_id)
    rider_id = task.rider_id
    task.rider = None
    services._move(task, "reject", actor=user, role="rider", fields=("rider",))
    TaskRejection.objects.create(task=task, rider_id=rider_id, kind=TaskRejection.Reason.REJECTED, note=reason)
    return task
