"""Service-appointment availability: a month of slots for a store with 20 staff (pure Python,
no database). The target (issue 11) is under 50 ms for the whole month.

Each staff member works 10:00-21:00 (two of them take their own hours), the store is closed on
one holiday, and the calendar is realistically full: ~60% of each day is booked in 30-90 minute
appointments with a 10-minute buffer. Figures: working-hour expansion (local time -> epoch
minutes, 20 staff x 31 days), the slot computation for one service on a 15-minute grid, and the
two together; median and worst of 30 runs each."""

from __future__ import annotations

import random
import statistics
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from _setup import ROOT  # noqa: F401  (puts src on the path for an uninstalled checkout)

from linli.bookings.slots import ResourceDay, Service, availability, working_intervals

STAFF, DAYS, RUNS = 20, 31, 30
TZ = "Asia/Shanghai"
FIRST = date(2026, 12, 1)
STORE_HOURS = [[["10:00", "21:00"]]] * 7
SPECIAL = {"2026-12-25": []}


def _calendar(rnd: random.Random) -> list[tuple[str, list[list[list[str]]] | None, list[tuple[int, int]]]]:
    zone = ZoneInfo(TZ)
    staff = []
    for n in range(STAFF):
        own = [[["12:00", "21:00"]]] * 7 if n < 2 else None
        busy = []
        for offset in range(DAYS):
            day = FIRST + timedelta(days=offset)
            t = int(datetime(day.year, day.month, day.day, 10, tzinfo=zone).timestamp()) // 60
            end = t + 11 * 60
            while t < end:
                length = rnd.choice((30, 45, 60, 90))
                if rnd.random() < 0.6:
                    busy.append((t, t + length + 10))
                t += length + 10
        staff.append((f"res_{n}", own, busy))
    return staff


def _timed(fn) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), result


def main() -> None:
    rnd = random.Random(11)
    staff = _calendar(rnd)
    service = Service(duration=60, buffer=10)
    not_before = int(datetime(2026, 12, 1, 0, 0, tzinfo=ZoneInfo(TZ)).timestamp()) // 60
    until = not_before + DAYS * 24 * 60

    def expand() -> list[ResourceDay]:
        return [ResourceDay(key=key, busy=busy, working=working_intervals(
            store_weekly=STORE_HOURS, store_special=SPECIAL, resource_weekly=own, tz=TZ, first=FIRST, days=DAYS))
            for key, own, busy in staff]

    resources = expand()

    def compute() -> list:  # type: ignore[type-arg]
        return availability(resources, service, step=15, not_before=not_before, until=until)

    def both() -> list:  # type: ignore[type-arg]
        return availability(expand(), service, step=15, not_before=not_before, until=until)

    busy_count = sum(len(b) for _, _, b in staff)
    med_e, max_e, _ = _timed(expand)
    med_c, max_c, found = _timed(compute)
    med_b, max_b, _ = _timed(both)
    starts = len(found)  # type: ignore[arg-type]
    pairs = sum(len(free) for _, free in found)  # type: ignore[union-attr]
    print(f"bookings availability: {STAFF} staff x {DAYS} days, {busy_count} existing bookings, "
          f"60+10 min service on a 15-min grid")
    print(f"  {starts} bookable starts, {pairs} (start, staff) pairs")
    print(f"  working hours -> intervals: median {med_e:6.2f} ms, worst {max_e:6.2f} ms")
    print(f"  slot computation:           median {med_c:6.2f} ms, worst {max_c:6.2f} ms")
    print(f"  both (a month, end to end): median {med_b:6.2f} ms, worst {max_b:6.2f} ms  (target < 50 ms)")


if __name__ == "__main__":
    main()
