"""The solver's own route evaluation: O(route length) updates, O(1)-ish insertion checks.

A route is stored with the depot at both ends: ``nodes = [0, v1, ..., vk, 0]``. For every
position ``i`` we keep

- ``start[i]``  earliest service start (arrival, or the window opening if we wait),
- ``latest[i]`` latest service start that keeps the rest of the route feasible
  (backward "forward slack" bound: ``latest[i] = min(late[v_i], latest[i+1] - s - t)``),
- ``load[i]``   load on board after serving position ``i``.

Inserting a node before position ``k`` is time-feasible iff its push-forward arrival at
``k`` is ``<= latest[k]``, so a pair (pickup after ``i``, delivery after ``j >= i``) is
checked by walking the new arrival times from ``i`` to ``j`` only.
"""

from __future__ import annotations

from .model import Problem

INF = float("inf")
EPS = 1e-7


class Route:
    __slots__ = ("nodes", "start", "latest", "load", "cost")

    def __init__(self, nodes: list[int]):
        self.nodes = nodes
        self.start: list[float] = []
        self.latest: list[float] = []
        self.load: list[int] = []
        self.cost = 0.0

    def copy(self) -> Route:
        r = Route.__new__(Route)
        r.nodes = self.nodes[:]
        r.start = self.start[:]
        r.latest = self.latest[:]
        r.load = self.load[:]
        r.cost = self.cost
        return r

    def __len__(self) -> int:  # customers only
        return len(self.nodes) - 2

    @property
    def customers(self) -> list[int]:
        return self.nodes[1:-1]


def new_route(pb: Problem) -> Route:
    r = Route([0, 0])
    update(pb, r)
    return r


def update(pb: Problem, r: Route) -> bool:
    """Recompute the route's arrays; returns whether the route is feasible."""
    nodes = r.nodes
    T = pb.time
    D = pb.dist
    e, lt, s, q = pb.early, pb.late, pb.service, pb.demand
    n = len(nodes)
    start = [0.0] * n
    load = [0] * n
    latest = [0.0] * n
    ok = True
    t = e[0]
    start[0] = t
    c = 0.0
    ld = 0
    cap = pb.capacity
    prev = nodes[0]
    for k in range(1, n):
        v = nodes[k]
        t = t + s[prev] + T[prev][v]
        if t < e[v]:
            t = e[v]
        elif t > lt[v] + EPS:
            ok = False
        start[k] = t
        c += D[prev][v]
        ld += q[v]
        if ld > cap:
            ok = False
        load[k] = ld
        prev = v
    b = lt[nodes[-1]]
    latest[-1] = b
    for k in range(n - 2, -1, -1):
        v = nodes[k]
        b = b - s[v] - T[v][nodes[k + 1]]
        if lt[v] < b:
            b = lt[v]
        latest[k] = b
    r.start, r.latest, r.load, r.cost = start, latest, load, c
    return ok


def best_insertion(pb: Problem, r: Route, p: int) -> tuple[float, int, int]:
    """Cheapest feasible insertion of request ``p`` (pickup node) into ``r``.

    Returns ``(delta_cost, i, j)``: the pickup goes right after position ``i`` and the
    delivery right after position ``j`` of the *current* route (``j >= i``; when
    ``j == i`` they are adjacent). ``(inf, -1, -1)`` when no position is feasible.
    """
    d = pb.sibling[p]
    nodes = r.nodes
    start, latest, load = r.start, r.latest, r.load
    T, D = pb.time, pb.dist
    e, lt, s = pb.early, pb.late, pb.service
    cap = pb.capacity - pb.demand[p]
    ep, lp, sp = e[p], lt[p], s[p]
    ed, ldl, sd = e[d], lt[d], s[d]
    Tp, Td, Dp, Dd = T[p], T[d], D[p], D[d]
    tpd = Tp[d] + sp
    dpd = Dp[d]
    tri = pb.triangle
    best, bi, bj = INF, -1, -1
    n = len(nodes)
    last = n - 1
    # Exact costs by edge k = (nodes[k], nodes[k+1]): pickup-only detour pk[k], delivery-only
    # detour dd[k], both adjacent adj[k]; the pair (i, k > i) costs pk[i] + dd[k].
    edges = list(zip(nodes, nodes[1:], strict=False))
    pk = [D[a][p] + Dp[b] - D[a][b] for a, b in edges]
    dd = [D[a][d] + Dd[b] - D[a][b] for a, b in edges]
    adj = [D[a][p] + dpd + Dd[b] - D[a][b] for a, b in edges]
    sm = dd[:]  # sm[k] = min(dd[k:])
    for k in range(last - 2, -1, -1):
        if sm[k + 1] < sm[k]:
            sm[k] = sm[k + 1]
    sm.append(INF)
    lb = [min(adj[i], pk[i] + sm[i + 1]) for i in range(last)]
    # visit pickup positions by lower bound: the first few settle ``best``, the rest is cut
    for i in sorted(range(last), key=lb.__getitem__):
        if lb[i] >= best:
            break
        u = nodes[i]
        tp = start[i] + s[u] + T[u][p]
        if tp > lp or load[i] > cap:
            continue
        if tp < ep:
            tp = ep
        v = nodes[i + 1]
        # delivery right after the pickup
        if adj[i] < best:
            td = tp + tpd
            if td <= ldl:
                if td < ed:
                    td = ed
                if td + sd + Td[v] <= latest[i + 1] + EPS:
                    best, bi, bj = adj[i], i, i
        # delivery later, after position k > i
        base = pk[i]
        k = i + 1
        if base + sm[k] >= best:
            continue
        t = tp + sp + Tp[v]  # pushed-forward arrival at position k
        while k < last:
            if base + sm[k] >= best or t > lt[v] + EPS or load[k] > cap:
                break
            if t < e[v]:
                t = e[v]
            w = nodes[k + 1]
            if base + dd[k] < best:
                td = t + s[v] + T[v][d]
                if td <= ldl:
                    if td < ed:
                        td = ed
                    if td + sd + Td[w] <= latest[k + 1] + EPS:
                        best, bi, bj = base + dd[k], i, k
                elif tri:
                    break
            t = t + s[v] + T[v][w]
            k += 1
            v = w
    return best, bi, bj


def insert(pb: Problem, r: Route, p: int, i: int, j: int) -> None:
    d = pb.sibling[p]
    nodes = r.nodes
    nodes.insert(j + 1, d)
    nodes.insert(i + 1, p)
    update(pb, r)


def remove(pb: Problem, r: Route, p: int) -> None:
    d = pb.sibling[p]
    nodes = r.nodes
    nodes.remove(p)
    nodes.remove(d)
    update(pb, r)


def removal_gain(pb: Problem, r: Route, p: int) -> float:
    """Distance saved by taking request ``p`` out of ``r``."""
    d = pb.sibling[p]
    nodes = r.nodes
    D = pb.dist
    i = nodes.index(p)
    j = nodes.index(d)
    if j == i + 1:
        a, b = nodes[i - 1], nodes[j + 1]
        return D[a][p] + D[p][d] + D[d][b] - D[a][b]
    a, b = nodes[i - 1], nodes[i + 1]
    g = D[a][p] + D[p][b] - D[a][b]
    a, b = nodes[j - 1], nodes[j + 1]
    return g + D[a][d] + D[d][b] - D[a][b]
