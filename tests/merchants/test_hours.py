"""Opening hours in local time, including overnight periods."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from linli.merchants.hours import HoursError, every_day, hours_validate, is_open_at

LUNCH_DINNER = every_day(("10:30", "14:00"), ("17:00", "21:30"))
LATE_NIGHT = every_day(("18:00", "02:00"))


@pytest.mark.parametrize(("hhmm", "open_"), [
    ("10:29", False), ("10:30", True), ("13:59", True), ("14:00", False), ("16:00", False),
    ("17:00", True), ("21:29", True), ("21:30", False),
])
def test_split_day(hhmm, open_):
    h, m = map(int, hhmm.split(":"))
    assert is_open_at(LUNCH_DINNER, time(h, m), weekday=2) is open_


def test_overnight_period_spills_into_the_next_morning():
    assert is_open_at(LATE_NIGHT, datetime(2026, 11, 23, 23, 0))  # Monday night
    assert is_open_at(LATE_NIGHT, datetime(2026, 11, 24, 1, 30))  # Tuesday 1:30
    assert not is_open_at(LATE_NIGHT, datetime(2026, 11, 24, 2, 0))
    closed_monday = [[] if d == 0 else [["18:00", "02:00"]] for d in range(7)]
    assert not is_open_at(closed_monday, datetime(2026, 11, 24, 1, 0))  # Monday closed: no spill
    assert is_open_at(closed_monday, datetime(2026, 11, 23, 1, 0))  # Sunday night's spill


def test_all_day():
    always = every_day(("00:00", "24:00"))
    assert is_open_at(always, time(0, 0), weekday=0) and is_open_at(always, time(23, 59), weekday=6)


@pytest.mark.parametrize("bad", [
    [], [[]] * 6, [[["25:00", "26:00"]]] * 7, [[["10:00"]]] * 7, [[["10:00", "10:00"]]] * 7,
    [[["ab", "cd"]]] * 7, "every day",
])
def test_invalid_hours_are_rejected(bad):
    with pytest.raises(HoursError):
        hours_validate(bad)
