"""The pure metric maths (analytics.metrics), by hand and with hypothesis."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from linli.analytics import metrics as m

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


def test_average_order_value_rounds_half_up_in_whole_fen():
    assert m.average_order_value_fen(1000, 3) == 333
    assert m.average_order_value_fen(1001, 2) == 501  # 500.5 -> 501
    assert m.average_order_value_fen(0, 0) is None


@given(st.integers(0, 10**12), st.integers(1, 10**6))
def test_average_order_value_is_within_half_a_fen(sales, orders):
    aov = m.average_order_value_fen(sales, orders)
    assert abs(aov * orders - sales) * 2 <= orders


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_repeat_rate_is_a_share(new, returning):
    rate = m.repeat_rate(new, returning)
    if new + returning == 0:
        assert rate is None
    else:
        assert 0 <= rate <= 1


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=6))
def test_funnel_of_a_narrowing_funnel_never_exceeds_one(counts):
    counts = sorted(counts, reverse=True)
    steps = m.funnel([(str(i), c) for i, c in enumerate(counts)])
    assert steps[0].of_previous is None
    for step in steps:
        assert step.of_first is None or 0 <= step.of_first <= 1
        assert step.of_previous is None or 0 <= step.of_previous <= 1


def test_funnel_by_hand():
    steps = m.funnel([("views", 200), ("cart", 50), ("order", 20), ("paid", 18)])
    assert [s.of_previous for s in steps] == [None, 0.25, 0.4, 0.9]
    assert steps[-1].of_first == 0.09


@given(days, days)
def test_week_shift_keeps_the_length_and_weekdays(a, b):
    start, end = min(a, b), max(a, b)
    s, e = m.shift_period(start, end, "week")
    assert (e - s) == (end - start) and s.weekday() == start.weekday() and s == start - timedelta(days=7)


@given(days)
def test_month_shift_lands_in_the_previous_month(day):
    back, _ = m.shift_period(day, day, "month")
    assert (back.year * 12 + back.month) == (day.year * 12 + day.month) - 1
    assert back.day == min(day.day, back.day) and back.day <= day.day


def test_month_shift_clamps_the_31st():
    assert m.shift_period(date(2026, 3, 31), date(2026, 3, 31), "month")[0] == date(2026, 2, 28)


def test_change_and_zero_base():
    assert m.change(150, 100) == 0.5
    assert m.change(5, 0) is None


def test_anonymised_average_needs_five_contributors():
    assert m.anonymised_average([10, 20, 30, 40]) is None
    assert m.anonymised_average([10, 20, 30, 40, 50]) == 30


@given(st.lists(st.tuples(days, st.lists(st.integers(0, 50), min_size=24, max_size=24)), max_size=30))
def test_heat_map_keeps_every_order(day_hours):
    grid = m.heat_map(day_hours)
    assert len(grid) == 7 and all(len(row) == 24 for row in grid)
    assert sum(map(sum, grid)) == sum(sum(h) for _, h in day_hours)


def test_retention_rows():
    rows = m.retention({date(2026, 1, 5): {0: 10, 1: 4, 3: 1}}, weeks=4)
    assert rows == [(date(2026, 1, 5), 10, [1.0, 0.4, 0.0, 0.1])]


@given(days, st.sampled_from(["day", "week", "month"]))
def test_bucket_is_on_or_before_the_day(day, granularity):
    start = m.bucket(day, granularity)
    assert start <= day and (day - start).days < 31
