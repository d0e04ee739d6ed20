"""Quiet hours, pure: when does a user's quiet window end? No Django here.

A window is a start and an end in the user's local time; it crosses midnight when the end
is earlier than the start (22:00-08:00). Start equal to end, or either missing: no window.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_until(now: datetime, start: time | None, end: time | None, tz: str) -> datetime | None:
    """The aware instant the quiet window around `now` ends, or None when `now` is outside
    every window. `now` must be aware; the answer is in the same zone as `tz`."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(ZoneInfo(tz))
    at = local.time().replace(tzinfo=None)
    today_end = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
    if start < end:  # within one day: 13:00-14:00
        return today_end if start <= at < end else None
    if at >= start:  # after the start, ends tomorrow morning
        return datetime.combine(local.date() + timedelta(days=1), end, tzinfo=local.tzinfo)
    if at < end:  # after midnight, ends this morning
        return today_end
    return None
