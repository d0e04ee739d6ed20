"""Bookable slots, pure Python (no Django): working intervals minus busy intervals.

Time is an integer number of minutes since the Unix epoch (UTC), so intervals from any
time zone compare directly. An interval is half-open `(start, end)`.

A slot for a service of `duration` minutes followed by `buffer` minutes of clean-up starts
at `t` on a resource when:
- `[t, t + duration)` lies inside one of the resource's working intervals (the buffer may
  run past the end of the shift: it is the resource's time, not the customer's), and
- `[t, t + duration + buffer)` overlaps no busy interval of the resource (a busy interval
  is an existing booking including its own buffer, or time off).

A class (seats > 1) at a start where the same class already runs is not blocked by that
class's own bookings: it is open while seats remain (`taken[t] < seats`).

Candidate starts are `ws + k * step` from the start `ws` of each working interval; after a
conflict the scan jumps to the first grid point at or after the busy interval's end (bisect on
the merged busy list), so a month of a busy calendar costs O(slots + busy · log busy).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

Interval = tuple[int, int]

OK = "ok"
OUTSIDE_HOURS = "outside_hours"
TAKEN = "taken"


@dataclass(frozen=True)
class Service:
    duration: int  # minutes, > 0
    buffer: int = 0  # minutes after each booking, >= 0
    seats: int = 1  # > 1: a class


@dataclass
class ResourceDay:
    """What the computation needs of one resource: working and busy intervals, and for a
    class the seats already taken per start of this service."""

    key: str
    working: list[Interval]
    busy: list[Interval] = field(default_factory=list)
    taken: dict[int, int] = field(default_factory=dict)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping, non-touching union of the intervals (empty ones dropped)."""
    out: list[Interval] = []
    lo = hi = None
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if hi is not None and start <= hi:
            if end > hi:
                hi = end
            continue
        if hi is not None:
            out.append((lo, hi))  # type: ignore[arg-type]
        lo, hi = start, end
    if hi is not None:
        out.append((lo, hi))  # type: ignore[arg-type]
    return out


def _first_conflict(busy: list[Interval], ends: list[int], start: int, end: int) -> Interval | None:
    """The first merged busy interval overlapping [start, end), or None."""
    i = bisect_right(ends, start)  # busy[i] is the first whose end is after start
    if i < len(busy) and busy[i][0] < end:
        return busy[i]
    return None


def slots_for_resource(resource: ResourceDay, service: Service, *, step: int, not_before: int,
                       until: int) -> list[tuple[int, int]]:
    """[(start, seats_left)] of one resource, ascending, for starts in [not_before, until).

    One sweep: candidate starts only grow, so the index `i` of the first merged busy interval
    ending after the candidate only moves forward."""
    busy = merge(resource.busy)
    n = len(busy)
    need, duration, seats = service.duration + service.buffer, service.duration, service.seats
    taken = resource.taken if seats > 1 else {}
    class_starts = sorted(taken)
    out: list[tuple[int, int]] = []
    append = out.append
    i = 0
    for ws, we in merge(resource.working):
        last = min(we - duration, until - 1)
        if last < not_before:
            continue
        t = ws if ws >= not_before else ws + -(-(not_before - ws) // step) * step
        while t <= last:
            while i < n and busy[i][1] <= t:
                i += 1
            if taken and t in taken:
                if taken[t] < seats:
                    append((t, seats - taken[t]))
                t += step
            elif i < n and busy[i][0] < t + need:  # conflict: jump past it on this shift's grid
                jump = ws + -(-(busy[i][1] - ws) // step) * step
                k = bisect_right(class_starts, t)  # ... but not past a start of this class
                while k < len(class_starts) and class_starts[k] < jump:
                    if (class_starts[k] - ws) % step == 0:
                        jump = class_starts[k]
                        break
                    k += 1
                t = jump
            else:
                append((t, seats))
                t += step
    return out


def availability(resources: Sequence[ResourceDay], service: Service, *, step: int, not_before: int,
                 until: int) -> list[tuple[int, list[tuple[str, int]]]]:
    """Every start at which at least one resource is free: [(start, [(resource key, seats
    left)])], ascending by start; resources keep the order they were given in."""
    by_start: dict[int, list[tuple[str, int]]] = {}
    for resource in resources:
        for start, left in slots_for_resource(resource, service, step=step, not_before=not_before,
                                              until=until):
            by_start.setdefault(start, []).append((resource.key, left))
    return sorted(by_start.items())


def slot_check(resource: ResourceDay, service: Service, start: int) -> str:
    """Why one start is or is not bookable on a resource: OK, OUTSIDE_HOURS or TAKEN (the
    grid does not matter here: any minute inside the hours may be booked)."""
    end = start + service.duration
    if not any(ws <= start and end <= we for ws, we in merge(resource.working)):
        return OUTSIDE_HOURS
    if service.seats > 1 and start in resource.taken:
        return OK if resource.taken[start] < service.seats else TAKEN
    busy = merge(resource.busy)
    if _first_conflict(busy, [b[1] for b in busy], start, start + service.duration + service.buffer):
        return TAKEN
    return OK


# --- working hours in local time -> epoch-minute intervals --------------------------------------

def _hhmm(text: str) -> int:
    hh, mm = text.split(":")
    return int(hh) * 60 + int(mm)


def _epoch_minutes(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def day_periods(weekly: Sequence[Sequence[Sequence[str]]], special: Mapping[str, Sequence[Sequence[str]]] | None,
                day: date) -> list[tuple[int, int]]:
    """One local date's periods as minutes of the day: its special entry if it has one (an
    empty list = closed, a holiday), else its weekday's. An overnight period is cut at
    midnight (services are booked within one day)."""
    periods = special.get(day.isoformat()) if special else None
    if periods is None:
        periods = weekly[day.weekday()] if weekly else []
    out = []
    for start_s, end_s in periods:
        start, end = _hhmm(start_s), _hhmm(end_s)
        out.append((start, end if end > start else 24 * 60))
    return out


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for a0, a1 in a:
        for b0, b1 in b:
            lo, hi = max(a0, b0), min(a1, b1)
            if lo < hi:
                out.append((lo, hi))
    return sorted(out)


def working_intervals(*, store_weekly: Sequence[Sequence[Sequence[str]]],
                      store_special: Mapping[str, Sequence[Sequence[str]]] | None,
                      resource_weekly: Sequence[Sequence[Sequence[str]]] | None,
                      tz: str, first: date, days: int) -> list[Interval]:
    """A resource's working intervals over `days` local dates from `first`: its own weekly
    hours (or the store's when it has none) within the store's hours of that date (special
    hours and holidays included), as epoch minutes. DST gaps resolve as zoneinfo does."""
    zone = ZoneInfo(tz)
    out: list[Interval] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        store_periods = day_periods(store_weekly, store_special, day)
        periods = (_intersect(day_periods(resource_weekly, None, day), store_periods)
                   if resource_weekly else store_periods)
        base, steady = _local_midnight(tz, day)
        for start, end in periods:
            if steady:  # the offset does not change this day: plain addition
                out.append((base + start, base + end))
            else:  # a DST change: wall-clock arithmetic, as zoneinfo resolves it
                midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
                out.append((_epoch_minutes(midnight + timedelta(minutes=start)),
                            _epoch_minutes(midnight + timedelta(minutes=end))))
    return out


@lru_cache(maxsize=4096)
def _local_midnight(tz: str, day: date) -> tuple[int, bool]:
    """The epoch minute of the local midnight starting `day`, and whether the UTC offset is
    the same at the next midnight (no DST change within the day)."""
    zone = ZoneInfo(tz)
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    after = day + timedelta(days=1)
    next_midnight = datetime(after.year, after.month, after.day, tzinfo=zone)
    return _epoch_minutes(midnight), midnight.utcoffset() == next_midnight.utcoffset()
