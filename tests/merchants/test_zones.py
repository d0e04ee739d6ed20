"""Delivery zones and fee tiers, pure: point in polygon, polygon and tier validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.merchants.zones import (
    BeyondLastTier,
    FeeTierError,
    ZoneError,
    delivery_fee_for,
    fee_tiers_validate,
    point_in_polygon,
    zone_validate,
)

SQUARE = [[31.22, 121.46], [31.22, 121.48], [31.24, 121.48], [31.24, 121.46]]
# An "L": the notch at the top right is outside.
L_SHAPE = [[0, 0], [0, 2], [1, 2], [1, 1], [2, 1], [2, 0]]


@pytest.mark.parametrize(("lat", "lng", "inside"), [
    (31.23, 121.47, True),
    (31.2201, 121.4799, True),
    (31.25, 121.47, False),
    (31.23, 121.45, False),
    (31.22, 121.47, True),  # on an edge
    (31.24, 121.48, True),  # on a corner
])
def test_point_in_square(lat, lng, inside):
    assert point_in_polygon(lat, lng, SQUARE) is inside


@pytest.mark.parametrize(("lat", "lng", "inside"), [
    (0.5, 0.5, True), (0.5, 1.5, True), (1.5, 0.5, True), (1.5, 1.5, False), (3, 3, False),
])
def test_point_in_concave_polygon(lat, lng, inside):
    assert point_in_polygon(lat, lng, L_SHAPE) is inside


def test_a_closed_ring_is_accepted_and_stored_open():
    assert zone_validate([*SQUARE, SQUARE[0]]) == SQUARE
    assert zone_validate([tuple(p) for p in L_SHAPE]) == [[float(a), float(b)] for a, b in L_SHAPE]


@pytest.mark.parametrize(("points", "reason"), [
    ("square", "not_a_list"),
    ([[31.2, 121.4], [31.3, 121.5]], "too_few_points"),
    ([[31.2, 121.4], [31.3, 121.5], [31.2, 121.4]], "too_few_points"),  # closed, 2 distinct
    ([[31.2, 121.4], [31.3, 121.5], [31.3, 121.5], [31.2, 121.6]], "duplicate_point"),
    ([[31.2, 121.4], [31.3], [31.2, 121.6]], "bad_point"),
    ([[31.2, 121.4], ["31.3", 121.5], [31.2, 121.6]], "bad_point"),
    ([[31.2, 121.4], [True, 121.5], [31.2, 121.6]], "bad_point"),
    ([[31.2, 121.4], [float("nan"), 121.5], [31.2, 121.6]], "bad_point"),
    ([[91, 121.4], [31.3, 121.5], [31.2, 121.6]], "coordinates_out_of_range"),
    ([[31.2, 181], [31.3, 121.5], [31.2, 121.6]], "coordinates_out_of_range"),
    ([[0, 0], [1, 1], [2, 2]], "no_area"),
    ([[0, 0], [0, 2], [2, 0], [3, 3]], "self_intersecting"),  # a bow tie
    ([[0, 0], [0, 4], [2, 4], [0, 2], [2, 0]], "self_intersecting"),  # a vertex on an edge
    ([[0, 0], [0, 2], [0, 1], [1, 1]], "self_intersecting"),  # folds back on itself
    ([[i * 0.001, (i % 2) * 0.001] for i in range(101)], "too_many_points"),
])
def test_bad_zones_are_refused_with_a_reason(points, reason):
    with pytest.raises(ZoneError) as caught:
        zone_validate(points)
    assert caught.value.reason == reason


def test_a_straight_run_through_a_vertex_is_fine():
    assert zone_validate([[0, 0], [0, 1], [0, 2], [2, 2], [2, 0]])


@given(st.floats(-1, 3), st.floats(-1, 3))
def test_rectangle_membership_matches_its_bounds(lat, lng):
    rectangle = [[0, 0], [0, 2], [2, 2], [2, 0]]
    assert point_in_polygon(lat, lng, rectangle) is (0 <= lat <= 2 and 0 <= lng <= 2)


TIERS = [{"max_m": 1000, "fee_fen": 300}, {"max_m": 3000, "fee_fen": 500}, {"max_m": 5000, "fee_fen": 800}]


@pytest.mark.parametrize(("distance_m", "fee"), [(0, 300), (1000, 300), (1001, 500), (3000, 500), (4999, 800), (5000, 800)])
def test_fee_follows_the_tier_that_reaches_the_distance(distance_m, fee):
    assert delivery_fee_for(TIERS, 999, distance_m) == fee


def test_beyond_the_last_tier_there_is_no_delivery():
    with pytest.raises(BeyondLastTier) as caught:
        delivery_fee_for(TIERS, 999, 5001)
    assert caught.value.max_m == 5000


def test_without_tiers_the_flat_fee_applies_at_any_distance():
    assert delivery_fee_for([], 400, 0) == delivery_fee_for([], 400, 50_000) == 400


def test_good_tiers_pass_through():
    assert fee_tiers_validate(TIERS) == TIERS
    assert fee_tiers_validate([]) == []
    assert fee_tiers_validate([{"max_m": 500, "fee_fen": 0}]) == [{"max_m": 500, "fee_fen": 0}]


@pytest.mark.parametrize(("tiers", "reason"), [
    ({"max_m": 1000}, "not_a_list"),
    ([{"max_m": 1000}], "bad_tier"),
    ([{"max_m": 1000, "fee_fen": 300, "extra": 1}], "bad_tier"),
    ([{"max_m": 0, "fee_fen": 300}], "bad_distance"),
    ([{"max_m": 1000.5, "fee_fen": 300}], "bad_distance"),
    ([{"max_m": 60_000, "fee_fen": 300}], "bad_distance"),
    ([{"max_m": 1000, "fee_fen": -1}], "bad_fee"),
    ([{"max_m": 1000, "fee_fen": True}], "bad_fee"),
    ([{"max_m": 2000, "fee_fen": 300}, {"max_m": 1000, "fee_fen": 500}], "not_ascending"),
    ([{"max_m": 1000, "fee_fen": 300}, {"max_m": 1000, "fee_fen": 500}], "not_ascending"),
    ([{"max_m": 100 * (i + 1), "fee_fen": 100} for i in range(11)], "too_many_tiers"),
])
def test_bad_tiers_are_refused_with_a_reason(tiers, reason):
    with pytest.raises(FeeTierError) as caught:
        fee_tiers_validate(tiers)
    assert caught.value.reason == reason
