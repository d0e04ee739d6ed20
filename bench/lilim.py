"""Li & Lim PDPTW benchmark (100-task instances) for the dispatch route optimiser.

    .venv/bin/python bench/lilim.py [--time-limit 30] [--instances 'lc1*'] [--seed 0]
                                    [--no-ortools] [--data DIR]

For every instance: the engine (``linli.delivery.routing.solve``) and, when ``ortools`` is
importable, an OR-Tools baseline (pickup-and-delivery routing with time-window and
capacity dimensions, guided local search) get the same wall-clock limit on one core.
Both answers are verified by the independent checker (``routing.checker``) and compared
with the best-known solutions in ``bks.csv`` (fewest vehicles first, then distance).
The data directory defaults to ``$LILIM_DIR`` or ``../shared/data/lilim``.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from linli.delivery.routing import checker  # noqa: E402
from linli.delivery.routing.alns import solve  # noqa: E402
from linli.delivery.routing.model import Problem, load_lilim  # noqa: E402

DEFAULT_DIR = ROOT.parent / "shared" / "data" / "lilim"


def solve_ortools(pb: Problem, time_limit: float) -> tuple[list[list[int]] | None, str]:
    """OR-Tools baseline; times are scaled by 1000 and rounded *up* (never optimistic)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    scale = 1000
    n, fleet = pb.n, pb.max_vehicles
    dist = [[round(d * scale) for d in row] for row in pb.dist]
    trav = [
        [math.ceil(t * scale - 1e-6) + round(pb.service[i] * scale) for t in row]
        for i, row in enumerate(pb.time)
    ]
    manager = pywrapcp.RoutingIndexManager(n, fleet, 0)
    routing = pywrapcp.RoutingModel(manager)
    node = manager.IndexToNode

    dist_cb = routing.RegisterTransitCallback(lambda a, b: dist[node(a)][node(b)])
    time_cb = routing.RegisterTransitCallback(lambda a, b: trav[node(a)][node(b)])
    dem_cb = routing.RegisterUnaryTransitCallback(lambda a: pb.demand[node(a)])
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    # vehicles first: a route costs more than any distance it could save
    routing.SetFixedCostOfAllVehicles(10 * sum(max(row) for row in dist))
    horizon = math.ceil(pb.late[0] * scale)
    routing.AddDimension(time_cb, horizon, horizon, False, "Time")
    tdim = routing.GetDimensionOrDie("Time")
    routing.AddDimensionWithVehicleCapacity(dem_cb, 0, [pb.capacity] * fleet, True, "Load")
    for v in range(1, n):
        idx = manager.NodeToIndex(v)
        tdim.CumulVar(idx).SetRange(round(pb.early[v] * scale), round(pb.late[v] * scale))
    for k in range(fleet):
        tdim.CumulVar(routing.Start(k)).SetRange(round(pb.early[0] * scale), horizon)
        tdim.CumulVar(routing.End(k)).SetRange(round(pb.early[0] * scale), horizon)
    solver = routing.solver()
    for p in pb.requests:
        pi, di = manager.NodeToIndex(p), manager.NodeToIndex(pb.sibling[p])
        routing.AddPickupAndDelivery(pi, di)
        solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
        solver.Add(tdim.CumulVar(pi) <= tdim.CumulVar(di))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(time_limit * 1000))
    sol = routing.SolveWithParameters(params)
    if sol is None:
        return None, f"status {routing.status()}"
    routes = []
    for k in range(fleet):
        idx = sol.Value(routing.NextVar(routing.Start(k)))
        route = []
        while not routing.IsEnd(idx):
            route.append(node(idx))
            idx = sol.Value(routing.NextVar(idx))
        if route:
            routes.append(route)
    return routes, "ok"


def read_bks(path: Path) -> dict[str, tuple[int, float]]:
    with path.open() as f:
        return {r["instance"]: (int(r["vehicles"]), float(r["distance"])) for r in csv.DictReader(f)}


def better(a: tuple[bool, int, float], b: tuple[bool, int, float]) -> int:
    """+1 if a beats b (feasible first, then fewer vehicles, then distance), -1, or 0."""
    ka = (not a[0], a[1], round(a[2], 2))
    kb = (not b[0], b[1], round(b[2], 2))
    return (ka < kb) - (ka > kb)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=30.0, help="seconds per instance and solver")
    ap.add_argument("--instances", default="*", help="glob on instance names, e.g. 'lc1*'")
    ap.add_argument("--data", default=os.environ.get("LILIM_DIR", str(DEFAULT_DIR)))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-ortools", action="store_true")
    ap.add_argument("--json", help="also write per-instance results to this file")
    args = ap.parse_args(argv)

    data = Path(args.data)
    bks = read_bks(data / "bks.csv")
    files = sorted(
        p for p in data.glob("*.txt") if fnmatch.fnmatch(p.stem, args.instances)
    )
    if not files:
        print(f"no instance matches {args.instances!r} in {data}", file=sys.stderr)
        return 2
    use_ortools = not args.no_ortools
    if use_ortools:
        try:
            import ortools  # noqa: F401
        except ImportError:
            print("ortools is not importable: baseline skipped")
            use_ortools = False

    print(f"Li & Lim PDPTW: {len(files)} instances from {data}, {args.time_limit:g} s each "
          f"per solver, seed {args.seed}, ortools={'yes' if use_ortools else 'no'}")
    hdr = (f"{'instance':<8} {'solver':<8} {'veh':>4} {'distance':>9} {'bks':>4} {'bks dist':>9} "
           f"{'gap %':>7} {'feasible':<8} {'secs':>5} {'cpu':>5}")
    print(hdr)
    print("-" * len(hdr))
    results = []
    t_all = time.perf_counter()
    for i, path in enumerate(files, 1):
        name = path.stem
        print(f"[{i}/{len(files)}] {name}", file=sys.stderr, flush=True)
        pb = load_lilim(path)
        inst = checker.read_instance_file(path)
        bv, bd = bks.get(name, (0, float("nan")))
        row: dict = {"instance": name, "bks_vehicles": bv, "bks_distance": bd}
        runs = [("engine", None)]
        if use_ortools:
            runs.append(("ortools", None))
        for solver_name, _ in runs:
            t = time.perf_counter()
            cpu = time.process_time()
            if solver_name == "engine":
                sol = solve(pb, args.time_limit, seed=args.seed)
                routes, note = sol.routes, ("ok" if sol.feasible else "unassigned requests")
            else:
                routes, note = solve_ortools(pb, args.time_limit)
            secs = time.perf_counter() - t
            cpu = time.process_time() - cpu
            if routes is None:
                rep = checker.Report(ok=False, vehicles=0, distance=float("inf"), errors=[note])
            else:
                rep = checker.check(inst, routes)
            gap = (rep.distance - bd) / bd * 100 if rep.ok and rep.vehicles == bv else None
            row[solver_name] = {
                "vehicles": rep.vehicles, "distance": rep.distance, "feasible": rep.ok,
                "gap": gap, "seconds": secs, "cpu_seconds": cpu, "errors": rep.errors[:5],
            }
            print(f"{name:<8} {solver_name:<8} {rep.vehicles:>4} {rep.distance:>9.2f} {bv:>4} "
                  f"{bd:>9.2f} {'' if gap is None else f'{gap:7.2f}':>7} "
                  f"{'yes' if rep.ok else 'NO':<8} {secs:>5.1f} {cpu:>5.1f}"
                  + ("" if rep.ok else f"  {'; '.join(rep.errors[:3])}"), flush=True)
        results.append(row)

    print()
    print(f"Totals over {len(results)} instances ({time.perf_counter() - t_all:.0f} s wall):")
    solvers = ["engine"] + (["ortools"] if use_ortools else [])
    for s in solvers:
        rs = [r[s] for r in results]
        feas = sum(x["feasible"] for x in rs)
        at_bks = sum(x["feasible"] and x["vehicles"] <= r["bks_vehicles"]
                     for x, r in zip(rs, results, strict=True))
        gaps = [x["gap"] for x in rs if x["gap"] is not None]
        extra = sum(x["vehicles"] - r["bks_vehicles"] for x, r in zip(rs, results, strict=True)
                    if x["feasible"])
        print(f"  {s:<8} feasible {feas}/{len(rs)}; best-known vehicle count on {at_bks}/{len(rs)} "
              f"({100 * at_bks / len(rs):.1f}%); extra vehicles in total {extra}; "
              f"mean gap {statistics.fmean(gaps) if gaps else float('nan'):.2f}% "
              f"(max {max(gaps) if gaps else float('nan'):.2f}%) over {len(gaps)} instances "
              f"at the best-known count; gap <= 0.01% on "
              f"{sum(g <= 0.01 for g in gaps)}; mean CPU {statistics.fmean(x['cpu_seconds'] for x in rs):.1f} s "
              f"of {args.time_limit:g} s wall")
    if use_ortools:
        w = [better(
            (r["engine"]["feasible"], r["engine"]["vehicles"], r["engine"]["distance"]),
            (r["ortools"]["feasible"], r["ortools"]["vehicles"], r["ortools"]["distance"]))
            for r in results]
        print(f"  engine vs OR-Tools (feasible, vehicles, distance): wins {w.count(1)}, "
              f"ties {w.count(0)}, losses {w.count(-1)}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
