"""Quiet hours, the pure rule: windows within a day and across midnight, in the city's zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from linli.notifications.quiet import quiet_until

TZ = "Asia/Shanghai"  # UTC+8


def at_local(hour: int, minute: int = 0) -> datetime:
    """2026-11-25 hour:minute in Shanghai, as an aware UTC instant."""
    return datetime(2026, 11, 25, hour, minute, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def local(dt: datetime | None) -> tuple[int, int, int] | None:
    if dt is None:
        return None
    d = dt.astimezone(ZoneInfo(TZ))
    return (d.day, d.hour, d.minute)


def test_a_window_across_midnight_ends_the_next_morning():
    start, end = time(22, 0), time(8, 0)
    assert local(quiet_until(at_local(23, 30), start, end, TZ)) == (26, 8, 0)
    assert local(quiet_until(at_local(2), start, end, TZ)) == (25, 8, 0)
    assert quiet_until(at_local(8), start, end, TZ) is None  # the end is not quiet
    assert quiet_until(at_local(21, 59), start, end, TZ) is None
    assert local(quiet_until(at_local(22), start, end, TZ)) == (26, 8, 0)


def test_a_window_within_the_day_and_no_window():
    assert local(quiet_until(at_local(13, 15), time(13), time(14), TZ)) == (25, 14, 0)
    assert quiet_until(at_local(14), time(13), time(14), TZ) is None
    assert quiet_until(at_local(3), None, None, TZ) is None
    assert quiet_until(at_local(3), time(3), time(3), TZ) is None  # empty window


def test_the_window_is_read_in_the_city_time_zone_not_utc():
    # 23:00 UTC is 07:00 in Shanghai: inside 22:00-08:00 there, outside it in UTC terms
    now = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
    assert local(quiet_until(now, time(22), time(8), TZ)) == (26, 8, 0)
    assert quiet_until(now, time(22), time(8), "UTC") is not None  # 23:00 UTC is in it too
    assert quiet_until(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), time(22), time(8), TZ) is None  # 20:00
