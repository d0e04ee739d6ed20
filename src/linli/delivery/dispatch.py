"""The batch dispatcher: one tick assigns open orders to riders. Pure Python (+ h3, numpy,
scipy), no Django, so the Celery task, the city simulator and the benchmark share it.

One tick:

1. **Candidates.** Riders are bucketed by H3 cell (`DispatchSettings.h3_res`); an order's
   candidates are the riders in the k-ring around its pickup that are within
   `radius_m` (straight line), not excluded for that order (they rejected it) and have
   spare capacity: the nearest `max_candidates`, plus the nearest `idle_candidates` riders
   with nothing to do (at a peak the nearest riders are all busy, and an idle rider 3 km
   away is often the one who keeps the promise).
2. **Cost.** For each candidate, the cheapest feasible insertion of the order's pickup and
   drop-off into the rider's route (every pickup position, every later drop-off
   position, pruned by a lower bound). A route costs, over its drop-offs: `time_weight` x
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
   more than `hold_s` before the food is ready.
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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

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
OUTNUMBERED = "outnumbered"              # feasible riders went to other orders this tick
HELD = "held"                            # worth waiting for a better rider: decided on a later tick


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
    # The route cost (see the module docstring); weights per second.
    time_weight: float = 1.0      # each drop-off's time from now: the orders' delivery time
    fresh_weight: float = 0.5     # food on board: drop-off minus leaving the store
    margin_s: float = 5 * 60      # plan drop-offs this long before the promise (prep noise)...
    margin_weight: float = 2.0    # ... at this price per second inside the margin
    late_weight: float = 10.0     # per second past the promise (on top of the margin price)
    late_fixed_s: float = 0.0     # once per drop-off past its promise (a late order is late)
    ride_weight: float = 0.5      # the rider's riding time (their work; waiting is not charged)
    # An insertion may not push an order already on the route later than its promise + this
    # (or later than it already is, when it is later than that). The new order itself has
    # no such limit: a late order still goes to the least bad rider.
    max_late_s: float = 0.0
    service_s: float = 60.0       # at every stop: park, hand over
    h3_res: int = 8
    max_rounds: int = 3           # a rider takes at most one order per round
    # Hold an order for a later tick while every candidate would reach the store more than
    # this long before the food is ready (None: assign at once).
    hold_s: float | None = None
    # Hold an order whose best rider would be late while a rider free at the store now
    # could still be on time (one who frees up nearby soon may take it on time).
    hold_late: bool = True
    candidate_depth: int = 4      # keep the nearest max_candidates x this riders per order
    idle_candidates: int = 4      # also the nearest riders with nothing to do (within the radius)


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
    unassigned: dict[str, str]              # order id -> reason
    stats: dict[str, float] = field(default_factory=dict)
    eta_source: Callable[[], dict[str, float]] = field(default=dict, repr=False, compare=False)
    _etas: dict[str, float] | None = field(default=None, repr=False, compare=False)

    @property
    def etas(self) -> dict[str, float]:
        """The drop-off ETA of every order on a route (worked out when first asked for)."""
        if self._etas is None:
            self._etas = self.eta_source()
        return self._etas

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
    """The pickup goes before route position `i`, the drop-off before position `j` (of the
    route as it was)."""
    cost: float
    i: int
    j: int
    pickup_eta: float
    dropoff_eta: float

    def stops(self, route: Sequence[_S], pickup: _S, dropoff: _S) -> list[_S]:
        i, j = self.i, self.j
        return [*route[:i], pickup, *route[i:j], dropoff, *route[j:]]


def _protect(stop: _S, arrival: float, cfg: DispatchSettings) -> _S:
    """The stop with its limit: a drop-off already on a route may not be pushed past its
    promise + `max_late_s`, nor later than `arrival` when that is already later."""
    if stop[6]:
        return stop
    x, y, ready, promised, _limit, o, is_pickup, original = stop
    return (x, y, ready, promised, max(promised + cfg.max_late_s, arrival), o, is_pickup, original)


def _drop_cost(t: float, promised: float, now: float, cfg: DispatchSettings) -> float:
    """What arriving at a drop-off at `t` costs (delivery time, freshness, margin, lateness)."""
    cost = (cfg.time_weight + cfg.fresh_weight) * (t - now)
    if t > promised - cfg.margin_s:
        cost += cfg.margin_weight * (t - promised + cfg.margin_s)
        if t > promised:
            cost += cfg.late_weight * (t - promised) + cfg.late_fixed_s
    return cost


def _walk(x: float, y: float, t: float, stops: Sequence[_S], inv_speed: float, cfg: DispatchSettings,
          fresh: int = -1) -> tuple[float, float, bool, list[float], float]:
    """Ride the stops from (x, y) at time t: (end time, cost of the stops, feasible,
    arrivals, riding time). A route costs that + `ride_weight` x the riding time. The
    pickup of order index `fresh` (the one being inserted) counts for freshness; the
    others already have their place in the plan (their drop-off pays for any delay)."""
    now, service, fw = t, cfg.service_s, cfg.fresh_weight
    acc = 0.0
    ok = True
    arrivals = []
    ride = 0.0
    for sx, sy, ready, promised, limit, o, is_pickup, _s in stops:
        leg = math.hypot(sx - x, sy - y) * inv_speed
        ride += leg
        t += leg
        arrivals.append(t)
        if is_pickup:
            if t < ready:
                t = ready
            if o == fresh:
                acc -= fw * (t + service - now)
        else:
            if t > limit:
                ok = False
            acc += _drop_cost(t, promised, now, cfg)
        t += service
        x, y = sx, sy
    return t, acc, ok, arrivals, ride


class _Rider:
    __slots__ = ("id", "x", "y", "capacity", "inv_speed", "stops", "orders", "base_cost", "version",
                 "touched", "now", "cfg", "_bx", "_by", "_bt", "_bacc", "_end",
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
        arrivals = _walk(self.x, self.y, now, raw, self.inv_speed, cfg)[3]
        self.version = 0      # bumped when the route changes: cached insertions expire
        self.touched = False  # route changed in this tick
        self.set_route([_protect(stop, a, cfg) for stop, a in zip(raw, arrivals, strict=True)])

    def set_route(self, stops: list[_S]) -> None:
        """Take a new route and recompute, per position, where the rider is, when they
        leave it, and the cost of the stops so far (the base of every insertion)."""
        self.stops = stops
        cfg, now = self.cfg, self.now
        x, y, t, acc, ride = self.x, self.y, now, 0.0, 0.0
        bx, by, bt, bacc = [x], [y], [t], [0.0]
        service, inv = cfg.service_s, self.inv_speed
        for sx, sy, ready, promised, _limit, _o, is_pickup, _s in stops:
            leg = math.hypot(sx - x, sy - y) * inv
            ride += leg
            t += leg
            if is_pickup:
                if t < ready:
                    t = ready
            else:
                acc += _drop_cost(t, promised, now, cfg)
            t += service
            x, y = sx, sy
            bx.append(x)
            by.append(y)
            bt.append(t)
            bacc.append(acc)
        self._bx, self._by, self._bt, self._bacc = bx, by, bt, bacc
        self._end = t
        self._ride = ride
        self.base_cost = acc + cfg.ride_weight * ride

    def cost_of(self, stops: Sequence[_S], now: float, cfg: DispatchSettings, fresh: int = -1
                ) -> tuple[float, bool, list[float]]:
        _end, acc, ok, arrivals, ride = _walk(self.x, self.y, now, stops, self.inv_speed, cfg, fresh)
        return acc + cfg.ride_weight * ride, ok, arrivals

    def best_insertion(self, pickup: _S, dropoff: _S) -> _Plan | None:
        """The cheapest feasible positions for the pair (pickup before drop-off).

        Every stop's cost only grows when it is reached later, so a pickup position i
        costs at least: the route's cost as it is + the new order's drop-off reached
        straight from the store + the pickup's detour. Positions are tried in the order of
        that bound, until it reaches the best cost found. From pickup position i the
        rider's state is carried forward stop by stop; at each later position j (again
        while a bound allows) the drop-off plus the rest of the route is walked until the
        delay is absorbed by waiting (then the rest is as before)."""
        if self.orders >= self.capacity:
            return None
        route, bx, by, bt, bacc = self.stops, self._bx, self._by, self._bt, self._bacc
        k = len(route)
        cfg = self.cfg
        inv, service, now = self.inv_speed, cfg.service_s, self.now
        acc_total = bacc[k]
        fw, tf, margin, mw, lw, lf = (cfg.fresh_weight, cfg.time_weight + cfg.fresh_weight, cfg.margin_s,
                                      cfg.margin_weight, cfg.late_weight, cfg.late_fixed_s)
        rw, ride0 = cfg.ride_weight, self._ride
        px, py, p_ready = pickup[0], pickup[1], pickup[2]
        dx, dy, d_promised, d_limit = dropoff[0], dropoff[1], dropoff[3], dropoff[4]
        d_soft = d_promised - margin
        direct = math.hypot(dx - px, dy - py) * inv

        def drop_cost(d_arrive: float, leave: float) -> float:
            cost = tf * (d_arrive - now) - fw * (leave - now)
            if d_arrive > d_soft:
                cost += mw * (d_arrive - d_soft)
                if d_arrive > d_promised:
                    cost += lw * (d_arrive - d_promised) + lf
            return cost

        if k == 0:  # nothing to do: ride to the store, (wait,) ride to the door
            to_p = math.hypot(px - self.x, py - self.y) * inv
            p_arrive = now + to_p
            leave = (p_arrive if p_arrive > p_ready else p_ready) + service
            cost = drop_cost(leave + direct, leave) + rw * (to_p + direct)
            return _Plan(cost - self.base_cost, 0, 0, p_arrive, leave + direct)

        # Per pickup position: (bound, i, arrival at the store, leaving it, pickup detour in m).
        starts = []
        for i in range(k + 1):
            to_p = math.hypot(px - bx[i], py - by[i])
            p_arrive = bt[i] + to_p * inv
            leave = (p_arrive if p_arrive > p_ready else p_ready) + service
            p_detour = (to_p + math.hypot(bx[i + 1] - px, by[i + 1] - py)
                        - math.hypot(bx[i + 1] - bx[i], by[i + 1] - by[i])) if i < k else to_p
            d_arrive = leave + direct
            bound = acc_total + tf * (d_arrive - now) - fw * (leave - now) + rw * (ride0 + p_detour * inv)
            if d_arrive > d_soft:
                bound += mw * (d_arrive - d_soft)
                if d_arrive > d_promised:
                    bound += lw * (d_arrive - d_promised) + lf
            starts.append((bound, i, p_arrive, leave, p_detour))
        # The end of the route first (its bound is its cost), then by the bound.
        last = starts.pop()
        starts.sort()
        starts.insert(0, last)
        best_cost, best_i, best_j, best_p, best_d = INF, -1, -1, 0.0, 0.0
        for bound, i, p_arrive, t, p_detour in starts:
            if bound >= best_cost - 1e-9:
                continue
            x, y = px, py
            acc = bacc[i]   # the stops before i, as they were; i..j-1 carried forward
            p_ride = ride0 + p_detour * inv
            leave = t
            for j in range(i, k + 1):
                # The drop-off right here, then the rest of the route.
                d_arrive = t + math.hypot(dx - x, dy - y) * inv
                if d_arrive > d_limit:
                    break  # later j only arrive later
                tl = acc + tf * (d_arrive - now) - fw * (leave - now)
                if d_arrive > d_soft:
                    tl += mw * (d_arrive - d_soft)
                    if d_arrive > d_promised:
                        tl += lw * (d_arrive - d_promised) + lf
                if tl + acc_total - bacc[j] + rw * p_ride >= best_cost - 1e-9:
                    break  # the rest only costs more, and so does a later j
                tt, tx, ty, ok = d_arrive + service, dx, dy, True
                for m in range(j, k):
                    sx, sy, ready, promised, limit, _o, is_pickup, _s = route[m]
                    tt += math.hypot(sx - tx, sy - ty) * inv
                    if is_pickup:
                        if tt < ready:
                            tt = ready
                    else:
                        if tt > limit:
                            ok = False
                            break
                        tl += tf * (tt - now)
                        if tt > promised - margin:
                            tl += mw * (tt - promised + margin)
                            if tt > promised:
                                tl += lw * (tt - promised) + lf
                    tt += service
                    tx, ty = sx, sy
                    if tt <= bt[m + 1] + 1e-9:  # delay absorbed: the rest is unchanged
                        tl += acc_total - bacc[m + 1]
                        break
                if ok:
                    if j == i:  # both on the edge from position i
                        detour = math.hypot(px - bx[i], py - by[i]) + math.hypot(dx - px, dy - py) + (
                            math.hypot(bx[i + 1] - dx, by[i + 1] - dy)
                            - math.hypot(bx[i + 1] - bx[i], by[i + 1] - by[i]) if i < k else 0.0)
                    else:
                        detour = p_detour + math.hypot(dx - bx[j], dy - by[j]) + (
                            math.hypot(bx[j + 1] - dx, by[j + 1] - dy)
                            - math.hypot(bx[j + 1] - bx[j], by[j + 1] - by[j]) if j < k else 0.0)
                    cost = tl + rw * (ride0 + detour * inv)
                    if cost < best_cost - 1e-9:
                        best_cost, best_i, best_j, best_p, best_d = cost, i, j, p_arrive, d_arrive
                if j == k:
                    break
                # Carry the rider over route stop j (before a later drop-off).
                sx, sy, ready, promised, limit, _o, is_pickup, _s = route[j]
                t += math.hypot(sx - x, sy - y) * inv
                if is_pickup:
                    if t < ready:
                        t = ready
                else:
                    if t > limit:
                        break  # this stop is too late whatever comes after
                    acc += tf * (t - now)
                    if t > promised - margin:
                        acc += mw * (t - promised + margin)
                        if t > promised:
                            acc += lw * (t - promised) + lf
                t += service
                x, y = sx, sy
        if best_i < 0:
            return None
        return _Plan(best_cost - self.base_cost, best_i, best_j, best_p, best_d)

    def best_insertion_brute(self, pickup: _S, dropoff: _S) -> _Plan | None:
        """Every (i, j) walked in full: the reference the tests check `best_insertion` with."""
        if self.orders >= self.capacity:
            return None
        best: _Plan | None = None
        route = self.stops
        for i in range(len(route) + 1):
            for j in range(i, len(route) + 1):
                stops = [*route[:i], pickup, *route[i:j], dropoff, *route[j:]]
                cost, ok, arrivals = self.cost_of(stops, self.now, self.cfg, fresh=pickup[5])
                if ok and (best is None or cost - self.base_cost < best.cost - 1e-9):
                    eta = arrivals[j + 1]
                    best = _Plan(cost - self.base_cost, i, j, arrivals[i], eta)
        return best


# --- the tick -------------------------------------------------------------------------

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


def _internal(order: OpenOrder, frame: _Frame, idx: int, cfg: DispatchSettings) -> tuple[_S, _S]:
    px, py = frame.xy(order.pickup_lat, order.pickup_lng)
    dx, dy = frame.xy(order.dropoff_lat, order.dropoff_lng)
    pickup, dropoff = order.stops()
    return ((px, py, order.ready_at, INF, INF, idx, True, pickup),
            (dx, dy, -INF, order.promised_at, INF, idx, False, dropoff))


class _Pool:
    """The tick's riders, each built (projected, route costed) only when first needed:
    most riders of a big city are near no open order."""

    def __init__(self, states: Sequence[RiderState], frame: _Frame, order_index: dict[str, int], now: float,
                 cfg: DispatchSettings) -> None:
        self.states, self.frame, self.order_index, self.now, self.cfg = states, frame, order_index, now, cfg
        self.built: dict[int, _Rider] = {}

    def __getitem__(self, r: int) -> _Rider:
        rider = self.built.get(r)
        if rider is None:
            rider = self.built[r] = _Rider(self.states[r], self.frame, self.order_index, self.now, self.cfg)
        return rider


def _finish(pool: _Pool, now: float, cfg: DispatchSettings, assignments: list[Assignment],
            unassigned: dict[str, str], stats: dict[str, float]) -> DispatchResult:
    """Routes and ETAs as they stand after the last round (a later round may have pushed
    an earlier assignment's stops back). The other riders' ETAs only when asked for."""
    routes: dict[str, tuple[Stop, ...]] = {state.id: state.route for state in pool.states}
    etas: dict[str, float] = {}
    pickups: dict[str, float] = {}
    touched = [rider for rider in pool.built.values() if rider.touched]
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
            rider = pool.built.get(r)
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


def _worth_waiting(plans: list[tuple[int, _Plan]], pair: tuple[_S, _S], pool: _Pool, now: float,
                   cfg: DispatchSettings) -> bool:
    """The best plan is late, but a rider free at the store now would still be on time:
    wait for a rider who frees up nearby rather than promise a late delivery."""
    r, best = min(plans, key=lambda rp: rp[1].cost)
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

    # Candidates once per tick: nearby, not excluded, nearest first (numpy over the ring).
    rx = np.array([r.lng for r in riders], dtype=float) * frame.kx
    ry = np.array([r.lat for r in riders], dtype=float) * frame.ky
    idle = np.array([not r.route for r in riders], dtype=bool)
    near: list[list[int]] = []
    near_idle: list[list[int]] = []
    why: dict[int, str] = {}
    for oi, order in enumerate(orders):
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
            if order.excluded_riders:
                found = [r for r in found if riders[r].id not in order.excluded_riders]
                found_idle = [r for r in found_idle if riders[r].id not in order.excluded_riders]
        near.append(found)
        near_idle.append(found_idle)
        if not found:
            why[oi] = NO_RIDER_NEARBY

    rounds, hold = cfg.max_rounds, cfg.hold_s
    ready_of = [o.ready_at for o in orders]
    open_orders = [oi for oi in range(len(orders)) if near[oi]]
    cache: dict[tuple[int, int], tuple[int, _Plan | None]] = {}
    assignments: list[Assignment] = []
    stats = {"rounds": 0.0, "insertions": 0.0, "candidates": float(sum(len(n) for n in near))}
    for _round in range(rounds):
        rows, cols, costs = [], [], []
        col_of: dict[int, int] = {}
        for oi in open_orders:
            plans: list[tuple[int, _Plan]] = []
            chosen = _with_room(near[oi], pool, cfg.max_candidates)
            if cfg.idle_candidates and near_idle[oi]:
                seen = set(chosen)
                chosen += [r for r in near_idle[oi] if not pool[r].stops and r not in seen][:cfg.idle_candidates]
            for r in chosen:
                rider = pool[r]
                key = (oi, r)
                hit = cache.get(key)
                if hit is None or hit[0] != rider.version:
                    hit = cache[key] = (rider.version, rider.best_insertion(*pairs[oi]))
                    stats["insertions"] += 1
                plan = hit[1]
                if plan is None:
                    continue
                plans.append((r, plan))
            if not chosen:
                why[oi] = RIDERS_FULL
            elif not plans:  # cannot happen today: the end of a route always has room
                why[oi] = OUTNUMBERED
            elif hold is not None and min(plans, key=lambda rp: rp[1].cost)[1].pickup_eta < ready_of[oi] - hold:
                why[oi] = HELD
            elif cfg.hold_late and _worth_waiting(plans, pairs[oi], pool, now, cfg):
                why[oi] = HELD
            else:
                for r, plan in plans:
                    rows.append(oi)
                    cols.append(col_of.setdefault(r, len(col_of)))
                    costs.append(plan.cost)
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
    stats["riders_built"] = float(len(pool.built))
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
