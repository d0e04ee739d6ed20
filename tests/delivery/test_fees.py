"""The rider's fee per delivery (pure function, no database) and the deadline arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.delivery.deadlines import (
    RIDER_SPEED_M_PER_MIN,
    deadlines_for,
    seconds_left,
    travel_minutes,
)
from linli.delivery.fees import DEFAULT_RULES, FeeRules, late_minutes, rider_fee

distances = st.floats(min_value=0, max_value=200_000, allow_nan=False, allow_infinity=False, allow_subnormal=False) | st.integers(0, 200_000)
lateness = st.floats(min_value=-7200, max_value=48 * 3600, allow_nan=False, allow_infinity=False)
rules = st.builds(FeeRules, base_fen=st.integers(0, 2000), base_distance_m=st.integers(0, 5000),
                  per_km_fen=st.integers(0, 1000), late_per_minute_fen=st.integers(0, 500),
                  max_penalty_pct=st.integers(0, 100))


def test_documented_examples():
    assert rider_fee(800).total_fen == 500                       # within the base distance
    assert rider_fee(1000).total_fen == 500
    assert rider_fee(1001).total_fen == 600                      # a started km beyond it
    assert rider_fee(3500).total_fen == 500 + 3 * 100
    on_time = rider_fee(2400, late_seconds=-300)
    assert (on_time.late_penalty_fen, on_time.late_minutes, on_time.total_fen) == (0, 0, 700)
    late = rider_fee(2400, late_seconds=61)                      # two started minutes late
    assert (late.late_minutes, late.late_penalty_fen, late.total_fen) == (2, 40, 660)
    very_late = rider_fee(2400, late_seconds=10 * 3600)
    assert very_late.late_penalty_fen == 350 and very_late.total_fen == 350  # capped at half


@given(distances, lateness, rules)
def test_fee_is_an_integer_never_negative_and_never_above_the_gross(distance, late, fee_rules):
    fee = rider_fee(distance, late, fee_rules)
    assert isinstance(fee.total_fen, int) and isinstance(fee.late_penalty_fen, int)
    assert 0 <= fee.total_fen <= fee.gross_fen
    assert fee.total_fen == fee.gross_fen - fee.late_penalty_fen
    assert fee.late_penalty_fen <= fee.gross_fen * fee_rules.max_penalty_pct // 100


@given(distances, distances, lateness, rules)
def test_fee_never_decreases_with_distance(a, b, late, fee_rules):
    near, far = sorted((a, b))
    assert rider_fee(near, late, fee_rules).total_fen <= rider_fee(far, late, fee_rules).total_fen


@given(distances, lateness, lateness, rules)
def test_fee_never_increases_with_lateness(distance, a, b, fee_rules):
    early, later = sorted((a, b))
    assert rider_fee(distance, later, fee_rules).total_fen <= rider_fee(distance, early, fee_rules).total_fen


@given(distances, lateness)
def test_default_rules_always_pay_at_least_half_the_gross_and_the_base_when_on_time(distance, late):
    fee = rider_fee(distance, late, DEFAULT_RULES)
    assert fee.total_fen * 2 >= fee.gross_fen
    if late <= 0:
        assert fee.total_fen == fee.gross_fen >= DEFAULT_RULES.base_fen


@given(lateness)
def test_late_minutes_are_started_minutes(late):
    minutes = late_minutes(late)
    assert minutes == 0 if late <= 0 else (minutes - 1) * 60 < late <= minutes * 60 + 0.001


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        rider_fee(-1)
    with pytest.raises(ValueError):
        FeeRules(base_fen=-1)
    with pytest.raises(ValueError):
        FeeRules(max_penalty_pct=101)
    with pytest.raises(ValueError):
        travel_minutes(-5)


NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def test_deadlines_from_acceptance_prep_time_and_the_ride():
    accepted = NOW - timedelta(minutes=5)
    due = deadlines_for(now=NOW, accepted_at=accepted, prep_minutes=15, distance_m=2600)
    assert due.pickup == accepted + timedelta(minutes=15)
    assert travel_minutes(2600) == 11  # 2600 m at 250 m/min = 10.4 -> 11
    assert due.deliver == due.pickup + timedelta(minutes=11)
    unknown = deadlines_for(now=NOW, accepted_at=None, prep_minutes=10, distance_m=0)
    assert unknown.pickup == unknown.deliver == NOW + timedelta(minutes=10)
    promised = NOW + timedelta(minutes=45)
    assert deadlines_for(now=NOW, accepted_at=None, prep_minutes=10, distance_m=9000,
                         promised_at=promised).deliver == promised
    assert seconds_left(NOW + timedelta(seconds=90), NOW) == 90
    assert seconds_left(NOW - timedelta(seconds=1, microseconds=1), NOW) == -2
    assert seconds_left(None, NOW) is None


@given(st.floats(0, 50_000, allow_subnormal=False), st.floats(0, 50_000, allow_subnormal=False))
def test_travel_time_grows_with_distance_at_the_documented_speed(a, b):
    near, far = sorted((a, b))
    assert travel_minutes(near) <= travel_minutes(far)
    assert travel_minutes(far) * RIDER_SPEED_M_PER_MIN >= far
