"""Time slots of scheduled orders (预约), pure Python (no Django).

A slot is a quarter-hour boundary in the store's time zone ("12:00", "12:15", ...) at which
the store is open (weekly and special hours, `merchants.hours.is_open_on`), no earlier than
now + the lead time (preparation, plus the ride for delivery), on the store's today or
tomorrow. The checkout offers exactly `slots_offered`; `slot_problem` says why any other
time is refused, with the code the API answers.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from linli.merchants.hours import Periods, SpecialHours, is_open_on

SLOT_MINUTES = 15
DAYS_AHEAD = 2  # today and tomorrow, in the store's time zone
# An e-bike's effective city speed over the straight-line distance, as on the store cards
# and in the delivery deadlines.
RIDER_M_PER_MIN = 250


def lead_minutes(*, prep_minutes: int, distance_m: int | None) -> int:
    """Preparation, plus the ride when there is a distance (delivery)."""
    ride = math.ceil(distance_m / RIDER_M_PER_MIN) if distance_m else 0
    return prep_minutes + ride


def _first_boundary(local: datetime) -> datetime:
    """The first quarter-hour boundary at or after `local`."""
    floor = local.replace(minute=local.minute - local.minute % SLOT_MINUTES, second=0,
                          microsecond=0)
    return floor if floor == local else floor + timedelta(minutes=SLOT_MINUTES)


def slots_offered(*, now: datetime, tz: str, weekly: Periods, special: SpecialHours | None,
                  lead: int, days: int = DAYS_AHEAD) -> list[datetime]:
    """Every slot from now + lead to the end of tomorrow's opening hours, as aware times in
    the store's zone (at most days x 96)."""
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    last_day = local_now.date() + timedelta(days=days - 1)
    at = _first_boundary((now + timedelta(minutes=lead)).astimezone(zone))
    out = []
    while at.date() <= last_day:
        if is_open_on(weekly, special, at):
            out.append(at)
        at = (at.astimezone(ZoneInfo("UTC")) + timedelta(minutes=SLOT_MINUTES)).astimezone(zone)
    return out


def slot_problem(*, at: datetime, now: datetime, tz: str, weekly: Periods,
                 special: SpecialHours | None, lead: int,
                 days: int = DAYS_AHEAD) -> tuple[str, dict[str, object]] | None:
    """None if `at` is an offered slot, else (code, details): `scheduled_in_past`,
    `invalid_slot` (not on a boundary, sooner than the lead time, beyond tomorrow) or
    `scheduled_outside_hours`."""
    if at.tzinfo is None:
        return "invalid_slot", {"reason": "naive_time"}
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    if at <= now:
        return "scheduled_in_past", {"now": now.isoformat()}
    if local.minute % SLOT_MINUTES or local.second or local.microsecond:
        return "invalid_slot", {"reason": "not_on_boundary", "slot_minutes": SLOT_MINUTES}
    earliest = _first_boundary((now + timedelta(minutes=lead)).astimezone(zone))
    if local < earliest:
        return "invalid_slot", {"reason": "too_soon", "earliest": earliest.isoformat()}
    if local.date() > now.astimezone(zone).date() + timedelta(days=days - 1):
        return "invalid_slot", {"reason": "too_far", "days": days}
    if not is_open_on(weekly, special, local):
        return "scheduled_outside_hours", {"local_time": local.strftime("%Y-%m-%d %H:%M")}
    return None
