"""The insertion search of the batch dispatcher: a rider's route in local planar metres,
its cost, and the cheapest feasible place to insert a new order's pickup and drop-off
(see the cost model in `dispatch.py`'s docstring). Pure (no Django)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .dispatch_model import _RAD, EARTH_RADIUS_M, INF, PICKUP, DispatchSettings, RiderState, Stop

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

# An arrival more than this after a stop's `latest` (see `_Rider.set_route`) is infeasible
# for certain: far above the rounding between that bound and the walk it stands for
# (about 1e-6 s even on Unix-time clocks), so skipping on it changes no result.
_LATE_EPS_S = 1e-3


@dataclass(slots=True)
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
                 "_ride", "_leg_m", "_leg_t", "_latest", "_weights", "_defer")

    def __init__(self, state: RiderState, frame: _Frame, order_index: dict[str, int], now: float,
                 cfg: DispatchSettings) -> None:
        self.id = state.id
        self.x, self.y = frame.xy(state.lat, state.lng)
        self.capacity = state.capacity
        self.inv_speed = 1.0 / state.speed_mps
        self.orders = len(state.order_ids)
        self.now, self.cfg = now, cfg
        self._weights = (cfg.service_s, cfg.fresh_weight, cfg.time_weight + cfg.fresh_weight, cfg.margin_s,
                         cfg.margin_weight, cfg.late_weight, cfg.late_fixed_s, cfg.ride_weight)
        raw = []
        for s in state.route:
            sx, sy = frame.xy(s.lat, s.lng)
            idx = order_index.setdefault(s.order_id, len(order_index))
            raw.append((sx, sy, s.ready_at, s.promised_at, INF, idx, s.kind == PICKUP, s))
        arrivals = _walk(self.x, self.y, now, raw, self.inv_speed, cfg)[3]
        # Deferred commitment (`defer_s`): how long after the food can first be picked up a
        # late plan may reach the store after other stops (see `best_insertion`).
        self._defer = INF if cfg.defer_s is None else cfg.defer_s
        self.version = 0      # bumped when the route changes: cached insertions expire
        self.touched = False  # route changed in this tick
        self.set_route([_protect(stop, a, cfg) for stop, a in zip(raw, arrivals, strict=True)])

    def set_route(self, stops: list[_S]) -> None:
        """Take a new route and recompute, per position, where the rider is, when they
        leave it, the cost of the stops so far (the base of every insertion), each leg
        (metres and seconds into stop m), and the latest arrival at each stop the rest of
        the route can take.

        `latest[m]`: arriving at stop m later than this, some drop-off from m on passes its
        limit (a pickup's wait absorbs delay; arriving no later than the route does now
        changes nothing after). An insertion that brings the rider to stop m more than
        `_LATE_EPS_S` after it is infeasible, and so is every insertion that delays stop m
        more (the drop-off placed later on the route): `best_insertion` skips those."""
        self.stops = stops
        cfg, now = self.cfg, self.now
        x, y, t, acc, ride = self.x, self.y, now, 0.0, 0.0
        bx, by, bt, bacc = [x], [y], [t], [0.0]
        leg_m: list[float] = []
        leg_t: list[float] = []
        arrive: list[float] = []
        service, inv = cfg.service_s, self.inv_speed
        for sx, sy, ready, promised, _limit, _o, is_pickup, _s in stops:
            metres = math.hypot(sx - x, sy - y)
            leg = metres * inv
            leg_m.append(metres)
            leg_t.append(leg)
            ride += leg
            t += leg
            arrive.append(t)
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
        self._leg_m, self._leg_t = leg_m, leg_t
        latest = [INF] * len(stops)
        after = INF  # latest[m + 1] less the ride there and the service at m
        for m in range(len(stops) - 1, -1, -1):
            _sx, _sy, ready, _promised, limit, _o, is_pickup, _s = stops[m]
            latest[m] = max(after, ready, arrive[m]) if is_pickup else min(limit, max(arrive[m], after))
            after = latest[m] - leg_t[m] - service
        self._latest = latest
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
        straight from the store + the pickup's detour. The end of the route is tried first
        (its bound is its cost), then the positions whose bound is below the best found, in
        the order of that bound, until it reaches the best cost found. From pickup position
        i the rider's state is carried forward stop by stop; at each later position j (again
        while a bound allows) the drop-off plus the rest of the route is walked until the
        delay is absorbed by waiting (then the rest is as before). Each distance is taken
        once per call (store and door to every position) or once per route (its legs)."""
        if self.orders >= self.capacity:
            return None
        route, bx, by, bt, bacc = self.stops, self._bx, self._by, self._bt, self._bacc
        k = len(route)
        inv, now = self.inv_speed, self.now
        service, fw, tf, margin, mw, lw, lf, rw = self._weights
        acc_total, ride0 = bacc[k], self._ride
        px, py, p_ready = pickup[0], pickup[1], pickup[2]
        dx, dy, d_promised, d_limit = dropoff[0], dropoff[1], dropoff[3], dropoff[4]
        d_soft = d_promised - margin
        direct_m = math.hypot(dx - px, dy - py)
        direct = direct_m * inv

        if k == 0:  # nothing to do: ride to the store, (wait,) ride to the door
            to_p = math.hypot(px - self.x, py - self.y) * inv
            p_arrive = now + to_p
            leave = (p_arrive if p_arrive > p_ready else p_ready) + service
            d_arrive = leave + direct
            cost = tf * (d_arrive - now) - fw * (leave - now)
            if d_arrive > d_soft:
                cost += mw * (d_arrive - d_soft)
                if d_arrive > d_promised:
                    cost += lw * (d_arrive - d_promised) + lf
            cost += rw * (to_p + direct)
            return _Plan(cost - self.base_cost, 0, 0, p_arrive, d_arrive)

        leg_m, leg_t, latest = self._leg_m, self._leg_t, self._latest
        to_p_m = [math.hypot(px - bx[i], py - by[i]) for i in range(k + 1)]  # store to position i
        to_d_m: list[float] = []  # door to position j (when a position before the end is tried)
        # The end of the route first: (bound, i, arrival at the store, leaving it, pickup detour in m).
        to_p = to_p_m[k]
        p_arrive = bt[k] + to_p * inv
        leave = (p_arrive if p_arrive > p_ready else p_ready) + service
        d_arrive = leave + direct
        bound = acc_total + tf * (d_arrive - now) - fw * (leave - now) + rw * (ride0 + to_p * inv)
        if d_arrive > d_soft:
            bound += mw * (d_arrive - d_soft)
            if d_arrive > d_promised:
                bound += lw * (d_arrive - d_promised) + lf
        # Deferred commitment (`defer_s`): a pickup reached after `commit_by` (more than
        # `defer_s` after the food can first be picked up: now, or when it is ready), right
        # after a stop farther than `defer_near_m` from the store, is not offered when the
        # drop-off is late, which it is at every j once leaving the store + the direct ride is.
        commit_by, near_m = (p_ready if p_ready > now else now) + self._defer, self.cfg.defer_near_m
        starts = ([(bound, k, p_arrive, leave, to_p)]
                  if p_arrive <= commit_by or to_p <= near_m or leave + direct <= d_promised else [])
        best_cost, best_i, best_j, best_p, best_d = INF, -1, -1, 0.0, 0.0
        for later in (False, True):
            if later:  # the other positions that can still beat the best, by their bound
                cut = best_cost - 1e-9
                starts = []
                for i in range(k):
                    to_p = to_p_m[i]
                    p_arrive = bt[i] + to_p * inv
                    leave = (p_arrive if p_arrive > p_ready else p_ready) + service
                    if leave + to_p_m[i + 1] * inv > latest[i] + _LATE_EPS_S:
                        continue  # stop i too late even without the drop-off: no j can work
                    if i and p_arrive > commit_by and to_p > near_m and leave + direct > d_promised:
                        continue  # deferred: a late plan this far ahead, not at a stop near the store
                    p_detour = to_p + to_p_m[i + 1] - leg_m[i]
                    d_arrive = leave + direct
                    bound = acc_total + tf * (d_arrive - now) - fw * (leave - now) + rw * (ride0 + p_detour * inv)
                    if d_arrive > d_soft:
                        bound += mw * (d_arrive - d_soft)
                        if d_arrive > d_promised:
                            bound += lw * (d_arrive - d_promised) + lf
                    if bound < cut:
                        starts.append((bound, i, p_arrive, leave, p_detour))
                if not starts:
                    break
                starts.sort()
                to_d_m = [math.hypot(dx - bx[j], dy - by[j]) for j in range(k + 1)]
            for bound, i, p_arrive, t, p_detour in starts:
                if bound >= best_cost - 1e-9:
                    continue
                acc = bacc[i]   # the stops before i, as they were; i..j-1 carried forward
                p_ride = ride0 + p_detour * inv
                leave = t
                for j in range(i, k + 1):
                    # The drop-off right here, then the rest of the route.
                    d_arrive = t + (direct if j == i else to_d_m[j] * inv)
                    if d_arrive > d_limit:
                        break  # later j only arrive later
                    if i and p_arrive > commit_by and to_p_m[i] > near_m and d_arrive > d_promised:
                        break  # deferred: late here, and at every later j
                    tl = acc + tf * (d_arrive - now) - fw * (leave - now)
                    if d_arrive > d_soft:
                        tl += mw * (d_arrive - d_soft)
                        if d_arrive > d_promised:
                            tl += lw * (d_arrive - d_promised) + lf
                    if tl + acc_total - bacc[j] + rw * p_ride >= best_cost - 1e-9:
                        break  # the rest only costs more, and so does a later j
                    tt, ok = d_arrive + service, True
                    if j < k and tt + to_d_m[j + 1] * inv > latest[j] + _LATE_EPS_S:
                        ok = False  # stop j reached too late: walking the rest would fail
                    else:
                        for m in range(j, k):
                            _sx, _sy, ready, promised, limit, _o, is_pickup, _s = route[m]
                            tt += to_d_m[j + 1] * inv if m == j else leg_t[m]
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
                            if tt <= bt[m + 1] + 1e-9:  # delay absorbed: the rest is unchanged
                                tl += acc_total - bacc[m + 1]
                                break
                    if ok:
                        if j == i:  # both on the edge from position i
                            detour = to_p_m[i] + direct_m + (to_d_m[i + 1] - leg_m[i] if i < k else 0.0)
                        else:
                            detour = p_detour + to_d_m[j] + (to_d_m[j + 1] - leg_m[j] if j < k else 0.0)
                        cost = tl + rw * (ride0 + detour * inv)
                        if cost < best_cost - 1e-9:
                            best_cost, best_i, best_j, best_p, best_d = cost, i, j, p_arrive, d_arrive
                    if j == k:
                        break
                    # Carry the rider over route stop j (before a later drop-off).
                    _sx, _sy, ready, promised, limit, _o, is_pickup, _s = route[j]
                    t += to_p_m[j + 1] * inv if j == i else leg_t[j]
                    if t > latest[j] + _LATE_EPS_S:
                        break  # stop j too late: so is every later drop-off position
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
                if (i and arrivals[i] > max(self.now, pickup[2]) + self._defer and arrivals[j + 1] > dropoff[3]
                        and math.hypot(route[i - 1][0] - pickup[0], route[i - 1][1] - pickup[1]) > self.cfg.defer_near_m):
                    ok = False  # deferred commitment
                if ok and (best is None or cost - self.base_cost < best.cost - 1e-9):
                    eta = arrivals[j + 1]
                    best = _Plan(cost - self.base_cost, i, j, arrivals[i], eta)
        return best


# --- the tick -------------------------------------------------------------------------
