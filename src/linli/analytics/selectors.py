"""Reads of the reports. Everything here reads the pre-aggregated daily tables only (never
orders or events), so a year costs a few hundred rows per store: bench/analytics_dashboard.py.

`report_query` checks a request's metric, dates, granularity and dimension; the merchant's
and the operator's reports are then one function each, returning plain dicts the API, the
pages and the exports share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Max, Sum
from django.utils import timezone

from linli.accounts.models import User
from linli.core.dbrouter import reads_from_replica
from linli.merchants import roles
from linli.merchants.models import Store, StoreCategory
from linli.merchants.selectors import store_for_member

from . import metrics as m
from .aggregate import zone
from .errors import (
    BadDate,
    GranularityTooFine,
    RangeReversed,
    RangeTooLong,
    UnknownDimension,
    UnknownGranularity,
    UnknownMetric,
)
from .models import ActiveDay, CohortWeek, PlatformDay, StoreDay, StoreItemDay

MAX_DAYS = 366  # a year (a leap year's too), the longest range any report or export covers
DEFAULT_DAYS = 30
GRANULARITIES = ("day", "week", "month")
TOO_FINE = ("hour", "minute", "second")
PERMISSION = roles.STORE_EDIT  # owners and managers: cashiers do not see the store's revenue

STORE_SUMS = ("online_orders", "online_sales_fen", "pos_orders", "pos_sales_fen", "placed_orders", "new_buyers",
              "returning_buyers", "views", "carts", "checkouts", "reviews", "stars_sum", "delivered",
              "delivered_on_time", "complaints", "refunds_fen")
PLATFORM_SUMS = ("orders", "gmv_fen", "placed_orders", "views", "carts", "checkouts", "new_merchants",
                 "commission_fen", "subsidy_fen", "delivered", "delivered_on_time", "complaints")

Sums = dict[str, int]


def _sales(s: Sums) -> int:
    return s.get("online_sales_fen", 0) + s.get("pos_sales_fen", 0)


def _orders(s: Sums) -> int:
    return s.get("online_orders", 0) + s.get("pos_orders", 0)


def _rating(s: Sums) -> float | None:
    return round(s["stars_sum"] / s["reviews"], 2) if s.get("reviews") else None


# metric -> value of one bucket's sums
STORE_SERIES: dict[str, Callable[[Sums], Any]] = {
    "sales": _sales,
    "orders": _orders,
    "online_sales": lambda s: s.get("online_sales_fen", 0),
    "pos_sales": lambda s: s.get("pos_sales_fen", 0),
    "aov": lambda s: m.average_order_value_fen(_sales(s), _orders(s)),
    "new_customers": lambda s: s.get("new_buyers", 0),
    "returning_customers": lambda s: s.get("returning_buyers", 0),
    "repeat_rate": lambda s: m.repeat_rate(s.get("new_buyers", 0), s.get("returning_buyers", 0)),
    "views": lambda s: s.get("views", 0),
    "conversion": lambda s: m.ratio(s.get("online_orders", 0), s.get("views", 0)),
    "rating": _rating,
    "reviews": lambda s: s.get("reviews", 0),
    "refunds": lambda s: s.get("refunds_fen", 0),
}
STORE_REPORTS = ("summary", "comparison", "items", "heatmap", "funnel", "peers")
STORE_METRICS = tuple(STORE_SERIES) + STORE_REPORTS

PLATFORM_SERIES: dict[str, Callable[[Sums], Any]] = {
    "gmv": lambda s: s.get("gmv_fen", 0),
    "orders": lambda s: s.get("orders", 0),
    "aov": lambda s: m.average_order_value_fen(s.get("gmv_fen", 0), s.get("orders", 0)),
    "new_merchants": lambda s: s.get("new_merchants", 0),
    "take_rate": lambda s: m.ratio(s.get("commission_fen", 0), s.get("gmv_fen", 0)),
    "subsidy": lambda s: s.get("subsidy_fen", 0),
    "on_time_rate": lambda s: m.ratio(s.get("delivered_on_time", 0), s.get("delivered", 0)),
    "complaint_rate": lambda s: m.ratio(s.get("complaints", 0), s.get("orders", 0)),
    "conversion": lambda s: m.ratio(s.get("placed_orders", 0), s.get("views", 0)),
}
PLATFORM_ACTIVE = ("dau", "mau")
PLATFORM_REPORTS = ("summary", "funnel", "retention")
PLATFORM_METRICS = tuple(PLATFORM_SERIES) + PLATFORM_ACTIVE + PLATFORM_REPORTS
DIMENSIONS = {"": None, "city": "city_code", "category": "category_id", "channel": "channel"}


@dataclass(frozen=True)
class ReportQuery:
    metric: str
    start: date
    end: date  # inclusive
    granularity: str
    by: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def today() -> date:
    return timezone.now().astimezone(zone()).date()


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadDate(field=field, value=value[:40]) from None


def report_query(*, metric: str, start: str | None, end: str | None, granularity: str | None,
                 allowed: Iterable[str], by: str | None = None, dimensions: Iterable[str] = ("",)) -> ReportQuery:
    """A checked report request; 422 with a code for an unknown metric, dimension or
    granularity, a malformed or reversed range, or one longer than MAX_DAYS."""
    allowed = tuple(allowed)
    if metric not in allowed:
        raise UnknownMetric(metric=metric[:40], allowed=list(allowed))
    by = by or ""
    dimensions = tuple(dimensions)
    if by not in dimensions:
        raise UnknownDimension(by=by[:40], allowed=[d for d in dimensions if d])
    granularity = granularity or "day"
    if granularity in TOO_FINE:
        raise GranularityTooFine(granularity=granularity, allowed=list(GRANULARITIES))
    if granularity not in GRANULARITIES:
        raise UnknownGranularity(granularity=granularity[:40], allowed=list(GRANULARITIES))
    last = _date(end, "to") or today()
    first = _date(start, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise RangeReversed(**{"from": first.isoformat(), "to": last.isoformat()})
    if (last - first).days + 1 > MAX_DAYS:
        raise RangeTooLong(days=(last - first).days + 1, max_days=MAX_DAYS)
    return ReportQuery(metric=metric, start=first, end=last, granularity=granularity, by=by)


def _sum_into(target: Sums, row: dict[str, Any], fields: Iterable[str]) -> None:
    for name in fields:
        target[name] = target.get(name, 0) + (row.get(name) or 0)


def _buckets(q: ReportQuery) -> list[date]:
    out: list[date] = []
    day = q.start
    while day <= q.end:
        key = m.bucket(day, q.granularity)
        if not out or out[-1] != key:
            out.append(key)
        day += timedelta(days=1)
    return out


# --- the merchant's store ------------------------------------------------------------------

def store_for_analytics(*, user: User, store_id: str) -> Store:
    """The store, for a member allowed to read its numbers: a stranger gets 404
    `store_not_found` (ids cannot be probed), a cashier 403."""
    store, _role = store_for_member(user=user, store_id=store_id, permission=PERMISSION)
    return store


def _store_rows(store_pk: int, start: date, end: date) -> list[dict[str, Any]]:
    return list(StoreDay.objects.filter(store_id=store_pk, day__gte=start, day__lte=end)
                .values("day", "hours", *STORE_SUMS))


def _store_totals(store_pk: int, start: date, end: date) -> Sums:
    row = StoreDay.objects.filter(store_id=store_pk, day__gte=start, day__lte=end).aggregate(
        **{name: Sum(name) for name in STORE_SUMS})
    return {k: v or 0 for k, v in row.items()}


def _headline(s: Sums) -> dict[str, Any]:
    return {"sales_fen": _sales(s), "orders": _orders(s), "online_orders": s.get("online_orders", 0),
            "pos_orders": s.get("pos_orders", 0), "aov_fen": STORE_SERIES["aov"](s),
            "new_customers": s.get("new_buyers", 0), "returning_customers": s.get("returning_buyers", 0),
            "repeat_rate": STORE_SERIES["repeat_rate"](s), "rating": _rating(s), "reviews": s.get("reviews", 0),
            "views": s.get("views", 0), "refunds_fen": s.get("refunds_fen", 0)}


COMPARED = ("sales_fen", "orders", "aov_fen", "new_customers", "returning_customers", "repeat_rate")


def _comparison(store_pk: int, q: ReportQuery, now: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for by in ("week", "month"):
        start, end = m.shift_period(q.start, q.end, by)
        before = _headline(_store_totals(store_pk, start, end))
        out[by] = {"from": start.isoformat(), "to": end.isoformat(),
                   "values": {k: {"now": now[k], "before": before[k], "change": _change(now[k], before[k])}
                              for k in COMPARED}}
    return out


def _change(now: Any, before: Any) -> float | None:
    if now is None or before is None:
        return None
    if isinstance(now, float) or isinstance(before, float):
        return round(now - before, 4)  # rates: the difference in points, not a ratio of ratios
    return m.change(now, before)


def _peers(store: Store, q: ReportQuery, now: dict[str, Any]) -> dict[str, Any]:
    """The average store of the same category in the same district (other stores only,
    and only when at least K_ANONYMITY of them have numbers in the period)."""
    me = StoreDay.objects.filter(store_id=store.pk).order_by("-day").values("district", "category_id").first()
    if me is None:
        return {"stores": 0, "shown": False, "minimum": m.K_ANONYMITY}
    others = list(StoreDay.objects.filter(district=me["district"], category_id=me["category_id"],
                                          day__gte=q.start, day__lte=q.end).exclude(store_id=store.pk)
                  .values("store_id").annotate(sales=Sum("online_sales_fen"), pos=Sum("pos_sales_fen"),
                                               orders=Sum("online_orders"), pos_orders=Sum("pos_orders"))
                  .values_list("sales", "pos", "orders", "pos_orders"))
    sales = [a + b for a, b, _, _ in others]
    orders = [c + d for _, _, c, d in others]
    avg_sales = m.anonymised_average(sales)
    avg_orders = m.anonymised_average(orders)
    shown = avg_sales is not None
    return {"stores": len(others) if shown else None, "shown": shown, "minimum": m.K_ANONYMITY,
            "sales_fen": round(avg_sales) if avg_sales is not None else None,
            "orders": avg_orders,
            "aov_fen": m.average_order_value_fen(sum(sales), sum(orders)) if shown else None,
            "mine": {"sales_fen": now["sales_fen"], "orders": now["orders"], "aov_fen": now["aov_fen"]}}


def _items(store_pk: int, q: ReportQuery, n: int = 5) -> dict[str, list[dict[str, Any]]]:
    rows = list(StoreItemDay.objects.filter(store_id=store_pk, day__gte=q.start, day__lte=q.end)
                .values("product_id").annotate(name=Max("name"), quantity=Sum("quantity"), sales_fen=Sum("sales_fen"))
                .values("name", "quantity", "sales_fen").order_by("-sales_fen", "name"))
    return {"best": rows[:n], "worst": list(reversed(rows[-n:])) if len(rows) > n else []}


def _funnel(s: Sums) -> list[dict[str, Any]]:
    steps = [("views", s.get("views", 0)), ("cart", s.get("carts", 0)), ("checkout", s.get("checkouts", 0)),
             ("order", s.get("placed_orders", 0)), ("paid", s.get("online_orders", 0))]
    return [vars(step) for step in m.funnel(steps)]


def store_series(rows: list[dict[str, Any]], q: ReportQuery, value: Callable[[Sums], Any]) -> list[dict[str, Any]]:
    sums: dict[date, Sums] = defaultdict(dict)
    for row in rows:
        _sum_into(sums[m.bucket(row["day"], q.granularity)], row, STORE_SUMS)
    return [{"period": b.isoformat(), "value": value(sums.get(b, {}))} for b in _buckets(q)]


@reads_from_replica
def merchant_report(*, store: Store, q: ReportQuery) -> dict[str, Any]:
    """One metric of a store: {"series": [...]} for a metric over time, {"data": ...} for
    the summary, comparison, items, heat map, funnel and peer average."""
    rows = _store_rows(store.pk, q.start, q.end)
    out: dict[str, Any] = {"metric": q.metric, "store_id": store.public_id, "from": q.start.isoformat(),
                           "to": q.end.isoformat(), "granularity": q.granularity, "series": None, "data": None}
    if q.metric in STORE_SERIES:
        out["series"] = store_series(rows, q, STORE_SERIES[q.metric])
        return out
    totals: Sums = {}
    for row in rows:
        _sum_into(totals, row, STORE_SUMS)
    now = _headline(totals)
    data: Any
    if q.metric == "summary":
        data = now
    elif q.metric == "comparison":
        data = _comparison(store.pk, q, now)
    elif q.metric == "items":
        data = _items(store.pk, q)
    elif q.metric == "heatmap":
        data = m.heat_map((row["day"], row["hours"] or [0] * 24) for row in rows)
    elif q.metric == "funnel":
        data = _funnel(totals)
    else:
        data = _peers(store, q, now)
    out["data"] = data
    return out


@reads_from_replica
def merchant_dashboard(*, store: Store, q: ReportQuery) -> dict[str, Any]:
    """Everything the console page shows, from one read of the store's days."""
    rows = _store_rows(store.pk, q.start, q.end)
    totals: Sums = {}
    for row in rows:
        _sum_into(totals, row, STORE_SUMS)
    now = _headline(totals)
    return {"totals": now, "comparison": _comparison(store.pk, q, now), "peers": _peers(store, q, now),
            "items": _items(store.pk, q), "heat": m.heat_map((r["day"], r["hours"] or [0] * 24) for r in rows),
            "funnel": _funnel(totals),
            "series": {name: store_series(rows, q, STORE_SERIES[name])
                       for name in ("sales", "orders", "aov", "rating", "repeat_rate")}}


def export_rows(*, store: Store, q: ReportQuery) -> tuple[list[str], list[list[Any]]]:
    """The header and one row per period for the CSV / XLSX export (money in yuan)."""
    rows = _store_rows(store.pk, q.start, q.end)
    sums: dict[date, Sums] = defaultdict(dict)
    for row in rows:
        _sum_into(sums[m.bucket(row["day"], q.granularity)], row, STORE_SUMS)
    header = ["period", "sales_yuan", "orders", "online_orders", "pos_orders", "aov_yuan", "new_customers",
              "returning_customers", "repeat_rate", "views", "add_to_cart", "checkouts", "placed_orders",
              "reviews", "rating", "refunds_yuan"]
    out = []
    for b in _buckets(q):
        s = sums.get(b, {})
        aov = STORE_SERIES["aov"](s)
        out.append([b.isoformat(), _sales(s) / 100, _orders(s), s.get("online_orders", 0), s.get("pos_orders", 0),
                    None if aov is None else aov / 100, s.get("new_buyers", 0), s.get("returning_buyers", 0),
                    STORE_SERIES["repeat_rate"](s), s.get("views", 0), s.get("carts", 0), s.get("checkouts", 0),
                    s.get("placed_orders", 0), s.get("reviews", 0), _rating(s), s.get("refunds_fen", 0) / 100])
    return header, out


# --- the platform ----------------------------------------------------------------------------

def _category_names() -> dict[int, str]:
    return dict(StoreCategory.objects.values_list("id", "slug"))


@reads_from_replica
def platform_report(*, q: ReportQuery, city: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"metric": q.metric, "from": q.start.isoformat(), "to": q.end.isoformat(),
                           "granularity": q.granularity, "by": q.by or None, "city": city or None,
                           "series": None, "data": None}
    days = PlatformDay.objects.filter(day__gte=q.start, day__lte=q.end)
    if city:
        days = days.filter(city_code=city)
    if q.metric in PLATFORM_SERIES:
        out["series"] = _platform_series(days, q, PLATFORM_SERIES[q.metric])
    elif q.metric in PLATFORM_ACTIVE:
        out["series"] = _active_series(q, city)
    elif q.metric == "summary":
        out["data"] = platform_summary(days, q, city)
    elif q.metric == "funnel":
        totals = {k: v or 0 for k, v in days.aggregate(**{f: Sum(f) for f in PLATFORM_SUMS}).items()}
        steps = [("views", totals["views"]), ("cart", totals["carts"]), ("checkout", totals["checkouts"]),
                 ("order", totals["placed_orders"]), ("paid", totals["orders"])]
        out["data"] = [vars(step) for step in m.funnel(steps)]
    else:
        out["data"] = retention_table(q)
    return out


def _platform_series(days: Any, q: ReportQuery, value: Callable[[Sums], Any]) -> list[dict[str, Any]]:
    """Summed per (day, group) in the database with no per-row function (date truncation
    per row is what makes a year slow), then into weeks or months here."""
    dimension = DIMENSIONS[q.by]
    rows = days.values("day", *([dimension] if dimension else [])).annotate(**{f: Sum(f) for f in PLATFORM_SUMS})
    sums: dict[tuple[date, Any], Sums] = defaultdict(dict)
    groups: set[Any] = set()
    for row in rows:
        group = row[dimension] if dimension else None
        groups.add(group)
        _sum_into(sums[(m.bucket(row["day"], q.granularity), group)], row, PLATFORM_SUMS)
    names = _category_names() if q.by == "category" else {}
    out = []
    for group in sorted(groups, key=str) or [None]:
        label = None if group is None else names.get(group, str(group))
        for b in _buckets(q):
            out.append({"period": b.isoformat(), "group": label, "value": value(sums.get((b, group), {}))})
    return out


def _active_series(q: ReportQuery, city: str) -> list[dict[str, Any]]:
    if q.by not in ("", "city"):
        raise UnknownDimension(by=q.by, allowed=["city"], metric=q.metric)
    rows = ActiveDay.objects.filter(day__gte=q.start, day__lte=q.end)
    rows = rows.filter(city_code=city) if city else rows.filter(city_code="") if not q.by else rows.exclude(city_code="")
    values: dict[tuple[date, str], int] = defaultdict(int)
    groups: set[str] = set()
    for day, city_code, dau, mau in rows.values_list("day", "city_code", "dau", "mau"):
        key = (m.bucket(day, q.granularity), city_code)
        groups.add(city_code)
        # a week's or month's DAU is the average day; its MAU is the last day's 30-day count
        values[key] = max(values[key], mau) if q.metric == "mau" else values[key] + dau
    out = []
    for group in sorted(groups) or [""]:
        for b in _buckets(q):
            v = values.get((b, group), 0)
            if q.metric == "dau" and q.granularity != "day":
                span = min(b + _span(b, q.granularity), q.end + timedelta(days=1)) - max(b, q.start)
                v = round(v / max(span.days, 1))
            out.append({"period": b.isoformat(), "group": group or None, "value": v})
    return out


def _span(start: date, granularity: str) -> timedelta:
    if granularity == "week":
        return timedelta(days=7)
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - start


def platform_summary(days: Any, q: ReportQuery, city: str = "") -> dict[str, Any]:
    totals: Sums = {}
    by_channel: dict[str, int] = {}
    for row in days.values("channel").annotate(**{f: Sum(f) for f in PLATFORM_SUMS}).order_by():
        _sum_into(totals, row, PLATFORM_SUMS)
        by_channel[row["channel"]] = row["gmv_fen"] or 0
    totals = {f: totals.get(f, 0) for f in PLATFORM_SUMS}
    last = ActiveDay.objects.filter(day__lte=q.end, day__gte=q.start, city_code=city).order_by("-day").first()
    dau = ActiveDay.objects.filter(day__lte=q.end, day__gte=q.start, city_code=city).aggregate(
        s=Sum("dau"), n=Count("day"))
    return {"gmv_fen": totals["gmv_fen"], "orders": totals["orders"],
            "aov_fen": m.average_order_value_fen(totals["gmv_fen"], totals["orders"]),
            "online_gmv_fen": by_channel.get("online", 0) or 0, "pos_gmv_fen": by_channel.get("pos", 0) or 0,
            "dau": round(dau["s"] / dau["n"]) if dau["n"] else 0, "mau": last.mau if last else 0,
            "new_merchants": totals["new_merchants"], "take_rate": m.ratio(totals["commission_fen"], totals["gmv_fen"]),
            "subsidy_fen": totals["subsidy_fen"],
            "on_time_rate": m.ratio(totals["delivered_on_time"], totals["delivered"]),
            "complaint_rate": m.ratio(totals["complaints"], totals["orders"])}


def retention_table(q: ReportQuery, weeks: int = 8) -> list[dict[str, Any]]:
    """Cohorts of the first-order weeks in the range, each with its share active in week +0..+7."""
    cohorts: dict[date, dict[int, int]] = defaultdict(dict)
    for cohort, offset, n in (CohortWeek.objects.filter(cohort__gte=m.week_start(q.start), cohort__lte=q.end,
                                                        offset__lt=weeks)
                              .values_list("cohort", "offset", "customers")):
        cohorts[cohort][offset] = n
    return [{"cohort": c.isoformat(), "customers": size, "retention": shares}
            for c, size, shares in m.retention(cohorts, weeks=weeks)]


def platform_breakdown(*, q: ReportQuery, city: str = "") -> list[dict[str, Any]]:
    """Every series metric over the whole range, one row per value of `q.by`."""
    dimension = DIMENSIONS[q.by or "city"]
    days = PlatformDay.objects.filter(day__gte=q.start, day__lte=q.end)
    if city:
        days = days.filter(city_code=city)
    names = _category_names() if dimension == "category_id" else {}
    out = []
    for row in days.values(dimension).annotate(**{f: Sum(f) for f in PLATFORM_SUMS}).order_by("-gmv_fen"):
        sums = {f: row[f] or 0 for f in PLATFORM_SUMS}
        out.append({"group": names.get(row[dimension], str(row[dimension])),
                    **{metric: value(sums) for metric, value in PLATFORM_SERIES.items()}})
    return out


def platform_cities() -> list[str]:
    return list(ActiveDay.objects.exclude(city_code="").values_list("city_code", flat=True).distinct()
                .order_by("city_code"))
