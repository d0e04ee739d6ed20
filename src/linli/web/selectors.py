"""Reads the web pages show that no other app's selector answers yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone

from linli.delivery.models import DeliveryTask, Rider
from linli.merchants.models import Store
from linli.orders.models import Order
from linli.orders.states import S


@dataclass(frozen=True)
class StoreToday:
    orders: int
    sales_fen: int
    average_fen: int
    per_hour: list[int]  # 24 counts, the store's local hours


def _local_midnight(tz: str, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(tz)).replace(hour=0, minute=0, second=0, microsecond=0)


def store_today(*, store: Store, now: datetime | None = None) -> StoreToday:
    """Today's paid orders of one store (cancelled ones excluded), in its local day."""
    now = now or timezone.now()
    tz = ZoneInfo(store.timezone)
    start = _local_midnight(store.timezone, now)
    paid = Order.objects.filter(store=store, paid_at__gte=start, paid_at__lt=start + timedelta(days=1)
                                ).exclude(status__in=S.CANCELLED_ALL)  # incl. refunding/refunded
    totals = paid.aggregate(n=Count("id"), sales=Sum("total_fen"))
    per_hour = [0] * 24
    for paid_at in paid.values_list("paid_at", flat=True):
        per_hour[paid_at.astimezone(tz).hour] += 1
    n, sales = totals["n"] or 0, totals["sales"] or 0
    return StoreToday(orders=n, sales_fen=sales, average_fen=sales // n if n else 0, per_hour=per_hour)


def rider_delivered_today(*, rider: Rider, now: datetime | None = None) -> int:
    start = _local_midnight(settings.LINLI_DEFAULT_CITY_TZ, now or timezone.now())
    return DeliveryTask.objects.filter(rider=rider, status=DeliveryTask.Status.DELIVERED,
                                       delivered_at__gte=start).count()
