"""The batch dispatcher: one tick assigns open orders to riders. Pure Python (+ h3, numpy,
scipy), no Django, so the Celery task, the city simulator and the benchmark share it.

One tick:

1. **Candidates.** Riders are bucketed by H3 cell (`DispatchSettings.h3_res`); an order's
   candidates are the riders in the k-ring around its pickup that are within
   `radius_m` (straight line), not excluded for that order (they rejected it) and have
   spare capacity, nearest first, at most `max_candidates`.
2. **Cost.** For each candidate, the cheapest feasible insertion of the order's pickup and
   drop-off into the rider's current route (every pickup position, every later drop-off
   position: routes are a few stops long). A route's cost is the time until its last stop
   is done, plus `late_weight` x the seconds by which drop-offs miss their promised time,
   plus `ride_weight` x the riding time (so of two riders who would wait for the food
   anyway, the nearer one goes);
   the insertion cost is the increase. An insertion is *infeasible* when it puts the
   rider over capacity (max concurrent orders) or makes any drop-off later than
   `max_late_s` past its promise (an order already later than that may not get later).
   Lateness within `max_late_s` is allowed but paid for: a late-feasible rider beats none.
3. **Assignment.** One `scipy.optimize.linear_sum_assignment` over orders x riders; an
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
from dataclasses import dataclass, field, replace

import h3
import numpy as np

PICKUP, DROPOFF = "pickup", "dropoff"
INF = math.inf
BIG = 1e12
EARTH_RADIUS_M = 6_371_008.8
_RAD = math.pi / 180

# Effective speeds over the straight-line distance (street detours priced in), m/s.
VEHICLE_SPEED_MPS = {"bike": 3.5, "ebike": 4.2, "scooter": 5.0, "car": 5.5}

# Why an order was left for the next tick.
NO_RIDER_NEARBY = "no_rider_nearby"      # no rider within the radius (or all excluded)
RIDERS_FULL = "riders_full"              # riders nearby, all at capacity
TOO_LATE = "too_late"                    # every nearby rider would be too late
OUTNUMBERED = "outnumbered"              # feasible riders went to other orders this tick


@dataclass(frozen=True)
class Stop:
    order_id: str
    kind: str            # PICKUP or DROPOFF
    lat: float
    lng: float
    ready_at: float = -INF   # pickup: the food is ready then (arriving earlier means waiting)
    promised_at: float = INF  # drop-off: the time promised to the consumer


@dataclass(frozen=True)
class OpenOrder:
    id: str
    pickup_lat: float
    pickup_lng: float
    dropoff_lat: float
    dropoff_lng: float
    ready_at: float
    promised_at: float
    excluded_riders: frozenset[str] = frozenset()

    def stops(self) -> tuple[Stop, Stop]:
        return (Stop(self.id, PICKUP, self.pickup_lat, self.pickup_lng, ready_at=self.ready_at),
                Stop(self.id, DROPOFF, self.dropoff_lat, self.dropoff_lng, promised_at=self.promised_at))


@dataclass(frozen=True)
class RiderState:
    """A rider where they are now, with the stops still ahead of them. A drop-off without
    its pickup on the route is an order already on board."""

    id: str
    lat: float
    lng: float
    route: tuple[Stop, ...] = ()
    capacity: int = 3            # max concurrent orders
    speed_mps: float = VEHICLE_SPEED_MPS["ebike"]

    @property
    def order_ids(self) -> set[str]:
        return {s.order_id for s in self.route}


@dataclass(frozen=True)
class DispatchSettings:
    radius_m: float = 4000.0
    max_candidates: int = 8
    late_weight: float = 3.0
    ride_weight: float = 0.2      # riding costs effort even when the finish time is the same
    max_late_s: float = 20 * 60
    service_s: float = 60.0       # at every stop: park, hand over
    h3_res: int = 8
    max_rounds: int = 12
    candidate_depth: int = 4      # keep the nearest max_candidates x this riders per order


@dataclass(frozen=True)
class Assignment:
    order_id: str
    rider_id: str
    added_s: float        # increase of the route's cost (time + weighted lateness)
    pickup_eta: float
    dropoff_eta: float
    late_s: float         # by how much the drop-off misses the promise (0: on time)


@dataclass
class DispatchResult:
    assignments: list[Assignment]
    routes: dict[str, tuple[Stop, ...]]     # every rider's ordered stops after the tick
    etas: dict[str, float]                  # drop-off ETA of every order on a route
    unassigned: dict[str, str]              # order id -> reason
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def total_added_s(self) -> float:
        return sum(a.added_s for a in self.assignments)


# --- geometry and route evaluation ------------------------------------------------------

class _Frame:
    """Local planar metres around a reference latitude."""

    def __init__(self, lat0: float) -> None:
        self.kx = EARTH_RADIUS_M * _RAD * math.cos(lat0 * _RAD)
        self.ky = EARTH_RADIUS_M * _RAD

    def xy(self, lat: float, lng: float) -> tuple[float, float]:
        return lng * self.kx, lat * self.ky


# Internal stop: (x, y, ready_at, promised_at, limit, order index, is_pickup, the Stop)
_S = tuple[float, float, float, float, float, int, bool, Stop]


@dataclass
class _Plan:
    cost: float
    stops: list[_S]
    pickup_eta: float
    dropoff_eta: float
    late_s: float


def _walk(x: float, y: float, t: float, stops: Sequence[_S], inv_speed: float, service: float
          ) -> tuple[float, float, bool, list[float], float]:
    """Ride the stops from (x, y) at time t: (end time, total lateness, feasible, arrivals,
    riding time)."""
    late = 0.0
    ok = True
    arrivals = []
    ride = 0.0
    for sx, sy, ready, promised, limit, _o, _p, _s in stops:
        leg = math.hypot(sx - x, sy - y) * inv_speed
        ride += leg
        t += leg
        arrivals.append(t)
        if t < ready:
            t = ready
        elif t > promised:
            late += t - promised
            if t > limit:
                ok = False
        t += service
        x, y = sx, sy
    return t, late, ok, arrivals, ride


class _Rider:
    __slots__ = ("id", "x", "y", "capacity", "inv_speed", "stops", "orders", "base_cost", "version",
                 "touched", "now", "cfg", "_bx", "_by", "_bt", "_blate", "_end",
                 "_ride")

    def __init__(self, state: RiderState, frame: _Frame, order_index: dict[str, int], now: float,
                 cfg: DispatchSettings) -> None:
        self.id = state.id
        self.x, self.y = frame.xy(state.lat, state.lng)
        self.capacity = state.capacity
        self.inv_speed = 1.0 / state.speed_mps
        self.orders = len(state.order_ids)
        self.now, self.cfg = now, cfg
        raw = []
        for s in state.route:
            sx, sy = frame.xy(s.lat, s.lng)
            idx = order_index.setdefault(s.order_id, len(order_index))
            raw.append((sx, sy, s.ready_at, s.promised_at, INF, idx, s.kind == PICKUP, s))
        # An order on the route may be made later, but not past its allowance (or past
        # where it already is, when it is later than that).
        arrivals = _walk(self.x, self.y, now, raw, self.inv_speed, cfg.service_s)[3]
        self.version = 0      # bumped when the route changes: cached insertions expire
        self.touched = False  # route changed in this tick
        self.set_route([
            (sx, sy, r, p, INF if pk else max(p + cfg.max_late_s, a), o, pk, stop)
            for (sx, sy, r, p, _l, o, pk, stop), a in zip(raw, arrivals, strict=True)
        ])

    def set_route(self, stops: list[_S]) -> None:
        """Take a new route and recompute, per position, where the rider is, when they
        leave it, and the lateness so far (the base of every insertion)."""
        self.stops = stops
        x, y, t, late, ride = self.x, self.y, self.now, 0.0, 0.0
        bx, by, bt, blate = [x], [y], [t], [0.0]
        service, inv = self.cfg.service_s, self.inv_speed
        for sx, sy, ready, promised, _limit, _o, _p, _s in stops:
            leg = math.hypot(sx - x, sy - y) * inv
            ride += leg
            t += leg
            if t < ready:
                t = ready
            elif t > promised:
                late += t - promised
            t += service
            x, y = sx, sy
            bx.append(x)
            by.append(y)
            bt.append(t)
            blate.append(late)
        self._bx, self._by, self._bt, self._blate = bx, by, bt, blate
        self._end = t
        self._ride = ride
        self.base_cost = (t - self.now) + self.cfg.late_weight * late + self.cfg.ride_weight * ride

    def cost_of(self, stops: Sequence[_S], now: float, cfg: DispatchSettings) -> tuple[float, bool, list[float]]:
        end, late, ok, arrivals, ride = _walk(self.x, self.y, now, stops, self.inv_speed, cfg.service_s)
        return (end - now) + cfg.late_weight * late + cfg.ride_weight * ride, ok, arrivals

    def best_insertion(self, pickup: _S, dropoff: _S) -> _Plan | None:
        """The cheapest feasible positions for the pair (pickup before drop-off).

        Every pickup position i is tried; from there the rider's state is carried forward
        stop by stop, and at each later position j the drop-off plus the rest of the route
        is walked until the delay is absorbed by waiting (then the rest is as before)."""
        if self.orders >= self.capacity:
            return None
        route, bx, by, bt, blate = self.stops, self._bx, self._by, self._bt, self._blate
        k = len(route)
        inv, service, now = self.inv_speed, self.cfg.service_s, self.now
        late_total, end0, w = blate[k], self._end, self.cfg.late_weight
        rw, ride0 = self.cfg.ride_weight, self._ride
        px, py, p_ready = pickup[0], pickup[1], pickup[2]
        dx, dy, d_promised, d_limit = dropoff[0], dropoff[1], dropoff[3], dropoff[4]
        best_cost, best_i, best_j, best_p, best_d = INF, -1, -1, 0.0, 0.0
        for i in range(k + 1):
            to_p = math.hypot(px - bx[i], py - by[i])
            p_arrive = bt[i] + to_p * inv
            # Extra riding (metres) when the pickup goes between position i and i + 1.
            p_detour = (to_p + math.hypot(bx[i + 1] - px, by[i + 1] - py)
                        - math.hypot(bx[i + 1] - bx[i], by[i + 1] - by[i])) if i < k else to_p
            t = (p_arrive if p_arrive > p_ready else p_ready) + service
            x, y, late = px, py, blate[i]
            for j in range(i, k + 1):
                # The drop-off right here, then the rest of the route.
                d_arrive = t + math.hypot(dx - x, dy - y) * inv
                if d_arrive > d_limit:
                    break  # later j only arrive later
                tl = late + (d_arrive - d_promised if d_arrive > d_promised else 0.0)
                tt, tx, ty, ok = d_arrive + service, dx, dy, True
                end = -1.0
                for m in range(j, k):
                    sx, sy, ready, promised, limit, _o, _p, _s = route[m]
                    tt += math.hypot(sx - tx, sy - ty) * inv
                    if tt < ready:
                        tt = ready
                    elif tt > promised:
                        if tt > limit:
                            ok = False
                            break
                        tl += tt - promised
                    tt += service
                    tx, ty = sx, sy
                    if tt <= bt[m + 1] + 1e-9:  # delay absorbed: the rest is unchanged
                        tl += late_total - blate[m + 1]
                        end = end0
                        break
                if ok:
                    if end < 0:
                        end = tt
                    if j == i:
                        detour = to_p + math.hypot(dx - px, dy - py) + (
                            math.hypot(bx[i + 1] - dx, by[i + 1] - dy)
                            - math.hypot(bx[i + 1] - bx[i], by[i + 1] - by[i]) if i < k else 0.0)
                    else:
                        detour = p_detour + math.hypot(dx - bx[j], dy - by[j]) + (
                            math.hypot(bx[j + 1] - dx, by[j + 1] - dy)
                            - math.hypot(bx[j + 1] - bx[j], by[j + 1] - by[j]) if j < k else 0.0)
                    cost = (end - now) + w * tl + rw * (ride0 + detour * inv)
                    if cost < best_cost - 1e-9:
                        best_cost, best_i, best_j, best_p, best_d = cost, i, j, p_arrive, d_arrive
                if j == k:
                    break
                # Carry the rider over route stop j (before a later drop-off).
                sx, sy, ready, promised, limit, _o, _p, _s = route[j]
                t += math.hypot(sx - x, sy - y) * inv
                if t < ready:
                    t = ready
                elif t > promised:
                    if t > limit:
                        break  # this stop is too late whatever comes after
                    late += t - promised
                t += service
                x, y = sx, sy
        if best_i < 0:
            return None
        stops = [*route[:best_i], pickup, *route[best_i:best_j], dropoff, *route[best_j:]]
        return _Plan(best_cost - self.base_cost, stops, best_p, best_d, max(0.0, best_d - d_promised))

    def best_insertion_brute(self, pickup: _S, dropoff: _S) -> _Plan | None:
        """Every (i, j) walked in full: the reference the tests check `best_insertion` with."""
        if self.orders >= self.capacity:
            return None
        best: _Plan | None = None
        route = self.stops
        for i in range(len(route) + 1):
            for j in range(i, len(route) + 1):
                stops = [*route[:i], pickup, *route[i:j], dropoff, *route[j:]]
                cost, ok, arrivals = self.cost_of(stops, self.now, self.cfg)
                if ok and (best is None or cost - self.base_cost < best.cost - 1e-9):
                    eta = arrivals[j + 1]
                    best = _Plan(cost - self.base_cost, stops, arrivals[i], eta, max(0.0, eta - dropoff[3]))
        return best


# --- the tick -------------------------------------------------------------------------

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
            found = np.array([r for c in h3.grid_disk(cell, self.k) for r in self.cells.get(c, ())],
                             dtype=np.intp)
            self._disks[cell] = found
        return found


def _internal(order: OpenOrder, frame: _Frame, idx: int, cfg: DispatchSettings) -> tuple[_S, _S]:
    px, py = frame.xy(order.pickup_lat, order.pickup_lng)
    dx, dy = frame.xy(order.dropoff_lat, order.dropoff_lng)
    pickup, dropoff = order.stops()
    return ((px, py, order.ready_at, INF, INF, idx, True, pickup),
            (dx, dy, -INF, order.promised_at, order.promised_at + cfg.max_late_s, idx, False, dropoff))


def _finish(riders: list[_Rider], states: Sequence[RiderState], ids: list[str], now: float,
            cfg: DispatchSettings, assignments: list[Assignment], unassigned: dict[str, str],
            stats: dict[str, float]) -> DispatchResult:
    """Routes and ETAs as they stand after the last round (a later round may have pushed
    an earlier assignment's stops back)."""
    routes: dict[str, tuple[Stop, ...]] = {}
    etas: dict[str, float] = {}
    pickups: dict[str, float] = {}
    for rider, state in zip(riders, states, strict=True):
        routes[rider.id] = tuple(s[7] for s in rider.stops) if rider.touched else state.route
        _c, _ok, arrivals = rider.cost_of(rider.stops, now, cfg)
        for s, a in zip(rider.stops, arrivals, strict=True):
            (pickups if s[6] else etas)[ids[s[5]]] = a
    final = [replace(a, pickup_eta=pickups[a.order_id], dropoff_eta=etas[a.order_id],
                     late_s=max(0.0, etas[a.order_id] - _promised(routes[a.rider_id], a.order_id)))
             for a in assignments]
    return DispatchResult(final, routes, etas, unassigned, stats)


def _promised(route: Sequence[Stop], order_id: str) -> float:
    return next(s.promised_at for s in route if s.order_id == order_id and s.kind == DROPOFF)


def dispatch_batch(orders: Sequence[OpenOrder], riders: Sequence[RiderState], *, now: float,
                   cfg: DispatchSettings | None = None) -> DispatchResult:
    """One tick of the batch dispatcher (see the module docstring)."""
    from scipy.optimize import linear_sum_assignment  # heavy: only where a tick runs
    cfg = cfg or DispatchSettings()
    if not orders and not riders:
        return DispatchResult([], {}, {}, {})
    lats = [o.pickup_lat for o in orders] or [r.lat for r in riders]
    frame = _Frame(sum(lats) / len(lats))
    order_index = {o.id: i for i, o in enumerate(orders)}
    pool = [_Rider(r, frame, order_index, now, cfg) for r in riders]
    ids = [""] * len(order_index)
    for oid, i in order_index.items():
        ids[i] = oid
    pairs = [_internal(o, frame, i, cfg) for i, o in enumerate(orders)]
    grid = _RiderGrid(riders, cfg)

    # Candidates once per tick: nearby, not excluded, nearest first (numpy over the ring).
    rx = np.array([r.x for r in pool])
    ry = np.array([r.y for r in pool])
    keep = cfg.max_candidates * cfg.candidate_depth
    near: list[list[int]] = []
    why: dict[int, str] = {}
    for oi, order in enumerate(orders):
        ring = grid.candidates(order.pickup_lat, order.pickup_lng)
        found: list[int] = []
        if len(ring):
            dist = np.hypot(rx[ring] - pairs[oi][0][0], ry[ring] - pairs[oi][0][1])
            inside = np.flatnonzero(dist <= cfg.radius_m)
            if len(inside) > keep:
                inside = inside[np.argpartition(dist[inside], keep)[:keep]]
            found = ring[inside[np.argsort(dist[inside], kind="stable")]].tolist()
            if order.excluded_riders:
                found = [r for r in found if pool[r].id not in order.excluded_riders]
        near.append(found)
        if not found:
            why[oi] = NO_RIDER_NEARBY

    rounds = cfg.max_rounds
    open_orders = [oi for oi in range(len(orders)) if near[oi]]
    cache: dict[tuple[int, int], tuple[int, _Plan | None]] = {}
    assignments: list[Assignment] = []
    stats = {"rounds": 0.0, "insertions": 0.0, "candidates": float(sum(len(n) for n in near))}
    for _round in range(rounds):
        rows, cols, costs = [], [], []
        col_of: dict[int, int] = {}
        for oi in open_orders:
            taken = 0
            for r in near[oi]:
                rider = pool[r]
                if rider.orders >= rider.capacity:
                    continue
                taken += 1
                if taken > cfg.max_candidates:
                    break
                key = (oi, r)
                hit = cache.get(key)
                if hit is None or hit[0] != rider.version:
                    hit = cache[key] = (rider.version, rider.best_insertion(*pairs[oi]))
                    stats["insertions"] += 1
                plan = hit[1]
                if plan is None:
                    continue
                rows.append(oi)
                cols.append(col_of.setdefault(r, len(col_of)))
                costs.append(plan.cost)
            if taken == 0:
                why[oi] = RIDERS_FULL
            elif not any(row == oi for row in rows[-taken:]):
                why[oi] = TOO_LATE
        if not rows:
            break
        row_ids = sorted(set(rows))
        row_of = {oi: k for k, oi in enumerate(row_ids)}
        matrix = np.full((len(row_ids), len(col_of)), BIG)
        matrix[[row_of[o] for o in rows], cols] = costs
        rr, cc = linear_sum_assignment(matrix)
        rider_of_col = {c: r for r, c in col_of.items()}
        stats["rounds"] += 1
        done = set()
        for a, b in zip(rr, cc, strict=True):
            if matrix[a, b] >= BIG:
                continue
            oi, r = row_ids[a], rider_of_col[int(b)]
            plan = cache[(oi, r)][1]
            assert plan is not None
            rider = pool[r]
            rider.set_route(plan.stops)
            rider.orders += 1
            rider.version += 1
            rider.touched = True
            assignments.append(Assignment(ids[oi], rider.id, plan.cost, plan.pickup_eta,
                                          plan.dropoff_eta, plan.late_s))
            done.add(oi)
            why.pop(oi, None)
        open_orders = [oi for oi in open_orders if oi not in done]
        for oi in open_orders:
            if oi not in why:
                why[oi] = OUTNUMBERED
        if not done:
            break
    unassigned = {ids[oi]: reason for oi, reason in sorted(why.items())}
    return _finish(pool, riders, ids, now, cfg, assignments, unassigned, stats)


def dispatch_greedy(orders: Sequence[OpenOrder], riders: Sequence[RiderState], *, now: float,
                    cfg: DispatchSettings | None = None) -> DispatchResult:
    """The baseline: orders by ready time, each to the nearest rider with room (within the
    radius, not excluded), its pickup and drop-off appended to the end of the route."""
    cfg = cfg or DispatchSettings()
    if not orders and not riders:
        return DispatchResult([], {}, {}, {})
    lats = [o.pickup_lat for o in orders] or [r.lat for r in riders]
    frame = _Frame(sum(lats) / len(lats))
    order_index = {o.id: i for i, o in enumerate(orders)}
    pool = [_Rider(r, frame, order_index, now, cfg) for r in riders]
    ids = [""] * len(order_index)
    for oid, i in order_index.items():
        ids[i] = oid
    assignments: list[Assignment] = []
    why: dict[int, str] = {}
    for oi in sorted(range(len(orders)), key=lambda i: (orders[i].ready_at, i)):
        pickup, dropoff = _internal(orders[oi], frame, oi, cfg)
        best, best_d = None, INF
        for rider in pool:
            d = math.hypot(rider.x - pickup[0], rider.y - pickup[1])
            if (d <= cfg.radius_m and d < best_d and rider.orders < rider.capacity
                    and rider.id not in orders[oi].excluded_riders):
                best, best_d = rider, d
        if best is None:
            why[oi] = NO_RIDER_NEARBY
            continue
        stops = [*best.stops, pickup, dropoff]
        cost, _ok, arrivals = best.cost_of(stops, now, cfg)
        added = cost - best.base_cost
        best.set_route(stops)
        best.orders += 1
        best.touched = True
        eta = arrivals[-1]
        assignments.append(Assignment(ids[oi], best.id, added, arrivals[-2], eta,
                                      max(0.0, eta - orders[oi].promised_at)))
    unassigned = {ids[oi]: reason for oi, reason in sorted(why.items())}
    return _finish(pool, riders, ids, now, cfg, assignments, unassigned, {})


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
    end, late, _ok, _a, ride = _walk(rx, ry, now, stops, 1.0 / rider.speed_mps, cfg.service_s)
    return (end - now) + cfg.late_weight * late + cfg.ride_weight * ride


def route_etas(rider: RiderState, *, now: float, cfg: DispatchSettings | None = None) -> dict[str, float]:
    """When the rider reaches each drop-off on their current route (order id -> time)."""
    cfg = cfg or DispatchSettings()
    frame = _Frame(rider.lat)
    rx, ry = frame.xy(rider.lat, rider.lng)
    stops = []
    for s in rider.route:
        x, y = frame.xy(s.lat, s.lng)
        stops.append((x, y, s.ready_at, s.promised_at, INF, 0, s.kind == PICKUP, s))
    arrivals = _walk(rx, ry, now, stops, 1.0 / rider.speed_mps, cfg.service_s)[3]
    return {s.order_id: a for s, a in zip(rider.route, arrivals, strict=True) if s.kind == DROPOFF}
