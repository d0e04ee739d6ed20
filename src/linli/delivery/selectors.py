"""Reads for riders, and the one read the consumer's order page needs (its delivery code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import PermissionDenied
from linli.orders.models import Order

from .models import DeliveryTask, Rider
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
