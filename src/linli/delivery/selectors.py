"""Reads for riders, the one read the consumer's order page needs (its delivery code), and
the delivery time a checkout promises (the city's load, `promise.py`)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core import cachebatch
from linli.core.dbrouter import replica_reads
from linli.core.errors import PermissionDenied
from linli.orders.models import Order

from .models import DeliveryTask, Rider
from .promise import CityLoad, base_promise_in_s, rider_wait_s
from .states import DS


class NotARider(PermissionDenied):
    code = "not_a_rider"
    message = _("Only registered riders can do this.")


def rider_for_user(user: User) -> Rider:
    rider = Rider.objects.filter(user=user).first()
    if rider is None:
        raise NotARider()
    return rider


def tasks_for_rider(*, user: User) -> list[DeliveryTask]:
    """The rider's open tasks (assigned, at the store, on the way), oldest assignment first."""
    rider = rider_for_user(user)
    return list(
        DeliveryTask.objects.filter(rider=rider, status__in=DS.ACTIVE)
        .select_related("order__store").order_by("assigned_at")
    )


@dataclass(frozen=True)
class EarningsToday:
    day: date              # the rider's local day (the city's time zone)
    count: int
    total_fen: int
    late_count: int
    tasks: list[DeliveryTask]  # newest first


def rider_earnings_today(*, rider: Rider, now: datetime | None = None) -> EarningsToday:
    """Deliveries the rider completed since local midnight and what they earned."""
    local = (now or timezone.now()).astimezone(ZoneInfo(settings.LINLI_DEFAULT_CITY_TZ))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    tasks = list(
        DeliveryTask.objects.filter(rider=rider, status=DS.DELIVERED, delivered_at__gte=start)
        .select_related("order__store").order_by("-delivered_at")
    )
    return EarningsToday(
        day=local.date(), count=len(tasks), total_fen=sum(t.rider_fee_fen or 0 for t in tasks),
        late_count=sum(1 for t in tasks if t.late_penalty_fen), tasks=tasks,
    )


def delivery_code_shown(task: DeliveryTask | None) -> str | None:
    """The code the consumer gives the rider, while the delivery is under way (not once it
    is delivered or cancelled). Only ever shown to the order's consumer."""
    if task is None or task.status in DS.FINAL or not task.delivery_code:
        return None
    return task.delivery_code


def delivery_code_for_consumer(*, order: Order, user: User) -> str | None:
    """For the consumer's order page: the delivery code of this order if `user` placed it
    and a rider is still to hand it over; None otherwise (other people, pickup orders,
    orders not yet accepted, delivered or cancelled deliveries)."""
    if order.consumer_id != user.pk or order.fulfilment != Order.Fulfilment.DELIVERY:
        return None
    return delivery_code_shown(DeliveryTask.objects.filter(order_id=order.pk).first())


# --- the city's load, for the promised delivery time (promise.py) ----------------------

_NOT_PICKED_UP = (DS.UNASSIGNED, DS.ASSIGNED, DS.ACCEPTED, DS.ARRIVED)
THROUGHPUT_WINDOW = timedelta(minutes=30)


@functools.cache
def _city_load_sql() -> str:
    """One statement: three counts, each on one of the city's indexes."""
    task, rider = DeliveryTask._meta.db_table, Rider._meta.db_table
    marks = ", ".join(["%s"] * len(_NOT_PICKED_UP))
    return (f"SELECT (SELECT COUNT(*) FROM {task} WHERE city_code = %s AND status IN ({marks})), "  # noqa: S608
            f"(SELECT COUNT(*) FROM {rider} WHERE city_code = %s AND is_online = %s AND approval = %s), "
            f"(SELECT COUNT(*) FROM {task} WHERE city_code = %s AND delivered_at >= %s)")


def city_load_cache_key(city_code: str) -> str:
    """What `city_load(city_code)` reads from the cache (core/cachebatch.py)."""
    return f"delivery:city-load:{city_code}"


def city_load(city_code: str, *, now: datetime | None = None) -> CityLoad:
    """The snapshot the promise at checkout reads: delivery tasks of the city not yet picked
    up, riders online, and deliveries per online rider-hour over the last 30 minutes.

    Cached per city for `LINLI_CITY_LOAD_SECONDS` (30): every checkout of a busy city would
    otherwise count the same rows, and a promise a few seconds old is as good. Counts that
    tolerate a replica's lag, so they may be read there. Orders paid but not yet accepted
    have no task yet and are not counted (a minute's worth at most)."""
    key = city_load_cache_key(city_code)
    cached = cachebatch.get(key)
    if cached is not None:
        return CityLoad(*cached)
    now = now or timezone.now()
    with replica_reads(), connections[router.db_for_read(DeliveryTask)].cursor() as cursor:
        cursor.execute(_city_load_sql(), [city_code, *_NOT_PICKED_UP, city_code, True, Rider.Approval.APPROVED,
                                          city_code, now - THROUGHPUT_WINDOW])
        backlog, riders, delivered = cursor.fetchone()
    hours = THROUGHPUT_WINDOW.total_seconds() / 3600
    load = CityLoad(backlog=backlog, riders_online=riders,
                    deliveries_per_rider_hour=delivered / riders / hours if riders else 0.0)
    cache.set(key, (load.backlog, load.riders_online, load.deliveries_per_rider_hour),
              settings.LINLI_CITY_LOAD_SECONDS)
    return load


# A store accepts within a minute or so (auto-accepting stores at once); the kitchen's
# preparation time starts then.
ACCEPT_EXPECTED_S = 60


@dataclass(frozen=True)
class DeliveryPromise:
    """The delivery time a checkout shows and the order keeps (`Order.promised_at`)."""

    at: datetime
    minutes: int  # from now, rounded up
    rider_wait_minutes: int  # what the city's load adds to the fixed promise (0: it keeps up)


def delivery_promise(*, city_code: str, prep_minutes: int, distance_m: float,
                     now: datetime | None = None) -> DeliveryPromise:
    """The promise for an as-soon-as-possible delivery placed now (promise.py's rule): the
    food ready after acceptance and preparation, the ride, the slack, and the wait for a
    rider that the city's load adds at a peak."""
    now = now or timezone.now()
    ready_in_s = ACCEPT_EXPECTED_S + 60 * max(0, prep_minutes)
    load = city_load(city_code, now=now)
    wait_s = rider_wait_s(ready_in_s=ready_in_s, load=load)
    total_s = base_promise_in_s(ready_in_s=ready_in_s, ride_m=distance_m) + wait_s  # = promise_in_s
    minutes = math.ceil(total_s / 60)
    return DeliveryPromise(at=now + timedelta(minutes=minutes), minutes=minutes,
                           rider_wait_minutes=math.ceil(wait_s / 60))
