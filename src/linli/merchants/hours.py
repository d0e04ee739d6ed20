"""Opening hours, pure Python. Weekly periods in the store's local time.

Shape: a list of 7 lists (Monday first) of ["HH:MM", "HH:MM"] periods. "00:00"-"24:00"
is all day. A period whose end is not after its start runs past midnight, and is only
accepted when it ends by "06:00" ("18:00"-"02:00" is a late-night shop open until 2 a.m.
of the next day); "18:00"-"09:00" is a typo, not a 15-hour shift, and is refused.
The periods of one day, together with the previous day's overnight spill, must not overlap.

Special hours replace the weekly periods on given dates (store-local):
{"2026-10-01": [] (closed all day) | [["10:00", "16:00"], ...]}. A date's own periods
come from its special entry if there is one, else from its weekday; the overnight spill
of the day before still runs into it (see `is_open_on`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

Periods = list[list[list[str]]]
SpecialHours = dict[str, list[list[str]]]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY = 24 * 60
OVERNIGHT_LATEST_END = 6 * 60  # an overnight period must end by 06:00
MAX_PERIODS_PER_DAY = 6
MAX_SPECIAL_DATES = 366


class HoursError(ValueError):
    """Invalid opening hours; `details` says where (weekday or date, period)."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = {"reason": reason, **details}


def _minutes(hhmm: str) -> int:
    try:
        hh, mm = hhmm.split(":")
        h, m = int(hh), int(mm)
    except (ValueError, AttributeError) as exc:
        raise HoursError("bad_time", time=str(hhmm)) from exc
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m != 0):
        raise HoursError("bad_time", time=hhmm)
    return h * 60 + m


def _checked_minutes(hhmm: object) -> int:
    """Stricter than reading: input must be exactly "HH:MM"."""
    if not isinstance(hhmm, str) or len(hhmm) != 5 or not (hhmm[:2] + hhmm[3:]).isdigit():
        raise HoursError("bad_time", time=str(hhmm))
    return _minutes(hhmm)


def _day_intervals(periods: object, where: dict[str, Any]) -> tuple[list[tuple[int, int]], int]:
    """One day's periods as minute intervals within the day, plus the minutes its
    overnight period spills into the next day (0 if none). Raises HoursError."""
    if not isinstance(periods, list):
        raise HoursError("day_not_a_list", **where)
    if len(periods) > MAX_PERIODS_PER_DAY:
        raise HoursError("too_many_periods", max=MAX_PERIODS_PER_DAY, **where)
    intervals: list[tuple[int, int]] = []
    spill = 0
    for period in periods:
        if not (isinstance(period, list | tuple) and len(period) == 2):
            raise HoursError("period_not_a_pair", **where)
        start, end = _checked_minutes(period[0]), _checked_minutes(period[1])
        shown = {"period": [period[0], period[1]], **where}
        if start == DAY:
            raise HoursError("starts_at_midnight_end", **shown)
        if start == end:
            raise HoursError("empty_period", **shown)
        if end > start:
            intervals.append((start, end))
        elif end <= OVERNIGHT_LATEST_END:
            intervals.append((start, DAY))
            spill = max(spill, end)
        else:
            raise HoursError("ends_before_start", **shown)
    return intervals, spill


def _check_overlap(intervals: list[tuple[int, int]], where: dict[str, Any]) -> None:
    ordered = sorted(intervals)
    for (_, end_a), (start_b, _) in zip(ordered, ordered[1:], strict=False):
        if start_b < end_a:
            raise HoursError("overlap", **where)


def hours_validate(weekly: object) -> Periods:
    """The weekly hours if valid; HoursError otherwise (details name the weekday)."""
    if not isinstance(weekly, list) or len(weekly) != 7:
        raise HoursError("need_seven_days")
    days = [_day_intervals(day, {"day": WEEKDAYS[i]}) for i, day in enumerate(weekly)]
    for i, (intervals, _) in enumerate(days):
        spill_in = days[(i - 1) % 7][1]
        _check_overlap(intervals + ([(0, spill_in)] if spill_in else []), {"day": WEEKDAYS[i]})
    return weekly  # type: ignore[return-value]


def _iso_date(raw: object) -> date:
    if not isinstance(raw, str) or len(raw) != 10:
        raise HoursError("bad_date", date=str(raw))
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise HoursError("bad_date", date=raw) from exc
    if day.isoformat() != raw:  # "2026-W40-4" parses too; only the YYYY-MM-DD spelling is looked up
        raise HoursError("bad_date", date=raw)
    return day


def special_hours_validate(special: object, *, weekly: Periods) -> SpecialHours:
    """Date-specific hours if valid against the weekly ones; HoursError otherwise.

    Overlaps are checked across the date boundary both ways (the eve's spill into the
    special date, the special date's spill into the next day), using the eve's and the
    next day's effective periods.
    """
    if not isinstance(special, dict):
        raise HoursError("special_not_an_object")
    if len(special) > MAX_SPECIAL_DATES:
        raise HoursError("too_many_dates", max=MAX_SPECIAL_DATES)
    dates = {_iso_date(key): key for key in special}
    for day, key in sorted(dates.items()):
        intervals, spill = _day_intervals(special[key], {"date": key})
        eve = day - timedelta(days=1)
        _, eve_spill = _day_intervals(
            special.get(eve.isoformat(), weekly[eve.weekday()]), {"date": eve.isoformat()}
        )
        _check_overlap(intervals + ([(0, eve_spill)] if eve_spill else []), {"date": key})
        after = day + timedelta(days=1)
        if spill and after.isoformat() not in special:  # else checked on the next date's turn
            next_intervals, _ = _day_intervals(weekly[after.weekday()], {"date": after.isoformat()})
            _check_overlap(next_intervals + [(0, spill)], {"date": after.isoformat()})
    return {key: special[key] for _, key in sorted(dates.items())}


def is_open_at(weekly: Periods, local: datetime | time, weekday: int | None = None) -> bool:
    """True if the store is open at this local moment (weekday 0 = Monday)."""
    if isinstance(local, datetime):
        weekday = local.weekday()
        local = local.time()
    assert weekday is not None
    now = local.hour * 60 + local.minute
    for start_s, end_s in weekly[weekday]:
        start, end = _minutes(start_s), _minutes(end_s)
        if start < end and start <= now < end:
            return True
        if end <= start and now >= start:  # overnight, first part
            return True
    for start_s, end_s in weekly[(weekday - 1) % 7]:
        start, end = _minutes(start_s), _minutes(end_s)
        if end <= start and now < end:  # overnight, spilled into today
            return True
    return False


def is_open_on(weekly: Periods, special: SpecialHours | None, local: datetime) -> bool:
    """`is_open_at` with date-specific hours: today's and yesterday's weekly periods are
    swapped for their special entries when they have one, so a special date replaces that
    date's own periods while the eve's overnight spill (its own special or weekly hours)
    still runs into it."""
    if not special:
        return is_open_at(weekly, local)
    today = local.date()
    yesterday = today - timedelta(days=1)
    days = list(weekly)
    for day in (yesterday, today):
        override = special.get(day.isoformat())
        if override is not None:
            days[day.weekday()] = override
    return is_open_at(days, local)


def open_in_zone(weekly: Periods, special: SpecialHours | None, zone: str, at: datetime) -> bool:
    """`is_open_on` at an aware instant, read in the IANA time zone `zone`: whether a store
    with these hours is inside them (its status aside). For callers holding a store's
    hours as values (a cached page, an index row) rather than a Store."""
    return is_open_on(weekly, special, at.astimezone(ZoneInfo(zone)))


def every_day(*periods: tuple[str, str]) -> Periods:
    return [[list(p) for p in periods] for _ in range(7)]
