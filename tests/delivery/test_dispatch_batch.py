"""The batch dispatcher (pure): capacity, precedence, one rider per order, lateness
rather than nothing, the exact insertion search, and the margin over greedy nearest-rider."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from linli.delivery.dispatch import (
    HELD,
    INF,
    NO_RIDER_NEARBY,
    RIDERS_FULL,
    DispatchSettings,
    OpenOrder,
    RiderState,
    _Frame,
    _internal,
    _Rider,
    _walk,
    dispatch_batch,
    dispatch_greedy,
    route_etas,
)
from linli.delivery.simcity import CENTRE, City, offset, random_instance

SMALL_CITY = City(half_size_m=3000, clusters=6, stores=40)


def _check(orders: list[OpenOrder], riders: list[RiderState], result) -> None:
    by_id = {r.id: r for r in riders}
    assigned = [a.order_id for a in result.assignments]
    assert len(assigned) == len(set(assigned)), "an order assigned twice"
    assert set(assigned) | set(result.unassigned) == {o.id for o in orders}
    assert not set(assigned) & set(result.unassigned)
    for a in result.assignments:
        route = result.routes[a.rider_id]
        kinds = [s.kind for s in route if s.order_id == a.order_id]
        assert kinds == ["pickup", "dropoff"], "pickup must come before its drop-off"
        assert a.pickup_eta <= a.dropoff_eta
        assert a.order_id not in next(o for o in orders if o.id == a.order_id).excluded_riders or False
    for rider_id, route in result.routes.items():
        rider = by_id[rider_id]
        assert len({s.order_id for s in route}) <= rider.capacity, "over capacity"
        before = [s for s in route if s.order_id in rider.order_ids]
        assert before == list(rider.route), "the stops already planned keep their order"


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_orders=st.integers(0, 30), n_riders=st.integers(0, 15),
       capacity=st.integers(1, 4))
def test_batch_respects_capacity_precedence_and_assigns_each_order_once(seed, n_orders, n_riders, capacity):
    orders, riders = random_instance(orders=n_orders, riders=n_riders, seed=seed, city=SMALL_CITY,
                                     capacity=capacity)
    rng = random.Random(seed)
    # Some riders excluded for some orders (they rejected them).
    orders = [OpenOrder(**{**o.__dict__, "excluded_riders": frozenset(
        r.id for r in riders if rng.random() < 0.2)}) for o in orders]
    result = dispatch_batch(orders, riders, now=0)
    _check(orders, riders, result)
    for a in result.assignments:
        order = next(o for o in orders if o.id == a.order_id)
        assert a.rider_id not in order.excluded_riders
        assert result.etas[a.order_id] == a.dropoff_eta
    _check(orders, riders, dispatch_greedy(orders, riders, now=0))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), busy=st.integers(0, 3))
def test_fast_insertion_equals_walking_every_position(seed, busy):
    cfg = DispatchSettings(max_late_s=5 * 60)
    orders, riders = random_instance(orders=1 + busy, riders=1, seed=seed, city=SMALL_CITY,
                                     busy_share=0.0, capacity=6)
    rider = riders[0]
    # Give the rider `busy` orders (picked up or not) on their route, then insert one more.
    if busy:
        result = dispatch_greedy(orders[1:], riders, now=0, cfg=cfg)
        rider = RiderState(rider.id, rider.lat, rider.lng, result.routes[rider.id], 6, rider.speed_mps)
    frame = _Frame(CENTRE[0])
    index = {orders[0].id: 0}
    state = _Rider(rider, frame, index, 0.0, cfg)
    pair = _internal(orders[0], frame, 0, cfg)
    fast, brute = state.best_insertion(*pair), state.best_insertion_brute(*pair)
    assert (fast is None) == (brute is None)
    if fast is not None and brute is not None:
        assert abs(fast.cost - brute.cost) < 1e-6
        assert abs(fast.dropoff_eta - brute.dropoff_eta) < 1e-6 or abs(fast.cost - brute.cost) < 1e-6


def _full_routes(seed: int, cfg: DispatchSettings, capacity: int) -> tuple[list[OpenOrder], list[_Rider]]:
    """Riders whose routes a tick has filled (up to `capacity` orders, limits as tight as the
    settings make them), as the next tick sees them, and the orders still open."""
    orders, riders = random_instance(orders=60, riders=8, seed=seed, city=SMALL_CITY, capacity=capacity)
    filled = dispatch_batch(orders[:30], riders, now=0, cfg=cfg)
    frame = _Frame(CENTRE[0])
    index = {o.id: i for i, o in enumerate(orders)}
    states = [_Rider(RiderState(r.id, r.lat, r.lng, filled.routes[r.id], capacity, r.speed_mps), frame, index,
                     0.0, cfg) for r in riders]
    return orders[30:], states


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), late=st.sampled_from([0.0, 300.0]), capacity=st.integers(3, 6),
       defer=st.sampled_from([None, 120.0, 600.0]))
def test_fast_insertion_equals_walking_every_position_on_routes_a_tick_filled(seed, late, capacity, defer):
    # Long routes with tight limits: the latest arrival per stop rules out most positions;
    # with `defer_s` so do late plans whose pickup after other stops is too far ahead.
    cfg = DispatchSettings(max_late_s=late, hold_late=False, defer_s=defer)
    orders, states = _full_routes(seed, cfg, capacity)
    frame = _Frame(CENTRE[0])
    for oi, order in enumerate(orders, start=30):
        pair = _internal(order, frame, oi, cfg)
        for state in states:
            fast, brute = state.best_insertion(*pair), state.best_insertion_brute(*pair)
            assert (fast is None) == (brute is None)
            if fast is not None and brute is not None:
                assert abs(fast.cost - brute.cost) < 1e-6


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), late=st.sampled_from([0.0, 300.0]), capacity=st.integers(3, 6))
def test_latest_arrival_at_a_stop_is_where_the_rest_of_the_route_breaks(seed, late, capacity):
    cfg = DispatchSettings(max_late_s=late, hold_late=False)
    _orders, states = _full_routes(seed, cfg, capacity)
    for state in states:
        for m, stop in enumerate(state.stops):
            def keeps_limits(arrival: float, m: int = m, stop=stop, state=state) -> bool:
                # Walk the rest of the route from stop m, reached at `arrival`.
                return _walk(stop[0], stop[1], arrival, state.stops[m:], state.inv_speed, cfg)[2]
            latest = state._latest[m]
            if latest == INF:
                assert keeps_limits(1e9)
            else:
                assert keeps_limits(latest - 0.01) and not keeps_limits(latest + 0.01)


def test_an_excluded_rider_stays_excluded_when_orders_share_the_store():
    # Candidates are worked out once per store: the order that excludes the only rider with
    # room gets nobody, the orders before and after it at the same store get that rider.
    shared = dict(north_m=0, east_m=0, promise_in_s=3600)
    first, second, third = (_order(oid, **shared) for oid in ("first", "second", "third"))
    second = OpenOrder(**{**second.__dict__, "excluded_riders": frozenset({"near"})})
    full = _rider("full", north_m=0, east_m=300, capacity=1,
                  route=_order("x", north_m=0, east_m=350, promise_in_s=3600).stops())
    result = dispatch_batch([first, second, third], [_rider("near", north_m=0, east_m=100), full], now=0)
    assert {a.order_id: a.rider_id for a in result.assignments} == {"first": "near", "third": "near"}
    assert result.unassigned == {"second": RIDERS_FULL}


def _order(oid: str, *, north_m: float, east_m: float, promise_in_s: float, ready_in_s: float = 0) -> OpenOrder:
    plat, plng = offset(*CENTRE, north_m, east_m)
    dlat, dlng = offset(plat, plng, 500, 0)
    return OpenOrder(oid, plat, plng, dlat, dlng, ready_at=ready_in_s, promised_at=promise_in_s)


def _rider(rid: str, *, north_m: float, east_m: float, route=(), capacity: int = 3) -> RiderState:
    lat, lng = offset(*CENTRE, north_m, east_m)
    return RiderState(rid, lat, lng, tuple(route), capacity, 4.0)


def test_a_late_rider_is_preferred_to_leaving_the_order_once_nobody_can_be_on_time():
    # Even a rider at the store would need 60 s + 500 m at 4 m/s = 185 s: not held.
    order = _order("o1", north_m=0, east_m=0, promise_in_s=150)  # 3 km away at 4 m/s: late
    full = _rider("near", north_m=10, east_m=0, capacity=1,
                  route=_order("x", north_m=20, east_m=0, promise_in_s=900).stops())
    far = _rider("far", north_m=0, east_m=3000)
    result = dispatch_batch([order], [full, far], now=0)
    [assignment] = result.assignments
    assert assignment.rider_id == "far" and assignment.late_s > 0


def test_unassignable_orders_come_back_with_a_reason():
    cfg = DispatchSettings(radius_m=2000, hold_s=5 * 60)
    lonely = _order("lonely", north_m=20_000, east_m=0, promise_in_s=3600)  # 20 km from anyone
    crowded = _order("crowded", north_m=0, east_m=-1500, promise_in_s=3600)
    early = _order("early", north_m=0, east_m=1400, ready_in_s=1800, promise_in_s=3600)
    full = _rider("full", north_m=0, east_m=-1400, capacity=1,
                  route=_order("x", north_m=0, east_m=-1450, promise_in_s=3600).stops())
    result = dispatch_batch([lonely, crowded, early], [full, _rider("r", north_m=0, east_m=1500)],
                            now=0, cfg=cfg)
    assert result.unassigned == {"lonely": NO_RIDER_NEARBY, "crowded": RIDERS_FULL, "early": HELD}
    assert not result.assignments


def test_a_rider_takes_several_orders_in_one_tick_up_to_capacity():
    orders = [_order(f"o{i}", north_m=i * 30, east_m=0, promise_in_s=3600) for i in range(5)]
    result = dispatch_batch(orders, [_rider("only", north_m=0, east_m=100)], now=0)
    assert len(result.assignments) == 3 and len(result.unassigned) == 2
    assert len({s.order_id for s in result.routes["only"]}) == 3


def test_route_etas_follow_the_stops():
    stops = _order("a", north_m=0, east_m=400, promise_in_s=900).stops()
    etas = route_etas(_rider("r", north_m=0, east_m=0, route=stops), now=1000.0)
    # 400 m to the store + 60 s service + 500 m to the door, at 4 m/s.
    assert abs(etas["a"] - (1000 + 100 + 60 + 125)) < 2


def test_batch_beats_greedy_nearest_rider_on_added_time():
    batch_total = greedy_total = 0.0
    # One tick: holding and deferring pay off over ticks (the simulator).
    cfg = DispatchSettings(hold_late=False, defer_s=None)
    for seed in range(12):
        orders, riders = random_instance(orders=40, riders=30, seed=seed, city=SMALL_CITY, busy_share=0.5)
        batch = dispatch_batch(orders, riders, now=0, cfg=cfg)
        greedy = dispatch_greedy(orders, riders, now=0, cfg=cfg)
        assert len(batch.assignments) >= len(greedy.assignments) - 1, seed
        per_b = batch.total_added_s / max(1, len(batch.assignments))
        per_g = greedy.total_added_s / max(1, len(greedy.assignments))
        assert per_b < per_g, (seed, per_b, per_g)
        batch_total += batch.total_added_s
        greedy_total += greedy.total_added_s
    assert batch_total < 0.8 * greedy_total, (batch_total, greedy_total)
