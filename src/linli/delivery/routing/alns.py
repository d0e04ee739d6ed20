"""Construction, route elimination and ALNS for the PDPTW.

``solve(problem, time_limit, seed)`` runs three phases on one core:

1. **Construction**: regret-2 insertion of every request, opening routes as needed.
2. **Route elimination** (up to ``vehicle_share`` of the time): repeatedly delete a route
   and push its requests into an *ejection pool*. A request popped from the pool is put
   back by cheapest feasible insertion, or else by ejecting the one or two requests whose
   penalty counters are smallest (the counters grow every time a request is hard to place,
   so the search is guided towards ejecting easy requests), followed by a few random
   remove/reinsert perturbations. Success means a feasible solution with one route fewer.
3. **Distance ALNS**: destroy (random, worst, Shaw-related, whole-route) and repair
   (greedy, regret-2, regret-3, with or without noise) with adaptive operator weights and
   simulated-annealing acceptance on a time-based cooling schedule. Routes are never
   opened in this phase, so the vehicle count can only go down.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field

from .model import Problem
from .routes import INF, Route, best_insertion, insert, new_route, removal_gain, update

BIG = 1e7


@dataclass
class Solution:
    """The result: one list of customer nodes (no depot) per used vehicle."""

    routes: list[list[int]]
    distance: float
    unassigned: list[int] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    @property
    def vehicles(self) -> int:
        return len(self.routes)

    @property
    def feasible(self) -> bool:
        return not self.unassigned


# --------------------------------------------------------------------------- helpers


def _cost(routes: list[Route]) -> float:
    return sum(r.cost for r in routes)


def _used(routes: list[Route]) -> int:
    return sum(1 for r in routes if len(r.nodes) > 2)


def _copy(routes: list[Route]) -> list[Route]:
    return [r.copy() for r in routes]


def _drop_empty(routes: list[Route]) -> list[Route]:
    return [r for r in routes if len(r.nodes) > 2]


def _assigned(pb: Problem, routes: list[Route]) -> list[tuple[int, int]]:
    """(pickup, route index) of every request on a route."""
    ip = pb.is_pickup
    return [(v, k) for k, r in enumerate(routes) for v in r.nodes if ip[v]]


# --------------------------------------------------------------------------- repair


def repair(
    pb: Problem,
    routes: list[Route],
    reqs: list[int],
    rng: random.Random,
    *,
    regret: int = 1,
    noise: float = 0.0,
    allow_new: bool = False,
) -> list[int]:
    """Insert ``reqs`` into ``routes`` (in place); returns the requests left out.

    ``regret == 1`` is greedy cheapest insertion; ``regret >= 2`` picks the request with the
    largest regret-k value first. ``noise`` perturbs each insertion cost by up to
    ``± noise``. With ``allow_new`` an empty route is kept available while the fleet allows.
    """
    if not reqs:
        return []
    pending = list(reqs)
    if allow_new and all(len(r.nodes) > 2 for r in routes) and len(routes) < pb.max_vehicles:
        routes.append(new_route(pb))

    def evaluate(p: int, r: Route) -> tuple[float, int, int]:
        c, i, j = best_insertion(pb, r, p)
        if noise and c < INF:
            c = max(0.0, c + noise * (2 * rng.random() - 1))
        return c, i, j

    cache = {p: [evaluate(p, r) for r in routes] for p in pending}
    while pending:
        best_p, best_key, best_c, best_k = -1, None, INF, -1
        for p in pending:
            row = cache[p]
            if regret <= 1:
                k = min(range(len(row)), key=lambda x: row[x][0])
                c = row[k][0]
                if c < best_c:
                    best_p, best_c, best_k = p, c, k
            else:
                order = sorted(range(len(row)), key=lambda x: row[x][0])
                k = order[0]
                c = row[k][0]
                if c == INF:
                    continue
                reg = 0.0
                for h in range(1, regret):
                    ch = row[order[h]][0] if h < len(order) else INF
                    reg += (BIG if ch == INF else ch) - c
                key = (reg, -c)
                if best_key is None or key > best_key:
                    best_p, best_key, best_c, best_k = p, key, c, k
        if best_p < 0 or best_c == INF:
            break
        _, i, j = cache[best_p][best_k]
        r = routes[best_k]
        was_empty = len(r.nodes) == 2
        insert(pb, r, best_p, i, j)
        pending.remove(best_p)
        for p in pending:
            cache[p][best_k] = evaluate(p, r)
        if was_empty and allow_new and len(routes) < pb.max_vehicles:
            routes.append(new_route(pb))
            for p in pending:
                cache[p].append(evaluate(p, routes[-1]))
    return pending


# --------------------------------------------------------------------------- destroy


def _remove_all(pb: Problem, routes: list[Route], victims: list[int], where: dict) -> None:
    by_route: dict[int, list[int]] = {}
    for p in victims:
        by_route.setdefault(where[p], []).append(p)
    sib = pb.sibling
    for k, ps in by_route.items():
        r = routes[k]
        gone = set(ps) | {sib[p] for p in ps}
        r.nodes = [v for v in r.nodes if v not in gone]
        update(pb, r)


def destroy_random(pb, routes, q, rng, ctx):
    assigned = _assigned(pb, routes)
    victims = [p for p, _ in rng.sample(assigned, min(q, len(assigned)))]
    _remove_all(pb, routes, victims, dict(assigned))
    return victims


def destroy_worst(pb, routes, q, rng, ctx):
    assigned = _assigned(pb, routes)
    gains = sorted(((removal_gain(pb, routes[k], p), p) for p, k in assigned), reverse=True)
    victims: list[int] = []
    chosen: set[int] = set()
    q = min(q, len(gains))
    while len(victims) < q:
        idx = int((rng.random() ** 3) * len(gains))
        _, p = gains.pop(idx)
        if p not in chosen:
            chosen.add(p)
            victims.append(p)
    _remove_all(pb, routes, victims, dict(assigned))
    return victims


def destroy_shaw(pb, routes, q, rng, ctx):
    assigned = _assigned(pb, routes)
    where = dict(assigned)
    if not assigned:
        return []
    start: dict[int, float] = {}
    for r in routes:
        for v, t in zip(r.nodes, r.start, strict=True):
            start[v] = t
    D, sib, dem = pb.dist, pb.sibling, pb.demand
    dmax, horizon, cap = ctx["dmax"], ctx["horizon"], pb.capacity
    seed = rng.choice(assigned)[0]
    victims = [seed]
    left = [p for p, _ in assigned if p != seed]
    q = min(q, len(assigned))
    while len(victims) < q and left:
        r0 = rng.choice(victims)
        d0 = sib[r0]

        def rel(p, r0=r0, d0=d0):
            d = sib[p]
            return (
                9 * (D[r0][p] + D[d0][d]) / dmax
                + 3 * (abs(start[r0] - start[p]) + abs(start[d0] - start[d])) / horizon
                + 2 * abs(dem[r0] - dem[p]) / cap
                + (0 if where[p] == where[r0] else 1)
            )

        left.sort(key=rel)
        p = left.pop(int((rng.random() ** 6) * len(left)))
        victims.append(p)
    _remove_all(pb, routes, victims, where)
    return victims


def destroy_route(pb, routes, q, rng, ctx):
    """Empty one route (biased to short ones), then top up with related requests."""
    used = [k for k, r in enumerate(routes) if len(r.nodes) > 2]
    if not used:
        return []
    used.sort(key=lambda k: len(routes[k].nodes))
    k = used[int((rng.random() ** 2) * len(used))]
    victims = [v for v in routes[k].nodes if pb.is_pickup[v]]
    routes[k].nodes = [0, 0]
    update(pb, routes[k])
    if len(victims) < q:
        victims += destroy_random(pb, routes, q - len(victims), rng, ctx)
    return victims


DESTROY = (destroy_random, destroy_worst, destroy_shaw, destroy_route)
REPAIR = ((1, False), (1, True), (2, False), (2, True), (3, False), (3, True))


# --------------------------------------------------------------------------- route elimination


def _place_or_eject(pb, routes, p, weights, rng):
    """Insert ``p`` feasibly, ejecting at most two cheap requests from one route.

    Returns the ejected requests (empty list if it went in directly) or ``None``.
    """
    best = (INF, -1, -1, -1)
    for k, r in enumerate(routes):
        c, i, j = best_insertion(pb, r, p)
        if c < best[0]:
            best = (c, k, i, j)
    if best[1] >= 0:
        insert(pb, routes[best[1]], p, best[2], best[3])
        return []
    ip = pb.is_pickup
    wp = weights[p]
    cand = None  # (sum of weights, cost, k, ejected, i, j)
    for depth in (1, 2):
        for k, r in enumerate(routes):
            reqs = [v for v in r.nodes if ip[v]]
            if depth == 1:
                combos = [(x,) for x in reqs]
            else:
                combos = [(a, b) for ai, a in enumerate(reqs) for b in reqs[ai + 1:]]
            for combo in combos:
                w = sum(weights[x] for x in combo)
                if depth == 2 and cand is not None and w > 2 * wp:
                    continue  # a pair heavier than twice the target: not worth trying
                if cand is not None and (w, 0.0) >= (cand[0], cand[1]):
                    continue
                tmp = r.copy()
                gone = set(combo) | {pb.sibling[x] for x in combo}
                tmp.nodes = [v for v in tmp.nodes if v not in gone]
                update(pb, tmp)
                c, i, j = best_insertion(pb, tmp, p)
                if c < INF and (cand is None or (w, c) < (cand[0], cand[1])):
                    cand = (w, c, k, combo, i, j, tmp)
        if cand is not None:
            break
    if cand is None:
        return None
    _, _, k, combo, i, j, tmp = cand
    insert(pb, tmp, p, i, j)
    routes[k] = tmp
    return list(combo)


def _perturb(pb, routes, rng, moves):
    """Random feasible remove/reinsert moves (keeps every request on a route)."""
    for _ in range(moves):
        assigned = _assigned(pb, routes)
        if len(assigned) < 2:
            return
        k = rng.randint(1, min(4, len(assigned)))
        trial = _copy(routes)
        victims = [p for p, _ in rng.sample(assigned, k)]
        _remove_all(pb, trial, victims, dict(assigned))
        rng.shuffle(victims)
        if not repair(pb, trial, victims, rng, regret=1, noise=rng.random() * 20.0):
            routes[:] = trial


def eliminate_routes(
    pb, routes, rng, deadline, weights, log, clock=time.perf_counter, attempt=INF
) -> bool:
    """Delete routes one at a time while the ejection search can re-home their requests.

    Each deletion attempt may take ``attempt`` seconds (and must end by ``deadline``).
    Returns False when an attempt failed, True when the lower bound was reached.
    """
    best = _drop_empty(routes)
    lb = max(1, math.ceil(sum(d for d in pb.demand if d > 0) / pb.capacity))
    while clock() < deadline and len(best) > lb:
        cur = _copy(best)
        sizes = sorted(range(len(cur)), key=lambda k: len(cur[k].nodes))
        k = sizes[int((rng.random() ** 3) * len(sizes))]
        pool = [v for v in cur[k].nodes if pb.is_pickup[v]]
        del cur[k]
        rng.shuffle(pool)
        until = min(deadline, clock() + attempt)
        while pool and clock() < until:
            p = pool.pop()
            ejected = _place_or_eject(pb, cur, p, weights, rng)
            if ejected is None:
                weights[p] += 1
                pool.insert(0, p)
                _perturb(pb, cur, rng, 10)
                continue
            if ejected:
                weights[p] += 1
                pool.extend(ejected)
                _perturb(pb, cur, rng, 3)
        if pool:
            routes[:] = best
            return False
        best = _drop_empty(cur)
        log.append((clock(), len(best), _cost(best)))
    routes[:] = best
    return len(best) <= lb


# --------------------------------------------------------------------------- ALNS


def improve_distance(pb, routes, rng, deadline, ctx, log, clock=time.perf_counter):
    cur = _drop_empty(routes)
    best = _copy(cur)
    cur_cost = best_cost = _cost(cur)
    cur_used = best_used = len(cur)
    n_req = len(pb.requests)
    qmin = min(4, n_req)
    qmax = max(qmin, min(30, int(0.35 * n_req)))
    wd = [1.0] * len(DESTROY)
    wr = [1.0] * len(REPAIR)
    sd = [0.0] * len(DESTROY)
    sr = [0.0] * len(REPAIR)
    nd = [0] * len(DESTROY)
    nr = [0] * len(REPAIR)
    t_start = clock()
    span = max(1e-3, deadline - t_start)
    t0 = 0.02 * cur_cost / math.log(2)
    t_end = t0 / 200
    noise_amp = 0.025 * ctx["dmax"]
    it = 0
    seen: set = set()
    while True:
        now = clock()
        if now >= deadline:
            break
        it += 1
        temp = t0 * (t_end / t0) ** ((now - t_start) / span)
        di = rng.choices(range(len(DESTROY)), weights=wd)[0]
        ri = rng.choices(range(len(REPAIR)), weights=wr)[0]
        cand = _copy(cur)
        q = rng.randint(qmin, qmax)
        removed = DESTROY[di](pb, cand, q, rng, ctx)
        regret, noisy = REPAIR[ri]
        rng.shuffle(removed)
        left = repair(pb, cand, removed, rng, regret=regret,
                      noise=noise_amp if noisy else 0.0)
        score = 0.0
        if not left:
            cand = _drop_empty(cand)
            c = _cost(cand)
            used = len(cand)
            key = (used, round(c, 6))
            if used < best_used or (used == best_used and c < best_cost - 1e-9):
                best, best_cost, best_used = _copy(cand), c, used
                cur, cur_cost, cur_used = cand, c, used
                score = 33.0
                log.append((now, used, c))
            elif used < cur_used or c < cur_cost - 1e-9:
                cur, cur_cost, cur_used = cand, c, used
                score = 9.0 if key in seen else 13.0
            elif used == cur_used and rng.random() < math.exp(-(c - cur_cost) / temp):
                cur, cur_cost = cand, c
                score = 0.0 if key in seen else 13.0
            seen.add(key)
        sd[di] += score
        nd[di] += 1
        sr[ri] += score
        nr[ri] += 1
        if it % 100 == 0:
            for w, s, n in ((wd, sd, nd), (wr, sr, nr)):
                for x in range(len(w)):
                    if n[x]:
                        w[x] = max(0.05, 0.8 * w[x] + 0.2 * s[x] / n[x])
                    s[x] = 0.0
                    n[x] = 0
    routes[:] = best
    return it


# --------------------------------------------------------------------------- entry point


def solve(
    pb: Problem,
    time_limit: float = 30.0,
    seed: int = 0,
    *,
    vehicle_share: float | None = None,
    attempt_share: float | None = None,
    ticks: int | None = None,
) -> Solution:
    """Solve ``pb`` within ``time_limit`` seconds (wall clock, one core).

    With ``ticks`` the budget is counted in clock reads instead of seconds (every budget
    check advances a virtual clock by ``time_limit / ticks``), so a fixed ``seed`` gives
    the very same answer on any machine.

    ``vehicle_share`` caps the route-elimination phase (default: half the time when the
    constructed routes average under 12 customers, a fifth otherwise); an elimination
    attempt that fails within ``attempt_share`` of the time (default: the whole share)
    yields to a short ALNS run before the next attempt.
    """
    clock = _TickClock(time_limit / ticks) if ticks else time.perf_counter
    t0 = clock()
    rng = random.Random(seed)
    D = pb.dist
    ctx = {
        "dmax": max(max(row) for row in D) or 1.0,
        "horizon": max(1e-9, pb.late[0] - pb.early[0]),
    }
    log: list = []
    routes: list[Route] = []
    reqs = pb.requests
    rng.shuffle(reqs)
    left = repair(pb, routes, reqs, rng, regret=2, allow_new=True)
    routes = _drop_empty(routes)
    t_built = clock()
    constructed = (len(routes), _cost(routes))
    weights = dict.fromkeys(pb.requests, 0)
    if left:  # the fleet limit was hit: keep pushing the rest in with ejections
        pool = list(left)
        end = t0 + time_limit * 0.5
        while pool and clock() < end:
            p = pool.pop()
            ej = _place_or_eject(pb, routes, p, weights, rng)
            if ej is None:
                weights[p] += 1
                pool.insert(0, p)
                _perturb(pb, routes, rng, 10)
            else:
                pool.extend(ej)
        left = pool
    iters = 0
    if vehicle_share is None:
        # Long routes make every ALNS iteration dearer (insertion is quadratic in the route
        # length), so they leave more of the clock to the distance phase.
        avg = sum(len(r) for r in routes) / max(1, len(routes))
        vehicle_share = 0.5 if avg < 12 else 0.2
    if attempt_share is None:
        attempt_share = vehicle_share
    if not left:
        # Route elimination, interleaved with short distance runs: an attempt that fails
        # within ``attempt`` seconds yields to the ALNS for as long, then retries from the
        # improved (and different) solution, until ``vehicle_share`` of the time is used.
        veh_end = t0 + time_limit * vehicle_share
        attempt = time_limit * attempt_share
        while clock() < veh_end:
            if eliminate_routes(pb, routes, rng, veh_end, weights, log, clock, attempt):
                break
            iters += improve_distance(
                pb, routes, rng, min(veh_end, clock() + attempt), ctx, log, clock
            )
    t_veh = clock()
    if not left:
        iters += improve_distance(pb, routes, rng, t0 + time_limit, ctx, log, clock)
    routes = _drop_empty(routes)
    return Solution(
        routes=[r.customers for r in routes],
        distance=_cost(routes),
        unassigned=sorted(left),
        stats={
            "constructed_vehicles": constructed[0],
            "constructed_distance": constructed[1],
            "construction_s": t_built - t0,
            "vehicle_phase_s": t_veh - t_built,
            "alns_iterations": iters,
            "elapsed_s": clock() - t0,
            "improvements": [(round(t - t0, 3), v, round(c, 2)) for t, v, c in log],
        },
    )


class _TickClock:
    """A virtual clock that advances by ``step`` on every read."""

    def __init__(self, step: float):
        self.step = step
        self.t = 0.0

    def __call__(self) -> float:
        self.t += self.step
        return self.t
