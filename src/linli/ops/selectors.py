"""The numbers on the back office dashboard.

"Today" is the platform city's calendar day (`LINLI_DEFAULT_CITY_TZ`, Asia/Shanghai), from
local midnight to the next, like the merchant console's and rider app's "today".
Definitions:
- orders: orders placed (created) today, whatever became of them;
- paid orders and GMV: orders whose payment arrived today and that were not cancelled
  afterwards (a cancelled paid order is refunded), GMV being the sum of their `total_fen`;
- new users: accounts that joined today;
- pending applications: merchant applications submitted and waiting for a decision;
- online riders: riders on shift now.
Grouping by hour and day happens in the database (Trunc* in the city's time zone), so the
cost follows the number of groups, not of orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from linli.accounts.models import User
from linli.delivery.models import Rider
from linli.merchants.models import MerchantApplication
from linli.orders.models import Order
from linli.orders.states import S

CHART_DAYS = 7


@dataclass(frozen=True)
class HourPoint:
    hour: int  # 0-23, city time
    orders: int  # placed in that hour
    gmv_fen: int  # paid in that hour


@dataclass(frozen=True)
class DayPoint:
    day: date
    orders: int
    paid_orders: int
    gmv_fen: int


@dataclass(frozen=True)
class Dashboard:
    day: date
    tz: str
    gmv_fen: int
    orders: int
    paid_orders: int
    new_users: int
    pending_applications: int
    online_riders: int
    per_hour: list[HourPoint]  # 24 points, 00:00-23:00
    days: list[DayPoint]  # the last CHART_DAYS days, oldest first, today last


def city_zone(tz: str | None = None) -> ZoneInfo:
    return ZoneInfo(tz or settings.LINLI_DEFAULT_CITY_TZ)


def city_today(*, now: datetime | None = None, tz: str | None = None) -> date:
    return (now or timezone.now()).astimezone(city_zone(tz)).date()


def day_bounds(day: date, *, tz: str | None = None) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of `day` as aware datetimes."""
    zone = city_zone(tz)
    return (datetime.combine(day, time.min, tzinfo=zone),
            datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone))


def orders_placed(start: datetime, end: datetime) -> QuerySet[Order]:
    return Order.objects.filter(created_at__gte=start, created_at__lt=end)


def orders_paid(start: datetime, end: datetime) -> QuerySet[Order]:
    """Paid within [start, end) and not cancelled since: what GMV counts."""
    return Order.objects.filter(paid_at__gte=start, paid_at__lt=end).exclude(
        status__in=S.CANCELLED_ALL)  # cancelled, refunding, refunded


def per_hour(day: date, *, tz: str | None = None) -> list[HourPoint]:
    zone = city_zone(tz)
    start, end = day_bounds(day, tz=tz)
    placed = [0] * 24
    for row in (orders_placed(start, end).order_by().annotate(slot=TruncHour("created_at", tzinfo=zone))
                .values("slot").annotate(n=Count("id"))):
        placed[row["slot"].astimezone(zone).hour] += row["n"]
    gmv = [0] * 24
    for row in (orders_paid(start, end).order_by().annotate(slot=TruncHour("paid_at", tzinfo=zone))
                .values("slot").annotate(fen=Sum("total_fen"))):
        gmv[row["slot"].astimezone(zone).hour] += row["fen"] or 0
    return [HourPoint(hour=h, orders=placed[h], gmv_fen=gmv[h]) for h in range(24)]


def per_day(last_day: date, *, days: int = CHART_DAYS, tz: str | None = None) -> list[DayPoint]:
    """One point per city day for the `days` days ending with `last_day`, oldest first."""
    zone = city_zone(tz)
    first_day = last_day - timedelta(days=days - 1)
    start, _ = day_bounds(first_day, tz=tz)
    _, end = day_bounds(last_day, tz=tz)
    placed = {row["d"]: row["n"] for row in (
        orders_placed(start, end).order_by().annotate(d=TruncDate("created_at", tzinfo=zone))
        .values("d").annotate(n=Count("id")))}
    paid = {row["d"]: (row["n"], row["fen"] or 0) for row in (
        orders_paid(start, end).order_by().annotate(d=TruncDate("paid_at", tzinfo=zone))
        .values("d").annotate(n=Count("id"), fen=Sum("total_fen")))}
    points = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        n_paid, fen = paid.get(day, (0, 0))
        points.append(DayPoint(day=day, orders=placed.get(day, 0), paid_orders=n_paid, gmv_fen=fen))
    return points


def dashboard(*, now: datetime | None = None, tz: str | None = None) -> Dashboard:
    tz = tz or settings.LINLI_DEFAULT_CITY_TZ
    day = city_today(now=now, tz=tz)
    start, end = day_bounds(day, tz=tz)
    paid = orders_paid(start, end).aggregate(n=Count("id"), fen=Sum("total_fen"))
    return Dashboard(
        day=day,
        tz=tz,
        gmv_fen=paid["fen"] or 0,
        orders=orders_placed(start, end).count(),
        paid_orders=paid["n"] or 0,
        new_users=User.objects.filter(date_joined__gte=start, date_joined__lt=end).count(),
        pending_applications=MerchantApplication.objects.filter(
            status=MerchantApplication.Status.SUBMITTED).count(),
        online_riders=Rider.objects.filter(is_online=True).count(),
        per_hour=per_hour(day, tz=tz),
        days=per_day(day, tz=tz),
    )
