"""Opening hours, pure Python. Weekly periods in the store's local time.

Shape: a list of 7 lists (Monday first) of ["HH:MM", "HH:MM"] periods. A period whose
end is not after its start runs past midnight ("22:00"-"02:00" is open until 2 a.m.
of the next day); "00:00"-"24:00" is all day.
"""

from __future__ import annotations

from datetime import datetime, time

Periods = list[list[list[str]]]


class HoursError(ValueError):
    pass


def _minutes(hhmm: str) -> int:
    try:
        hh, mm = hhmm.split(":")
        h, m = int(hh), int(mm)
    except (ValueError, AttributeError) as exc:
        raise HoursError(f"bad time {hhmm!r}") from exc
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m != 0):
        raise HoursError(f"bad time {hhmm!r}")
    return h * 60 + m


def hours_validate(weekly: object) -> Periods:
    if not isinstance(weekly, list) or len(weekly) != 7:
        raise HoursError("opening hours need 7 days, Monday first")
    for day in weekly:
        if not isinstance(day, list):
            raise HoursError("each day is a list of periods")
        for period in day:
            if not (isinstance(period, list | tuple) and len(period) == 2):
                raise HoursError("a period is [start, end]")
            start, end = (_minutes(p) for p in period)
            if start == end:
                raise HoursError("a period cannot be empty")
    return weekly  # type: ignore[return-value]


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


def every_day(*periods: tuple[str, str]) -> Periods:
    return [[list(p) for p in periods] for _ in range(7)]
