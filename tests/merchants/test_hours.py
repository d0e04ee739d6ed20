"""Opening hours in local time, including overnight periods."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from linli.merchants.hours import (
    HoursError,
    every_day,
    hours_validate,
    is_open_at,
    is_open_on,
    special_hours_validate,
)

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


def _with_monday(*periods):
    return [[list(p) for p in periods]] + [[] for _ in range(6)]


@pytest.mark.parametrize("good", [
    every_day(("18:00", "02:00")),
    every_day(("11:00", "14:00"), ("17:00", "02:00")),
    every_day(("22:00", "06:00")),  # the latest an overnight period may end
    every_day(("18:00", "00:00")),  # until midnight
    every_day(("00:00", "24:00")),
    every_day(("02:00", "10:00"), ("18:00", "02:00")),  # the spill ends where the morning starts
])
def test_valid_hours_pass(good):
    assert hours_validate(good) == good


@pytest.mark.parametrize(("bad", "reason", "day"), [
    (every_day(("18:00", "09:00")), "ends_before_start", "monday"),  # a typo, not an overnight shift
    (_with_monday(("14:00", "10:00")), "ends_before_start", "monday"),
    (_with_monday(("10:00", "14:00"), ("13:00", "18:00")), "overlap", "monday"),
    (_with_monday(("10:00", "14:00"), ("10:00", "14:00")), "overlap", "monday"),
    ([[["20:00", "04:00"]], [["03:00", "10:00"]], [], [], [], [], []], "overlap", "tuesday"),
    (every_day(("00:00", "24:00"), ("22:00", "02:00")), "overlap", "monday"),
    (every_day(("24:00", "02:00")), "starts_at_midnight_end", "monday"),
    (every_day(("9:00", "18:00")), "bad_time", None),
])
def test_invalid_hours_say_why_and_which_day(bad, reason, day):
    with pytest.raises(HoursError) as caught:
        hours_validate(bad)
    assert caught.value.details["reason"] == reason
    assert caught.value.details.get("day") == day


def test_sunday_night_spill_is_checked_against_monday():
    week = [[["01:00", "10:00"]]] + [[] for _ in range(5)] + [[["20:00", "03:00"]]]
    with pytest.raises(HoursError) as caught:
        hours_validate(week)
    assert caught.value.details == {"reason": "overlap", "day": "monday"}


WEEKDAYS_10_22 = every_day(("10:00", "22:00"))
LATE = every_day(("18:00", "02:00"))


def test_special_hours_are_checked_and_sorted():
    special = {"2026-10-02": [["12:00", "16:00"]], "2026-10-01": []}
    assert list(special_hours_validate(special, weekly=WEEKDAYS_10_22)) == ["2026-10-01", "2026-10-02"]


@pytest.mark.parametrize(("special", "reason", "date"), [
    ([], "special_not_an_object", None),
    ({"2026-13-01": []}, "bad_date", "2026-13-01"),
    ({"2026-W40-4": []}, "bad_date", "2026-W40-4"),  # parses, but is not how dates are looked up
    ({"20261001": []}, "bad_date", "20261001"),
    ({"2026-10-01": [["16:00", "12:00"]]}, "ends_before_start", "2026-10-01"),
    ({"2026-10-01": [["10:00", "14:00"], ["12:00", "16:00"]]}, "overlap", "2026-10-01"),
    ({"2026-10-01": None}, "day_not_a_list", "2026-10-01"),
])
def test_bad_special_hours_are_refused(special, reason, date):
    with pytest.raises(HoursError) as caught:
        special_hours_validate(special, weekly=WEEKDAYS_10_22)
    assert caught.value.details["reason"] == reason
    assert caught.value.details.get("date") == date


def test_special_hours_must_not_clash_with_the_eves_spill_or_the_next_morning():
    with pytest.raises(HoursError) as caught:  # the night of 30 Sep runs to 02:00 on 1 Oct
        special_hours_validate({"2026-10-01": [["01:00", "12:00"]]}, weekly=LATE)
    assert caught.value.details == {"reason": "overlap", "date": "2026-10-01"}
    with pytest.raises(HoursError) as caught:  # a special late night runs into 2 Oct's 01:00 start
        special_hours_validate({"2026-10-01": [["20:00", "04:00"]]},
                               weekly=every_day(("01:00", "10:00")))
    assert caught.value.details == {"reason": "overlap", "date": "2026-10-02"}


def test_a_special_date_replaces_its_own_weekly_periods():
    special = {"2026-10-01": [], "2026-10-02": [["12:00", "14:00"]]}  # Thursday, Friday
    assert not is_open_on(WEEKDAYS_10_22, special, datetime(2026, 10, 1, 12, 0))
    assert not is_open_on(WEEKDAYS_10_22, special, datetime(2026, 10, 2, 11, 0))
    assert is_open_on(WEEKDAYS_10_22, special, datetime(2026, 10, 2, 13, 0))
    assert is_open_on(WEEKDAYS_10_22, special, datetime(2026, 10, 3, 11, 0))  # back to weekly
    assert is_open_on(WEEKDAYS_10_22, {}, datetime(2026, 10, 1, 12, 0))


def test_the_eves_overnight_spill_runs_into_a_special_date():
    closed_on_the_first = {"2026-10-01": []}
    assert is_open_on(LATE, closed_on_the_first, datetime(2026, 10, 1, 1, 30))  # 30 Sep's night
    assert not is_open_on(LATE, closed_on_the_first, datetime(2026, 10, 1, 19, 0))
    assert not is_open_on(LATE, closed_on_the_first, datetime(2026, 10, 2, 1, 0))  # no night of the 1st
    special_night = {"2026-10-01": [["20:00", "04:00"]]}
    assert is_open_on(WEEKDAYS_10_22, special_night, datetime(2026, 10, 2, 3, 0))
