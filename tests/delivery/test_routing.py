"""The PDPTW route optimiser (linli.delivery.routing): checker, evaluation, solver."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.delivery.routing import checker
from linli.delivery.routing.alns import solve
from linli.delivery.routing.model import Problem, haversine_matrix, load_lilim
from linli.delivery.routing.routes import Route, best_insertion, insert, update

LILIM = Path(__file__).resolve().parents[3] / "shared" / "data" / "lilim"


def make_instance(seed: int, n_req: int, capacity: int = 40, fleet: int = 10) -> str:
    """A random Li & Lim style instance as text (depot 0, pickups then deliveries)."""
    rng = random.Random(seed)
    n = 2 * n_req
    lines = [f"{fleet}\t{capacity}\t1", "0\t50\t50\t0\t0\t1000\t0\t0\t0"]
    for k in range(1, n_req + 1):
        p, d = k, k + n_req
        e = rng.randint(0, 500)
        lines.append(f"{p}\t{rng.randint(0, 100)}\t{rng.randint(0, 100)}\t{rng.randint(5, 25)}"
                     f"\t{e}\t{e + rng.randint(40, 250)}\t10\t0\t{d}")
    for k in range(1, n_req + 1):
        p, d = k, k + n_req
        dem = -int(lines[1 + k].split("\t")[3])
        e = rng.randint(100, 700)
        lines.append(f"{d}\t{rng.randint(0, 100)}\t{rng.randint(0, 100)}\t{dem}"
                     f"\t{e}\t{e + rng.randint(60, 300)}\t10\t{p}\t0")
    assert len(lines) == n + 2
    return "\n".join(lines) + "\n"


def problem_from_text(tmp: Path, text: str, name: str = "rand") -> Problem:
    path = tmp / f"{name}.txt"
    path.write_text(text)
    return load_lilim(path)


TINY = """3\t30\t1
0\t0\t0\t0\t0\t400\t0\t0\t0
1\t10\t0\t20\t0\t400\t5\t0\t2
2\t20\t0\t-20\t0\t400\t5\t1\t0
3\t0\t10\t20\t0\t400\t5\t0\t4
4\t0\t20\t-20\t0\t50\t5\t3\t0
"""


# ------------------------------------------------------------------ the independent checker


def test_checker_accepts_a_valid_solution():
    inst = checker.read_instance(TINY)
    rep = checker.check(inst, [[1, 2], [3, 4]])
    assert rep.ok, rep.errors
    assert rep.vehicles == 2
    assert rep.distance == pytest.approx(20 + 20 + 20 + 20)


def test_checker_rejects_capacity():
    inst = checker.read_instance(TINY)
    rep = checker.check(inst, [[1, 3, 2, 4]])  # 40 on board, capacity 30
    assert not rep.ok
    assert any("capacity" in e for e in rep.errors)


def test_checker_rejects_a_late_service():
    inst = checker.read_instance(TINY)
    # node 4 is due at 50; going via 1 and 2 first arrives far too late
    rep = checker.check(inst, [[1, 2, 3, 4]])
    assert not rep.ok
    assert any("after its due" in e for e in rep.errors)


def test_checker_rejects_delivery_before_pickup():
    inst = checker.read_instance(TINY)
    rep = checker.check(inst, [[2, 1], [3, 4]])
    assert not rep.ok
    assert any("before pickup" in e or "negative load" in e for e in rep.errors)


def test_checker_rejects_split_pair_missing_and_duplicate_requests():
    inst = checker.read_instance(TINY)
    split = checker.check(inst, [[1], [2], [3, 4]])
    assert not split.ok
    assert any("without its delivery" in e for e in split.errors)
    missing = checker.check(inst, [[1, 2]])
    assert not missing.ok
    assert any("never visited" in e for e in missing.errors)
    twice = checker.check(inst, [[1, 2], [3, 4], [1, 2]])
    assert not twice.ok
    assert any("twice" in e for e in twice.errors)


def test_checker_rejects_depot_inside_route_and_late_return():
    inst = checker.read_instance(TINY.replace("0\t0\t0\t0\t0\t400", "0\t0\t0\t0\t0\t60"))
    rep = checker.check(inst, [[1, 2], [3, 0, 4]])
    assert not rep.ok
    assert any("depot" in e for e in rep.errors)


# ------------------------------------------------------------------ solver's evaluation


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), data=st.data())
def test_route_evaluation_agrees_with_checker(tmp_path_factory, seed, data):
    """Random pair-respecting routes: the solver's feasibility and cost equal the checker's."""
    text = make_instance(seed, 6)
    pb = problem_from_text(tmp_path_factory.mktemp("r"), text)
    inst = checker.read_instance(text)
    reqs = data.draw(st.lists(st.sampled_from(pb.requests), min_size=1, max_size=6, unique=True))
    nodes = [0, 0]
    for p in reqs:
        i = data.draw(st.integers(0, len(nodes) - 2))
        j = data.draw(st.integers(i, len(nodes) - 2))
        nodes.insert(j + 1, pb.sibling[p])
        nodes.insert(i + 1, p)
    r = Route(nodes)
    ok = update(pb, r)
    served = set(reqs) | {pb.sibling[p] for p in reqs}
    rep = checker.check(inst, [r.customers])
    own_errors = [e for e in rep.errors if "never visited" not in e]
    assert ok == (not own_errors), (nodes, rep.errors)
    assert r.cost == pytest.approx(rep.distance)
    assert set(r.customers) == served


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), k=st.integers(0, 4))
def test_best_insertion_is_feasible_and_exact(tmp_path_factory, seed, k):
    """The cheapest insertion it reports is feasible and matches a brute-force search."""
    text = make_instance(seed, 6, capacity=45)
    pb = problem_from_text(tmp_path_factory.mktemp("i"), text)
    inst = checker.read_instance(text)
    r = Route([0, 0])
    update(pb, r)
    rng = random.Random(seed)
    reqs = pb.requests
    rng.shuffle(reqs)
    for p in reqs[:k]:  # build a feasible route greedily
        c, i, j = best_insertion(pb, r, p)
        if c < float("inf"):
            insert(pb, r, p, i, j)
    target = next(p for p in reqs if p not in r.nodes)
    c, i, j = best_insertion(pb, r, target)
    # brute force over all positions
    best = float("inf")
    base = r.customers
    d = pb.sibling[target]
    for a in range(len(base) + 1):
        for b in range(a, len(base) + 1):
            cand = base[:a] + [target] + base[a:b] + [d] + base[b:]
            served = [x for x in cand]
            rep = checker.check(inst, [served])
            errs = [e for e in rep.errors if "never visited" not in e]
            if not errs:
                best = min(best, rep.distance - r.cost)
    if best == float("inf"):
        assert c == float("inf")
    else:
        assert c == pytest.approx(best, abs=1e-6)
        insert(pb, r, target, i, j)
        rep = checker.check(inst, [r.customers])
        assert not [e for e in rep.errors if "never visited" not in e]


# ------------------------------------------------------------------ the solver


def test_solver_on_a_random_instance_is_feasible(tmp_path):
    text = make_instance(7, 12)
    pb = problem_from_text(tmp_path, text)
    sol = solve(pb, time_limit=1.0, seed=1)
    rep = checker.check(checker.read_instance(text), sol.routes)
    assert sol.feasible and rep.ok, rep.errors
    assert rep.vehicles == sol.vehicles
    assert rep.distance == pytest.approx(sol.distance)


def test_solver_is_deterministic_with_a_seed(tmp_path):
    pb = problem_from_text(tmp_path, make_instance(11, 8))
    a = solve(pb, time_limit=1.0, seed=5, ticks=1500)
    b = solve(pb, time_limit=1.0, seed=5, ticks=1500)
    assert a.routes == b.routes
    assert a.distance == b.distance


@pytest.mark.skipif(not (LILIM / "lc101.txt").exists(), reason="Li & Lim data not present")
def test_solver_on_lc101_is_feasible_and_near_best_known():
    pb = load_lilim(LILIM / "lc101.txt")
    sol = solve(pb, time_limit=2.0, seed=0)
    rep = checker.check(checker.read_instance_file(LILIM / "lc101.txt"), sol.routes)
    assert rep.ok, rep.errors
    assert rep.vehicles <= 11  # best known: 10 vehicles, 828.94
    assert rep.distance == pytest.approx(sol.distance)


def test_haversine_problem_builds_metre_and_second_matrices():
    lat = [31.2304, 31.2400, 31.2500]
    lng = [121.4737, 121.4800, 121.4900]
    pb = Problem.from_points(
        name="city", x=lat, y=lng, demand=[0, 1, -1], early=[0, 0, 0],
        late=[3600, 3600, 3600], service=[0, 60, 60], sibling=[0, 2, 1], capacity=3,
        max_vehicles=1, metric=haversine_matrix, speed=5.0,
    )
    assert 1000 < pb.dist[0][1] < 1300  # ~1.2 km
    assert pb.time[0][1] == pytest.approx(pb.dist[0][1] / 5.0)
    assert pb.requests == [1]
    sol = solve(pb, time_limit=0.2)
    assert sol.routes == [[1, 2]]
