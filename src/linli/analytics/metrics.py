"""Metric maths of the reports. Pure: no Django, no I/O, plain ints in, plain numbers out,
so the rules are tested alone (tests/analytics/test_metrics.py, with hypothesis).

Definitions (docs/analytics.md):
- average order value (客单价) = sales / paid orders, in whole fen (rounded half up);
- repeat rate = returning buyer-days / all buyer-days, where a buyer-day is a customer who
  bought at the store that day and "returning" means they had bought there before;
- funnel step ratio = the step's count / the previous step's count;
- retention of a cohort (customers whose first order fell in one week) in week +k =
  customers of the cohort who ordered in that week / the cohort's size;
- change against a comparison period = (now - before) / before; None when before is 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

K_ANONYMITY = 5  # a category average in a district is shown only when this many stores contribute


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator rounded to 4 places; None when there is nothing to divide by."""
    if denominator <= 0:
        return None
    return round(numerator / denominator, 4)


def average_order_value_fen(sales_fen: int, orders: int) -> int | None:
    """客单价 in whole fen, rounded half up (integer maths: no float error on money)."""
    if orders <= 0:
        return None
    return (2 * sales_fen + orders) // (2 * orders)


def repeat_rate(new_buyers: int, returning_buyers: int) -> float | None:
    return ratio(returning_buyers, new_buyers + returning_buyers)


@dataclass(frozen=True)
class FunnelStep:
    name: str
    count: int
    of_previous: float | None  # this step / the one before (None for the first, or after 0)
    of_first: float | None  # this step / the first step


def funnel(steps: Sequence[tuple[str, int]]) -> list[FunnelStep]:
    """Step ratios of a conversion funnel (views -> cart -> order -> paid)."""
    out: list[FunnelStep] = []
    first = steps[0][1] if steps else 0
    for i, (name, count) in enumerate(steps):
        previous = steps[i - 1][1] if i else None
        out.append(FunnelStep(name=name, count=count,
                              of_previous=None if previous is None else ratio(count, previous),
                              of_first=ratio(count, first)))
    return out


def change(now: int, before: int) -> float | None:
    """Relative change against a comparison period; None when the comparison had nothing."""
    if before == 0:
        return None
    return round((now - before) / before, 4)


def shift_period(start: date, end: date, by: str) -> tuple[date, date]:
    """The comparison period: the same days one week earlier ("week"), or the same calendar
    days of the previous month ("month"; the 31st becomes the month's last day)."""
    if by == "week":
        return start - timedelta(days=7), end - timedelta(days=7)
    if by == "month":
        return _month_back(start), _month_back(end)
    raise ValueError(by)


def _month_back(day: date) -> date:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def anonymised_average(values: Iterable[int], *, minimum: int = K_ANONYMITY) -> float | None:
    """The mean of the contributing stores' values, or None when fewer than `minimum`
    stores contribute (k-anonymity: one store's numbers cannot be read off the average)."""
    values = list(values)
    if len(values) < minimum:
        return None
    return round(sum(values) / len(values), 2)


def retention(cohorts: Mapping[date, Mapping[int, int]], *, weeks: int) -> list[tuple[date, int, list[float | None]]]:
    """Rows of a cohort table: (cohort week, size, [share active in week +0 .. +weeks-1]).
    `cohorts[week][k]` is how many of that week's new customers ordered in week +k; the
    size is week +0's count (everyone orders in the week of their first order)."""
    rows = []
    for week in sorted(cohorts):
        counts = cohorts[week]
        size = counts.get(0, 0)
        rows.append((week, size, [ratio(counts.get(k, 0), size) for k in range(weeks)]))
    return rows


def week_start(day: date) -> date:
    """Monday of the day's ISO week."""
    return day - timedelta(days=day.weekday())


def bucket(day: date, granularity: str) -> date:
    """The first day of the day's bucket: itself, its week's Monday or its month's 1st."""
    if granularity == "day":
        return day
    if granularity == "week":
        return week_start(day)
    if granularity == "month":
        return day.replace(day=1)
    raise ValueError(granularity)


def heat_map(days: Iterable[tuple[date, Sequence[int]]]) -> list[list[int]]:
    """7 x 24 (Monday first) counts from each day's 24 per-hour counts."""
    grid = [[0] * 24 for _ in range(7)]
    for day, hours in days:
        row = grid[day.weekday()]
        for hour, count in enumerate(hours[:24]):
            row[hour] += count
    return grid
