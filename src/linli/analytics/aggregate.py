"""The daily aggregation job: recomputes one day's rows of every aggregate table from the
source tables (orders, POS sales, reviews, deliveries, complaints, finance entries, the
event log), read-only. Idempotent: it deletes the day's rows and writes them again in one
transaction, so it may run again (late events, refunds) with the same result."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import h3
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum

from .metrics import week_start
from .models import ActiveDay, CohortWeek, CustomerFirst, Event, PlatformDay, StoreDay, StoreItemDay

NOT_SOLD = ("cancelled", "refunding", "refunded")  # paid once, but not a sale any more
POS_SOLD = ("completed", "partially_returned")
CHUNK = 2000


def zone() -> ZoneInfo:
    return ZoneInfo(settings.LINLI_DEFAULT_CITY_TZ)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone())
    return start, start + timedelta(days=1)


def local_day(moment: datetime) -> date:
    return moment.astimezone(zone()).date()


def district_of(h3_cell: str) -> str:
    """A store's district for peer comparisons: its H3 resolution-6 parent (~36 km²)."""
    try:
        return str(h3.cell_to_parent(h3_cell, 6))
    except (ValueError, TypeError):  # not a cell (a store made before H3 cells)
        return ""


@dataclass
class _Store:
    online_orders: int = 0
    online_sales_fen: int = 0
    pos_orders: int = 0
    pos_sales_fen: int = 0
    placed_orders: int = 0
    new_buyers: int = 0
    returning_buyers: int = 0
    views: int = 0
    carts: int = 0
    checkouts: int = 0
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    reviews: int = 0
    stars_sum: int = 0
    delivered: int = 0
    delivered_on_time: int = 0
    complaints: int = 0
    commission_fen: int = 0
    subsidy_fen: int = 0
    refunds_fen: int = 0


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


def aggregate_day(day: date) -> dict[str, int]:
    """Recompute `day` (a city calendar day) in every aggregate table; counts of rows written."""
    from linli.aftersales.models import AfterSalesRequest, Ticket
    from linli.delivery.models import DeliveryTask
    from linli.finance.models import FinanceEntry
    from linli.merchants.models import Store
    from linli.orders.models import Order, OrderItem
    from linli.pos.models import Sale, SaleLine
    from linli.reviews.models import Review

    start, end = day_bounds(day)
    stats: dict[int, _Store] = defaultdict(_Store)
    items: dict[tuple[int, int], list[Any]] = {}  # (store, product) -> [name, quantity, sales]

    sold = list(Order.objects.filter(paid_at__gte=start, paid_at__lt=end).exclude(status__in=NOT_SOLD)
                .values_list("id", "store_id", "consumer_id", "total_fen", "paid_at"))
    buyers: dict[int, set[int]] = defaultdict(set)
    for _id, store_id, consumer_id, total_fen, paid_at in sold:
        s = stats[store_id]
        s.online_orders += 1
        s.online_sales_fen += total_fen
        s.hours[paid_at.astimezone(zone()).hour] += 1
        buyers[store_id].add(consumer_id)
    for ids in _chunks([row[0] for row in sold]):
        for store_id, product_id, name, quantity, amount in (
                OrderItem.objects.filter(order_id__in=ids)
                .values_list("order__store_id", "product_id", "name", "quantity", "amount_fen")):
            _add_item(items, store_id, product_id, name, quantity, amount)
    _buyers_split(stats, buyers, start)

    for store_id, placed in (Order.objects.filter(created_at__gte=start, created_at__lt=end)
                             .values_list("store_id").annotate(n=Count("id"))):
        stats[store_id].placed_orders = placed
    sales = list(Sale.objects.filter(created_at__gte=start, created_at__lt=end, status__in=POS_SOLD)
                 .values_list("id", "store_id", "total_fen", "refunded_fen", "created_at"))
    for _id, store_id, total_fen, refunded_fen, created_at in sales:
        s = stats[store_id]
        s.pos_orders += 1
        s.pos_sales_fen += total_fen - refunded_fen
        s.hours[created_at.astimezone(zone()).hour] += 1
    for ids in _chunks([row[0] for row in sales]):
        for store_id, product_id, name, quantity, amount in (
                SaleLine.objects.filter(sale_id__in=ids)
                .values_list("sale__store_id", "product_id", "name", "quantity", "amount_fen")):
            _add_item(items, store_id, product_id, name, quantity, amount)

    funnel_kinds = {"store_view": "views", "add_to_cart": "carts", "checkout_start": "checkouts"}
    for store_id, kind, n in (Event.objects.filter(occurred_at__gte=start, occurred_at__lt=end,
                                                   kind__in=funnel_kinds, store_id__isnull=False)
                              .values_list("store_id", "kind").annotate(n=Count("id"))):
        setattr(stats[store_id], funnel_kinds[kind], n)
    for store_id, n, stars in (Review.objects.filter(created_at__gte=start, created_at__lt=end)
                               .exclude(status="hidden").values_list("store_id")
                               .annotate(n=Count("id"), stars=Sum("stars"))):
        stats[store_id].reviews, stats[store_id].stars_sum = n, stars or 0
    for store_id, n, on_time in (DeliveryTask.objects.filter(delivered_at__gte=start, delivered_at__lt=end,
                                                             deliver_deadline__isnull=False)
                                 .values_list("order__store_id")
                                 .annotate(n=Count("id"),
                                           on_time=Count("id", filter=Q(delivered_at__lte=F("deliver_deadline"))))):
        stats[store_id].delivered, stats[store_id].delivered_on_time = n, on_time
    for model in (AfterSalesRequest, Ticket):
        for store_id, n in (model.objects.filter(created_at__gte=start, created_at__lt=end, store_id__isnull=False)
                            .values_list("store_id").annotate(n=Count("id"))):
            stats[store_id].complaints += n
    for store_id, commission, subsidy, refunds in (
            FinanceEntry.objects.filter(day=day, store_id__isnull=False).values_list("store_id")
            .annotate(c=Sum("commission_fen"), s=Sum("subsidy_fen"),
                      r=Sum("paid_fen", filter=Q(kind="refund")))):
        s = stats[store_id]
        s.commission_fen, s.subsidy_fen, s.refunds_fen = commission or 0, subsidy or 0, -(refunds or 0)

    stores = {row["id"]: row for row in Store.objects.filter(pk__in=list(stats))
              .values("id", "merchant_id", "city_code", "category_id", "h3_cell")}
    store_rows = [StoreDay(day=day, store_id=sid, merchant_id=stores[sid]["merchant_id"],
                           city_code=stores[sid]["city_code"], district=district_of(stores[sid]["h3_cell"]),
                           category_id=stores[sid]["category_id"], **vars(s))
                  for sid, s in stats.items() if sid in stores]
    item_rows = [StoreItemDay(day=day, store_id=sid, product_id=pid, name=v[0][:100], quantity=v[1], sales_fen=v[2])
                 for (sid, pid), v in items.items()]
    platform_rows = _platform_rows(day, store_rows, start, end)
    active_rows = _active_rows(day)
    with transaction.atomic():
        StoreDay.objects.filter(day=day).delete()
        StoreItemDay.objects.filter(day=day).delete()
        PlatformDay.objects.filter(day=day).delete()
        ActiveDay.objects.filter(day=day).delete()
        StoreDay.objects.bulk_create(store_rows, batch_size=1000)
        StoreItemDay.objects.bulk_create(item_rows, batch_size=1000)
        PlatformDay.objects.bulk_create(platform_rows, batch_size=1000)
        ActiveDay.objects.bulk_create(active_rows)
        cohorts = _cohort_week(week_start(day))
    return {"stores": len(store_rows), "items": len(item_rows), "platform": len(platform_rows),
            "active": len(active_rows), "cohorts": cohorts}


def _add_item(items: dict[tuple[int, int], list[Any]], store_id: int, product_id: int, name: str,
              quantity: int, amount: int) -> None:
    entry = items.setdefault((store_id, product_id), [name, 0, 0])
    entry[1] += quantity
    entry[2] += amount


def _buyers_split(stats: dict[int, _Store], buyers: dict[int, set[int]], start: datetime) -> None:
    """New (first paid order at the store) vs returning buyers of each store."""
    from linli.orders.models import Order

    everyone = sorted({u for users in buyers.values() for u in users})
    seen: set[tuple[int, int]] = set()
    for ids in _chunks(everyone):
        seen.update(Order.objects.filter(consumer_id__in=ids, store_id__in=list(buyers), paid_at__lt=start)
                    .exclude(status__in=NOT_SOLD).values_list("store_id", "consumer_id").distinct())
    for store_id, users in buyers.items():
        returning = sum(1 for u in users if (store_id, u) in seen)
        stats[store_id].returning_buyers = returning
        stats[store_id].new_buyers = len(users) - returning


def _platform_rows(day: date, store_rows: list[StoreDay], start: datetime, end: datetime) -> list[PlatformDay]:
    from linli.merchants.models import Store

    groups: dict[tuple[str, int, str], PlatformDay] = {}

    def row(city: str, category: int, channel: str) -> PlatformDay:
        key = (city, category, channel)
        if key not in groups:
            groups[key] = PlatformDay(day=day, city_code=city, category_id=category, channel=channel)
        return groups[key]

    for s in store_rows:
        if s.online_orders or s.placed_orders or s.views or s.carts or s.checkouts or s.delivered or s.complaints:
            online = row(s.city_code, s.category_id, "online")
            online.orders += s.online_orders
            online.gmv_fen += s.online_sales_fen
            online.placed_orders += s.placed_orders
            online.views += s.views
            online.carts += s.carts
            online.checkouts += s.checkouts
            online.delivered += s.delivered
            online.delivered_on_time += s.delivered_on_time
            online.complaints += s.complaints
            online.commission_fen += s.commission_fen
            online.subsidy_fen += s.subsidy_fen
        if s.pos_orders:
            pos = row(s.city_code, s.category_id, "pos")
            pos.orders += s.pos_orders
            pos.gmv_fen += s.pos_sales_fen
    firsts = (Store.objects.values("merchant_id").annotate(first=Min("created_at"))
              .filter(first__gte=start, first__lt=end))
    for merchant_id, first in firsts.values_list("merchant_id", "first"):
        store = Store.objects.filter(merchant_id=merchant_id, created_at=first).values("city_code", "category_id").first()
        if store:
            row(store["city_code"], store["category_id"], "online").new_merchants += 1
    return list(groups.values())


def _active_users(start: datetime, end: datetime) -> dict[str, set[int]]:
    """city -> ids of users who recorded an event or placed an order in [start, end)."""
    from linli.orders.models import Order

    users: dict[str, set[int]] = defaultdict(set)
    for city, user in (Event.objects.filter(occurred_at__gte=start, occurred_at__lt=end, user_id__isnull=False)
                       .values_list("city_code", "user_id").distinct()):
        users[city].add(user)
    for city, user in (Order.objects.filter(created_at__gte=start, created_at__lt=end)
                       .values_list("city_code", "consumer_id").distinct()):
        users[city].add(user)
    return users


def _active_rows(day: date) -> list[ActiveDay]:
    start, end = day_bounds(day)
    daily = _active_users(start, end)
    monthly = _active_users(start - timedelta(days=29), end)
    rows = [ActiveDay(day=day, city_code="", dau=len(set().union(*daily.values())),
                      mau=len(set().union(*monthly.values())))]
    rows += [ActiveDay(day=day, city_code=city, dau=len(daily.get(city, ())), mau=len(users))
             for city, users in monthly.items() if city]
    return rows


def _cohort_week(week: date) -> int:
    """Recount week `week` of every cohort: the customers who paid for an order that week,
    by the week of their first paid order. Keeps CustomerFirst up to date on the way."""
    from linli.orders.models import Order

    start, _ = day_bounds(week)
    _, end = day_bounds(week + timedelta(days=6))
    buyers = sorted(set(Order.objects.filter(paid_at__gte=start, paid_at__lt=end)
                        .values_list("consumer_id", flat=True)))
    firsts: dict[int, date] = {}
    for ids in _chunks(buyers):
        for user, first in (Order.objects.filter(consumer_id__in=ids, paid_at__isnull=False)
                            .values_list("consumer_id").annotate(first=Min("paid_at"))):
            firsts[user] = local_day(first)
    known = {}
    for ids in _chunks(buyers):
        known.update(CustomerFirst.objects.filter(user_id__in=ids).values_list("user_id", "first_day"))
    changed = [CustomerFirst(user_id=u, first_day=d) for u, d in firsts.items() if known.get(u) != d]
    CustomerFirst.objects.bulk_create(changed, update_conflicts=True, unique_fields=["user_id"],
                                      update_fields=["first_day"], batch_size=1000)
    counts: dict[date, int] = defaultdict(int)
    for first in firsts.values():
        counts[week_start(first)] += 1
    CohortWeek.objects.filter(week=week).delete()
    CohortWeek.objects.bulk_create([CohortWeek(cohort=c, week=week, offset=(week - c).days // 7, customers=n)
                                    for c, n in counts.items() if c <= week])
    return len(counts)
