"""Table assignment, reservation slots and queue groups: pure Python, no Django.

A store has table kinds (seats, how many). A reservation for a party holds one table of
one kind over [start, start + seating). `table_assign` picks the smallest kind that seats
the party and has a table free over the whole interval, and within it the lowest table
number, so big tables stay free for big parties. Slots are on a grid of the store's local
day (every `slot_minutes` from midnight) and a slot is offered only when the store is open
over the whole seating (opening hours from `merchants.hours`, special dates included).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from linli.merchants.hours import Periods, SpecialHours, is_open_on

SLOT_MINUTES_ALLOWED = (15, 20, 30, 60)

# Walk-in queue groups by party size: A 小桌 (1-2), B 中桌 (3-4), C 大桌 (5 and more).
QUEUE_GROUPS: tuple[tuple[str, int | None], ...] = (("A", 2), ("B", 4), ("C", None))


@dataclass(frozen=True)
class TableKind:
    key: int  # the table type's id
    seats: int
    count: int


@dataclass(frozen=True)
class Booked:
    """A table held over [start, end)."""

    kind: int
    table_no: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Assignment:
    kind: int
    table_no: int


def max_seats(kinds: Iterable[TableKind]) -> int:
    return max((k.seats for k in kinds if k.count > 0), default=0)


def table_assign(kinds: Iterable[TableKind], booked: Iterable[Booked], *, party: int,
                 start: datetime, end: datetime) -> Assignment | None:
    """The smallest fitting kind with a table free over [start, end), its lowest free table
    number (1-based); None when every fitting table is taken (or none fits)."""
    held = list(booked)
    fitting = sorted((k for k in kinds if k.seats >= party and k.count > 0), key=lambda k: (k.seats, k.key))
    for kind in fitting:
        busy = {b.table_no for b in held if b.kind == kind.key and b.start < end and start < b.end}
        for table_no in range(1, kind.count + 1):
            if table_no not in busy:
                return Assignment(kind=kind.key, table_no=table_no)
    return None


def queue_group(party: int) -> str:
    for group, up_to in QUEUE_GROUPS:
        if up_to is None or party <= up_to:
            return group
    raise AssertionError("the last group takes every size")


def ticket_code(group: str, number: int) -> str:
    """A012: the group letter and the day's number in that group."""
    return f"{group}{number:03d}"


def on_grid(local: datetime, slot_minutes: int) -> bool:
    return local.second == 0 and local.microsecond == 0 and (local.hour * 60 + local.minute) % slot_minutes == 0


def seating_fits(weekly: Periods, special: SpecialHours | None, local_start: datetime, *,
                 seating_minutes: int, step_minutes: int = 15) -> bool:
    """Open at the start, every `step_minutes` after it, and in the last minute of the seating."""
    checks = list(range(0, seating_minutes, step_minutes)) + [seating_minutes - 1]
    return all(is_open_on(weekly, special, local_start + timedelta(minutes=m)) for m in checks)


def day_slots(weekly: Periods, special: SpecialHours | None, day: date, zone: ZoneInfo, *,
              slot_minutes: int, seating_minutes: int) -> list[datetime]:
    """The aware local start times of the day's bookable slots, earliest first."""
    midnight = datetime.combine(day, time(0, 0), tzinfo=zone)
    starts = (midnight + timedelta(minutes=m) for m in range(0, 24 * 60, slot_minutes))
    return [s for s in starts if seating_fits(weekly, special, s, seating_minutes=seating_minutes)]
