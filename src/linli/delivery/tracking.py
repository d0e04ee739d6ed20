"""Rider positions: rate-limited reports, a day of history (H3 cell + coordinates), the
latest in the cache, implausible jumps flagged and not trusted; the consumer's ETA."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import DomainError, NotFound, RateLimited
from linli.discovery.geo import haversine_m
from linli.orders.models import Order
from linli.orders.selectors import order_get_visible

from .dispatch import DispatchSettings, RiderState, route_etas
from .models import DeliveryTask, Rider, RiderLocation
from .selectors import rider_for_user
from .states import DS

REPORT_EVERY_S = 3               # at most one location report per rider in this time
HISTORY_KEPT = timedelta(days=1)
MAX_PLAUSIBLE_MPS = 60.0         # 216 km/h: anything faster is a GPS jump or a spoof
GPS_SLACK_M = 1000.0             # plus this much for GPS noise and a missed report
LOCATION_H3_RES = 9
_LATEST_TTL_S = 24 * 3600
ETA_PUSH_EVERY_S = 15            # at most one live refresh of the rider's consumers' pages


class LocationImplausible(DomainError):
    code = "location_implausible"
    status = 422
    message = _("This location is too far from your last one to be true; it was not used.")


class EtaUnavailable(NotFound):
    code = "eta_unavailable"
    message = _("There is no delivery under way for this order.")


def latest_key(rider_public_id: str) -> str:
    return f"delivery:rider-location:{rider_public_id}"


def latest_location(rider: Rider) -> dict[str, Any] | None:
    """The rider's last trusted position: the cache, else the rider row."""
    cached = cache.get(latest_key(rider.public_id))
    if cached is not None:
        return dict(cached)
    if rider.lat is None or rider.lng is None or rider.location_at is None:
        return None
    return {"lat": rider.lat, "lng": rider.lng, "at": rider.location_at.isoformat()}


def rider_location_report(*, user: User, lat: float, lng: float, now: datetime | None = None) -> Rider:
    """Store one report. More than one per `REPORT_EVERY_S`: 429 `rate_limited`. A jump
    farther than `GPS_SLACK_M` + `MAX_PLAUSIBLE_MPS` x the time since the last trusted
    position: kept as flagged
    history, the rider's position unchanged, 422 `location_implausible`."""
    from .services import _check_location

    _check_location(lat, lng)
    rider = rider_for_user(user)
    # False: reported too recently; None: the cache is unreachable, and the limit fails open
    if cache.add(f"delivery:rider-location-rl:{rider.pk}", 1, timeout=REPORT_EVERY_S) is False:
        raise RateLimited(retry_after_s=REPORT_EVERY_S)
    now = now or timezone.now()
    flagged = False
    if rider.lat is not None and rider.lng is not None and rider.location_at is not None:
        elapsed = max(0.0, (now - rider.location_at).total_seconds())
        flagged = haversine_m(rider.lat, rider.lng, lat, lng) > GPS_SLACK_M + MAX_PLAUSIBLE_MPS * elapsed
    cell = h3.latlng_to_cell(lat, lng, LOCATION_H3_RES)
    with transaction.atomic():
        RiderLocation.objects.create(rider=rider, lat=lat, lng=lng, h3_cell=cell, flagged=flagged,
                                     recorded_at=now)
        if not flagged:
            Rider.objects.filter(pk=rider.pk).update(lat=lat, lng=lng, location_at=now)
    if flagged:
        raise LocationImplausible(lat=lat, lng=lng)
    rider.lat, rider.lng, rider.location_at = lat, lng, now
    cache.set(latest_key(rider.public_id), {"lat": lat, "lng": lng, "at": now.isoformat(), "h3": cell},
              timeout=_LATEST_TTL_S)
    if cache.add(f"delivery:eta-push:{rider.pk}", 1, timeout=ETA_PUSH_EVERY_S):
        transaction.on_commit(lambda: _push_to_consumers(rider, now))
    return rider


def _push_to_consumers(rider: Rider, now: datetime) -> None:
    """Tell the order pages of the rider's open tasks that the rider moved: the page
    re-reads its status part (ETA, and the position once picked up) on any `order` event."""
    from linli.core.realtime import publish
    from linli.web.events import order_channel

    for order_id in DeliveryTask.objects.filter(rider=rider, status__in=DS.ACTIVE).values_list(
            "order__public_id", flat=True):
        publish(order_channel(order_id), {"type": "order", "order_id": order_id, "reason": "rider_location",
                                          "at": now.isoformat()})


def rider_locations_cleanup(*, now: datetime | None = None) -> int:
    """Delete location history older than a day; returns how many rows went."""
    cutoff = (now or timezone.now()) - HISTORY_KEPT
    deleted, _ = RiderLocation.objects.filter(recorded_at__lt=cutoff).delete()
    return deleted


def rider_route_state(rider: Rider, tasks: list[DeliveryTask]) -> RiderState:
    """The rider as the dispatcher sees them: orders on board first (nearest promise
    first), then each assigned order's pickup and drop-off, oldest assignment first."""
    stops = []
    on_board = sorted((t for t in tasks if t.status == DS.PICKED_UP),
                      key=lambda t: t.deliver_deadline.timestamp() if t.deliver_deadline else 0)
    for t in on_board:
        stops.append(_stops(t)[1])
    for t in tasks:  # a failed delivery goes back to the store before anything else is done
        if t.status == DS.FAILED:
            stops.append(_return_stop(t))
    for t in sorted((t for t in tasks if t.status in DS.BEFORE_PICKUP),
                    key=lambda t: t.assigned_at.timestamp() if t.assigned_at else 0):
        stops.extend(_stops(t))
    return RiderState(rider.public_id, rider.lat or 0.0, rider.lng or 0.0, tuple(stops),
                      rider.max_concurrent, rider.speed_mps)


def _return_stop(task: DeliveryTask) -> Any:
    from .dispatch import DROPOFF, Stop

    return Stop(task.public_id, DROPOFF, task.pickup_lat, task.pickup_lng)


def _stops(task: DeliveryTask) -> tuple[Any, Any]:
    from .dispatch import DROPOFF, PICKUP, Stop

    ready = task.pickup_deadline.timestamp() if task.pickup_deadline else float("-inf")
    promised = task.deliver_deadline.timestamp() if task.deliver_deadline else float("inf")
    return (Stop(task.public_id, PICKUP, task.pickup_lat, task.pickup_lng, ready_at=ready),
            Stop(task.public_id, DROPOFF, task.dropoff_lat, task.dropoff_lng, promised_at=promised))


@dataclass(frozen=True)
class Eta:
    order_id: str
    status: str
    eta: datetime | None          # when the rider should reach the consumer
    seconds_left: int | None
    stops_before: int             # stops the rider makes before this drop-off
    rider_name: str | None
    rider_position: dict[str, Any] | None   # only while the order is on its way to the consumer


def order_eta(*, user: User, order_id: str) -> Eta:
    """The consumer's (or the order's store's, or its rider's) ETA: the rider's current
    route ridden from their last position at their vehicle's speed, plus the remaining
    stops' service time. Before a rider is assigned, the promised time."""
    order: Order = order_get_visible(actor=user, order_id=order_id)  # else 404 order_not_found
    task = DeliveryTask.objects.select_related("rider").filter(order_id=order.pk).first()
    if task is None or task.status in DS.FINAL or task.status == DS.FAILED:
        raise EtaUnavailable(order_id=order_id)
    now = timezone.now()
    if task.rider is None:
        eta = task.deliver_deadline
        return Eta(order.public_id, task.status, eta, _left(eta, now), 0, None, None)
    rider = task.rider
    position = latest_location(rider)
    active = list(DeliveryTask.objects.filter(rider=rider, status__in=DS.ACTIVE))
    state = rider_route_state(rider, active)
    if position is not None:
        state = RiderState(state.id, position["lat"], position["lng"], state.route, state.capacity,
                           state.speed_mps)
    etas = route_etas(state, now=time.time(), cfg=DispatchSettings())
    at = etas.get(task.public_id)
    eta_dt = datetime.fromtimestamp(at, tz=UTC) if at is not None else task.deliver_deadline
    index = next((i for i, s in enumerate(state.route) if s.order_id == task.public_id and s.kind == "dropoff"), 0)
    shown = position if task.status == DS.PICKED_UP else None
    return Eta(order.public_id, task.status, eta_dt, _left(eta_dt, now), index, rider.name, shown)


def _left(at: datetime | None, now: datetime) -> int | None:
    return None if at is None else int((at - now).total_seconds())


@dataclass(frozen=True)
class RiderComing:
    """What the store's order queue shows about a delivery order's rider."""

    rider_name: str
    status: str                   # the task's status (accepted, arrived, picked_up, failed, ...)
    distance_m: int | None        # from the rider's last position to the store (before pickup)
    minutes_away: int | None      # at the rider's speed, straight line (before pickup)


def riders_coming(orders: list[Order]) -> dict[str, RiderComing]:
    """Per order public id, the rider of its delivery and, until pickup, how far they are
    from the store: one cache read per rider, no query (the queue's orders come with
    `delivery__rider` joined). Orders without a rider are absent."""
    found: dict[str, RiderComing] = {}
    for order in orders:
        task = getattr(order, "delivery", None)  # a missing one-to-one raises an AttributeError
        if task is None or task.rider is None or task.status in DS.FINAL:
            continue
        distance = minutes = None
        if task.status in DS.BEFORE_PICKUP:
            position = latest_location(task.rider)
            if position is not None:
                distance = round(haversine_m(position["lat"], position["lng"], task.pickup_lat, task.pickup_lng))
                minutes = max(0, round(distance / task.rider.speed_mps / 60))
        found[order.public_id] = RiderComing(task.rider.name, task.status, distance, minutes)
    return found
