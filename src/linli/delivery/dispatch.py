"""The batch dispatcher: one tick assigns open orders to riders. Pure Python (+ h3, numpy,
scipy), no Django, so the Celery task, the city simulator and the benchmark share it.

One tick:

1. **Candidates.** Riders are bucketed by H3 cell (`DispatchSettings.h3_res`); an order's
   candidates are the riders in the k-ring around its pickup that are within
   `radius_m` (straight line), not excluded for that order (they rejected it) and have
   spare capacity: the nearest `max_candidates`, plus the nearest `idle_candidates` riders
   with nothing to do (at a peak the nearest riders are all busy, and an idle rider 3 km
   away is often the one who keeps the promise), plus the `route_candidates` riders whose
   route passes within `route_m` of the store (a pickup or drop-off ahead of them there),
   wherever they are now: the rider already going to that mall is the one to bundle with.
2. **Cost.** For each candidate, the cheapest feasible insertion of the order's pickup and
   drop-off into the rider's route (every pickup position, every later drop-off
   position, pruned by a lower bound and by the latest arrival each stop of the route
   can take). A route costs, over its drop-offs: `time_weight` x
   the time from now (the delivery time), `margin_weight` x the seconds inside the last
   `margin_s` before the promise (room for the kitchen being late), `late_weight` x the
   seconds past the promise (+ `late_fixed_s` once); for the new order also
   `fresh_weight` x its time on board (drop-off minus leaving the store); plus
   `ride_weight` x the riding time. Waiting at a store costs nothing by itself: an idle
   rider who waits for the food loses nothing, so a rider who has to go somewhere else
   first is not preferred just because their route "absorbs" the wait. The insertion
   cost is the increase. **Infeasible**: over capacity (max concurrent orders), or an
   order already on the route pushed past its promise + `max_late_s` (0), or later than
   it already is when it is late anyway. The new order has no limit: a late order still
   goes to the least bad rider.
3. **Holding.** An order whose best rider would be late, while a rider free at the store
   now could still be on time, is held for a later tick (`hold_late`): one who frees up
   nearby soon may take it on time; once nobody could, it goes to the least bad rider.
   Optionally (`hold_s`) an order is also held while its best rider would reach the store
   more than `hold_s` before the food is ready. **Deferred commitment** (`defer_s`): a
   plan that delivers late and reaches the store only after other stops, more than
   `defer_s` after the food can first be picked up (now, or when it is ready), is not
   offered (unless the stop before the pickup is within `defer_near_m` of the store: a
   bundle). At a peak such an order is late whoever takes it, and committing it to a
   rider 20 min ahead takes a slot they could fill at the mall they are about to pass; an
   order left with no plan waits (`held`) for a rider near the store.
4. **Assignment.** One `scipy.optimize.linear_sum_assignment` over orders x riders; an
   infeasible pair costs `BIG` (more than all real costs together), so the matching first
   assigns as many orders as possible, then at the least total cost. A rider takes at most
   one order per round; riders that got one have their route (and costs) updated and the
   next round runs, until nothing changes or `max_rounds`.

Output: the assignments (with the insertion cost, ETAs and lateness), every rider's
ordered stops, the drop-off ETA of every order on a route, and each unassignable order
with a reason. `dispatch_greedy` is the baseline: orders by ready time, each to the
nearest rider with room, appended to the end of the route.

Distances are an equirectangular projection of lat/lng in metres (exact enough inside a
city: under 0.1 % at 20 km), travel time = distance / rider speed. Times are seconds on any
clock (the service passes Unix time).

The route optimiser in `routing/` is not reused here: it solves closed routes from one
depot over full distance matrices with hard windows, while live riders start where they
are, carry orders already picked up, and may be late at a price.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache

import h3
import numpy as np

from .dispatch_insertion import _S, _Frame, _Plan, _protect, _Rider, _walk
from .dispatch_model import (
    BIG,
    DROPOFF,
    EARTH_RADIUS_M,
    HELD,
    INF,
    NO_RIDER_NEARBY,
    OUTNUMBERED,
    PICKUP,
    RIDERS_FULL,
    VEHICLE_SPEED_MPS,
    Assignment,
    DispatchResult,
    DispatchSettings,
    OpenOrder,
    RiderState,
    Stop,
)

__all__ = [  # the model is re-exported: callers import everything from `dispatch`
    "BIG", "DROPOFF", "EARTH_RADIUS_M", "HELD", "INF", "NO_RIDER_NEARBY", "OUTNUMBERED", "PICKUP",
    "RIDERS_FULL", "VEHICLE_SPEED_MPS", "Assignment", "DispatchResult", "DispatchSettings", "OpenOrder",
    "RiderState", "Stop", "dispatch_batch", "dispatch_greedy", "route_cost", "route_etas",
]


@lru_cache(maxsize=65536)
def _disk(cell: str, k: int) -> tuple[str, ...]:
    """The cells within k rings (stores do not move: kept from tick to tick)."""
    return tuple(h3.grid_disk(cell, k))


def _edge_m(res: int) -> float:
    return float(h3.average_hexagon_edge_length(res, unit="m"))


class _RiderGrid:
    """Riders bucketed by H3 cell; `near(lat, lng)` = riders within the radius, nearest first."""

    def __init__(self, riders: Sequence[RiderState], cfg: DispatchSettings) -> None:
        self.cfg = cfg
        self.cells: dict[str, list[int]] = {}
        for r, rider in enumerate(riders):
            self.cells.setdefault(h3.latlng_to_cell(rider.lat, rider.lng, cfg.h3_res), []).append(r)
        # A point is within about one edge of its cell's centre, and cells k rings apart
        # have centres at least 1.5 x edge x k apart: k covers the radius with margin.
        edge = _edge_m(cfg.h3_res)
        self.k = max(1, math.ceil((cfg.radius_m + 2 * edge) / (1.5 * edge)))
        self._disks: dict[str, np.ndarray] = {}

    def candidates(self, lat: float, lng: float) -> np.ndarray:
        cell = h3.latlng_to_cell(lat, lng, self.cfg.h3_res)
        found = self._disks.get(cell)
        if found is None:
            found = np.array([r for c in _disk(cell, self.k) for r in self.cells.get(c, ())], dtype=np.intp)
            self._disks[cell] = found
        return found


class _StopGrid:
    """Riders by the stops still ahead of them (H3 cells of `route_res`): `near(...)` = the
    riders whose route passes within `route_m` of a point, by their nearest stop. A rider
    on the way to a store, or delivering next to it, is the natural one to bundle an order
    with ("on the way"), wherever they are now."""

    def __init__(self, riders: Sequence[RiderState], frame: _Frame, cfg: DispatchSettings) -> None:
        self.cfg, self.frame = cfg, frame
        self.cells: dict[str, list[tuple[int, float, float]]] = {}
        if not cfg.route_candidates:
            return
        for r, rider in enumerate(riders):
            for stop in rider.route:
                x, y = frame.xy(stop.lat, stop.lng)
                self.cells.setdefault(h3.latlng_to_cell(stop.lat, stop.lng, cfg.route_res), []).append((r, x, y))
        edge = _edge_m(cfg.route_res)
        self.k = max(1, math.ceil((cfg.route_m + 2 * edge) / (1.5 * edge)))

    def near(self, x: float, y: float, lat: float, lng: float, keep: int) -> list[int]:
        if not self.cells:
            return []
        best: dict[int, float] = {}
        for cell in _disk(h3.latlng_to_cell(lat, lng, self.cfg.route_res), self.k):
            for r, sx, sy in self.cells.get(cell, ()):
                d = math.hypot(sx - x, sy - y)
                if d <= self.cfg.route_m and d < best.get(r, INF):
                    best[r] = d
        return sorted(best, key=lambda r: (best[r], r))[:keep]


def _internal(order: OpenOrder, frame: _Frame, idx: int, cfg: DispatchSettings) -> tuple[_S, _S]:
    px, py = frame.xy(order.pickup_lat, order.pickup_lng)
    dx, dy = frame.xy(order.dropoff_lat, order.dropoff_lng)
    pickup, dropoff = order.stops()
    return ((px, py, order.ready_at, INF, INF, idx, True, pickup),
            (dx, dy, -INF, order.promised_at, INF, idx, False, dropoff))


class _Pool(dict[int, _Rider]):
    """The tick's riders, each built (projected, route costed) only when first needed:
    most riders of a big city are near no open order. The riders built so far are the
    dict's values (a dict: `pool[r]` of a built rider is a plain lookup, no Python call)."""

    def __init__(self, states: Sequence[RiderState], frame: _Frame, order_index: dict[str, int], now: float,
                 cfg: DispatchSettings) -> None:
        super().__init__()
        self.states, self.frame, self.order_index, self.now, self.cfg = states, frame, order_index, now, cfg

    def __missing__(self, r: int) -> _Rider:
        rider = self[r] = _Rider(self.states[r], self.frame, self.order_index, self.now, self.cfg)
        return rider


def _finish(pool: _Pool, now: float, cfg: DispatchSettings, assignments: list[Assignment],
            unassigned: dict[str, str], stats: dict[str, float]) -> DispatchResult:
    """Routes and ETAs as they stand after the last round (a later round may have pushed
    an earlier assignment's stops back). The other riders' ETAs only when asked for."""
    routes: dict[str, tuple[Stop, ...]] = {state.id: state.route for state in pool.states}
    etas: dict[str, float] = {}
    pickups: dict[str, float] = {}
    touched = [rider for rider in pool.values() if rider.touched]
    for rider in touched:
        routes[rider.id] = tuple(s[7] for s in rider.stops)
        _c, _ok, arrivals = rider.cost_of(rider.stops, now, cfg)
        for s, a in zip(rider.stops, arrivals, strict=True):
            (pickups if s[6] else etas)[s[7].order_id] = a
    final = [replace(a, pickup_eta=pickups[a.order_id], dropoff_eta=etas[a.order_id],
                     late_s=max(0.0, etas[a.order_id] - _promised(routes[a.rider_id], a.order_id)))
             for a in assignments]

    def all_etas() -> dict[str, float]:
        out = dict(etas)
        for r, state in enumerate(pool.states):
            rider = pool.get(r)
            if not state.route or (rider is not None and rider.touched):
                continue
            for stop, a in zip(state.route, _arrivals(state, pool.frame, now, cfg), strict=True):
                if stop.kind == DROPOFF:
                    out[stop.order_id] = a
        return out

    return DispatchResult(final, routes, unassigned, stats, all_etas)


def _arrivals(rider: RiderState, frame: _Frame, now: float, cfg: DispatchSettings) -> list[float]:
    """When the rider reaches each stop of their route."""
    stops = []
    for s in rider.route:
        x, y = frame.xy(s.lat, s.lng)
        stops.append((x, y, s.ready_at, s.promised_at, INF, 0, s.kind == PICKUP, s))
    rx, ry = frame.xy(rider.lat, rider.lng)
    return _walk(rx, ry, now, stops, 1.0 / rider.speed_mps, cfg)[3]


def _promised(route: Sequence[Stop], order_id: str) -> float:
    return next(s.promised_at for s in route if s.order_id == order_id and s.kind == DROPOFF)


def _nearest(ring: np.ndarray, inside: np.ndarray, dist: np.ndarray, keep: int) -> list[int]:
    """The riders `ring[inside]`, nearest first, at most `keep` of them."""
    if len(inside) > keep:
        inside = inside[np.argpartition(dist[inside], keep)[:keep]]
    return [int(r) for r in ring[inside[np.argsort(dist[inside], kind="stable")]]]


def _worth_waiting(best_plan: tuple[int, _Plan], pair: tuple[_S, _S], pool: _Pool, now: float,
                   cfg: DispatchSettings) -> bool:
    """The best plan (rider, plan) is late, but a rider free at the store now would still be
    on time: wait for a rider who frees up nearby rather than promise a late delivery."""
    r, best = best_plan
    pickup, dropoff = pair
    if best.dropoff_eta <= dropoff[3]:
        return False
    direct = math.hypot(dropoff[0] - pickup[0], dropoff[1] - pickup[1]) * pool[r].inv_speed
    return max(now, pickup[2]) + cfg.service_s + direct <= dropoff[3]


def _with_room(candidates: list[int], pool: _Pool, limit: int) -> list[int]:
    out = []
    for r in candidates:
        rider = pool[r]
        if rider.orders < rider.capacity:
            out.append(r)
            if len(out) == limit:
                break
    return out


def dispatch_batch(orders: Sequence[OpenOrder], riders: Sequence[RiderState], *, now: float,
                   cfg: DispatchSettings | None = None) -> DispatchResult:
    """One tick of the batch dispatcher (see the module docstring)."""
    from scipy.optimize import linear_sum_assignment  # heavy: only where a tick runs
    cfg = cfg or DispatchSettings()
    if not orders and not riders:
        return DispatchResult([], {}, {})
    lats = [o.pickup_lat for o in orders] or [r.lat for r in riders]
    frame = _Frame(sum(lats) / len(lats))
    order_index = {o.id: i for i, o in enumerate(orders)}
    pool = _Pool(riders, frame, order_index, now, cfg)
    ids = [o.id for o in orders]
    pairs = [_internal(o, frame, i, cfg) for i, o in enumerate(orders)]
    grid = _RiderGrid(riders, cfg)

    # Candidates once per tick: nearby, not excluded, nearest first (numpy over the ring);
    # worked out once per store (many orders share one) and then filtered per order.
    rx = np.array([r.lng for r in riders], dtype=float) * frame.kx
    ry = np.array([r.lat for r in riders], dtype=float) * frame.ky
    idle = np.array([not r.route for r in riders], dtype=bool)
    near: list[list[int]] = []
    near_idle: list[list[int]] = []
    near_route: list[list[int]] = []
    stops_grid = _StopGrid(riders, frame, cfg)
    why: dict[int, str] = {}
    at_store: dict[tuple[float, float], tuple[int, list[int], list[int], list[int]]] = {}
    # Orders with the same candidate lists (a store, nobody excluded) share a group: they
    # choose the same riders in a round.
    group: list[int] = []
    for oi, order in enumerate(orders):
        store = (order.pickup_lat, order.pickup_lng)
        hit = at_store.get(store)
        if hit is None:
            ring = grid.candidates(order.pickup_lat, order.pickup_lng)
            found: list[int] = []
            found_idle: list[int] = []
            if len(ring):
                dist = np.hypot(rx[ring] - pairs[oi][0][0], ry[ring] - pairs[oi][0][1])
                inside = np.flatnonzero(dist <= cfg.radius_m)
                found = _nearest(ring, inside, dist, cfg.max_candidates * cfg.candidate_depth)
                if cfg.idle_candidates:
                    found_idle = _nearest(ring, inside[idle[ring[inside]]], dist,
                                          cfg.idle_candidates * cfg.candidate_depth)
            found_route: list[int] = []
            if cfg.route_candidates:
                found_route = stops_grid.near(pairs[oi][0][0], pairs[oi][0][1], order.pickup_lat,
                                              order.pickup_lng, cfg.route_candidates * cfg.candidate_depth)
            hit = at_store[store] = (len(at_store), found, found_idle, found_route)
        g, found, found_idle, found_route = hit
        group.append(g)
        if order.excluded_riders:
            found = [r for r in found if riders[r].id not in order.excluded_riders]
            found_idle = [r for r in found_idle if riders[r].id not in order.excluded_riders]
            found_route = [r for r in found_route if riders[r].id not in order.excluded_riders]
            group[oi] = -1 - oi
        if cfg.route_candidates:
            found = found or found_route
        near.append(found)
        near_idle.append(found_idle)
        near_route.append(found_route)
        if not found:
            why[oi] = NO_RIDER_NEARBY

    rounds, hold = cfg.max_rounds, cfg.hold_s
    ready_of = [o.ready_at for o in orders]
    open_orders = [oi for oi in range(len(orders)) if near[oi]]
    # (order, rider) -> (the rider's version, the plan): key order x len(riders) + rider.
    cache: dict[int, tuple[int, _Plan | None]] = {}
    n_riders = len(riders)
    assignments: list[Assignment] = []
    stats = {"rounds": 0.0, "insertions": 0.0, "candidates": float(sum(len(n) for n in near))}
    insertions = 0
    for _round in range(rounds):
        # Rows are the orders that offer plans, in `open_orders` (ascending) order.
        row_ids: list[int] = []
        rows, cols, costs = [], [], []
        col_of: dict[int, int] = {}
        chosen_of: dict[int, list[tuple[int, _Rider]]] = {}  # by group: riders only change after the round
        for oi in open_orders:
            chosen = chosen_of.get(group[oi])
            if chosen is None:
                picked = _with_room(near[oi], pool, cfg.max_candidates)
                if cfg.idle_candidates and near_idle[oi]:
                    seen = set(picked)
                    picked += [r for r in near_idle[oi] if not pool[r].stops and r not in seen][:cfg.idle_candidates]
                if cfg.route_candidates and near_route[oi]:
                    seen = set(picked)
                    picked += _with_room([r for r in near_route[oi] if r not in seen], pool, cfg.route_candidates)
                chosen = chosen_of[group[oi]] = [(r, pool[r]) for r in picked]
            pickup, dropoff = pairs[oi]
            base = oi * n_riders
            plan_riders: list[int] = []
            plans: list[_Plan] = []
            best: tuple[int, _Plan] | None = None  # the first of the cheapest (as min() finds it)
            for r, rider in chosen:
                hit = cache.get(base + r)
                if hit is None or hit[0] != rider.version:
                    hit = cache[base + r] = (rider.version, rider.best_insertion(pickup, dropoff))
                    insertions += 1
                plan = hit[1]
                if plan is None:
                    continue
                plan_riders.append(r)
                plans.append(plan)
                if best is None or plan.cost < best[1].cost:
                    best = (r, plan)
            if not chosen:
                why[oi] = RIDERS_FULL
            elif best is None:  # every plan deferred (`defer_s`); else the end of a route has room
                why[oi] = HELD
            elif hold is not None and best[1].pickup_eta < ready_of[oi] - hold:
                why[oi] = HELD
            elif cfg.hold_late and _worth_waiting(best, pairs[oi], pool, now, cfg):
                why[oi] = HELD
            else:
                rows += [len(row_ids)] * len(plans)
                row_ids.append(oi)
                cols += [col_of.setdefault(r, len(col_of)) for r in plan_riders]
                costs += [plan.cost for plan in plans]
        if not rows:
            break
        matrix = np.full((len(row_ids), len(col_of)), BIG)
        matrix[rows, cols] = costs
        rr, cc = linear_sum_assignment(matrix)
        rider_of_col = list(col_of)  # columns were numbered in the order riders came
        stats["rounds"] += 1
        done = set()
        for a, b in zip(rr.tolist(), cc.tolist(), strict=True):
            if matrix[a, b] >= BIG:
                continue
            oi, r = row_ids[a], rider_of_col[b]
            plan = cache[oi * n_riders + r][1]
            assert plan is not None
            rider = pool[r]
            # From now on the order is on the route: protected like the others.
            pickup, dropoff = pairs[oi]
            rider.set_route(plan.stops(rider.stops, pickup, _protect(dropoff, plan.dropoff_eta, cfg)))
            rider.orders += 1
            rider.version += 1
            rider.touched = True
            assignments.append(Assignment(ids[oi], rider.id, plan.cost, plan.pickup_eta, plan.dropoff_eta,
                                          max(0.0, plan.dropoff_eta - orders[oi].promised_at)))
            done.add(oi)
            why.pop(oi, None)
        open_orders = [oi for oi in open_orders if oi not in done]
        for oi in open_orders:
            if oi not in why:
                why[oi] = OUTNUMBERED
        if not done:
            break
    unassigned = {ids[oi]: reason for oi, reason in sorted(why.items())}
    stats["insertions"] = float(insertions)
    stats["riders_built"] = float(len(pool))
    return _finish(pool, now, cfg, assignments, unassigned, stats)


def dispatch_greedy(orders: Sequence[OpenOrder], riders: Sequence[RiderState], *, now: float,
                    cfg: DispatchSettings | None = None) -> DispatchResult:
    """The baseline: orders by ready time, each to the nearest rider with room (within the
    radius, not excluded), its pickup and drop-off appended to the end of the route."""
    cfg = cfg or DispatchSettings()
    if not orders and not riders:
        return DispatchResult([], {}, {})
    lats = [o.pickup_lat for o in orders] or [r.lat for r in riders]
    frame = _Frame(sum(lats) / len(lats))
    order_index = {o.id: i for i, o in enumerate(orders)}
    pool = _Pool(riders, frame, order_index, now, cfg)
    rx = np.array([r.lng for r in riders], dtype=float) * frame.kx
    ry = np.array([r.lat for r in riders], dtype=float) * frame.ky
    room = np.array([len(r.order_ids) < r.capacity for r in riders], dtype=bool)
    index_of = {r.id: k for k, r in enumerate(riders)}
    assignments: list[Assignment] = []
    why: dict[int, str] = {}
    for oi in sorted(range(len(orders)), key=lambda i: (orders[i].ready_at, i)):
        pickup, dropoff = _internal(orders[oi], frame, oi, cfg)
        dist = np.where(room, np.hypot(rx - pickup[0], ry - pickup[1]), INF) if len(riders) else np.zeros(0)
        for rider_id in orders[oi].excluded_riders:
            if rider_id in index_of:
                dist[index_of[rider_id]] = INF
        r = int(np.argmin(dist)) if len(riders) else -1
        if r < 0 or dist[r] > cfg.radius_m:
            why[oi] = NO_RIDER_NEARBY
            continue
        best = pool[r]
        stops = [*best.stops, pickup, dropoff]
        cost, _ok, arrivals = best.cost_of(stops, now, cfg, fresh=oi)
        added = cost - best.base_cost
        best.set_route(stops)
        best.orders += 1
        best.touched = True
        room[r] = best.orders < best.capacity
        eta = arrivals[-1]
        assignments.append(Assignment(orders[oi].id, best.id, added, arrivals[-2], eta,
                                      max(0.0, eta - orders[oi].promised_at)))
    unassigned = {orders[oi].id: reason for oi, reason in sorted(why.items())}
    return _finish(pool, now, cfg, assignments, unassigned, {})


def route_cost(rider: RiderState, route: Iterable[Stop], *, now: float,
               cfg: DispatchSettings | None = None) -> float:
    """A route's cost for `rider` (time to finish + weighted lateness), for comparisons."""
    cfg = cfg or DispatchSettings()
    frame = _Frame(rider.lat)
    index: dict[str, int] = {}
    stops = []
    for s in route:
        x, y = frame.xy(s.lat, s.lng)
        stops.append((x, y, s.ready_at, s.promised_at, INF, index.setdefault(s.order_id, len(index)),
                      s.kind == PICKUP, s))
    rx, ry = frame.xy(rider.lat, rider.lng)
    _end, acc, _ok, _a, ride = _walk(rx, ry, now, stops, 1.0 / rider.speed_mps, cfg)
    return acc + cfg.ride_weight * ride


def route_etas(rider: RiderState, *, now: float, cfg: DispatchSettings | None = None) -> dict[str, float]:
    """When the rider reaches each drop-off on their current route (order id -> time)."""
    arrivals = _arrivals(rider, _Frame(rider.lat), now, cfg or DispatchSettings())
    return {s.order_id: a for s, a in zip(rider.route, arrivals, strict=True) if s.kind == DROPOFF}
