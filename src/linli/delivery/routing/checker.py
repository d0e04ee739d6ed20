"""Independent PDPTW feasibility checker.

Written separately from the solver's evaluation (:mod:`.routes`) and sharing no code with
it: it reads the instance text itself, recomputes every distance with ``math.hypot`` and
simulates each vehicle from the depot and back. Used by the tests and by
``bench/lilim.py`` to verify the engine's and OR-Tools' answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

TOL = 1e-6


@dataclass(frozen=True)
class Site:
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float
    pickup_of: int  # for a delivery: its pickup node, else 0
    delivery_of: int  # for a pickup: its delivery node, else 0


@dataclass
class Instance:
    capacity: int
    fleet: int
    sites: dict[int, Site]


@dataclass
class Report:
    ok: bool
    vehicles: int
    distance: float
    errors: list[str] = field(default_factory=list)


def read_instance(text: str) -> Instance:
    rows = [line.split() for line in text.strip().splitlines()]
    fleet, capacity = int(float(rows[0][0])), int(float(rows[0][1]))
    sites = {}
    for r in rows[1:]:
        if not r:
            continue
        sites[int(r[0])] = Site(
            float(r[1]), float(r[2]), int(float(r[3])), float(r[4]), float(r[5]),
            float(r[6]), int(r[7]), int(r[8]),
        )
    return Instance(capacity=capacity, fleet=fleet, sites=sites)


def read_instance_file(path: str | Path) -> Instance:
    return read_instance(Path(path).read_text())


def check(inst: Instance, routes: list[list[int]], *, depot: int = 0) -> Report:
    """Verify ``routes`` (customer nodes, without the depot) against ``inst``.

    Checks: only known customer nodes, each visited exactly once (so every request is
    served exactly once); pickup and its delivery on the same vehicle with the pickup
    first; load within [0, capacity] all along; service starts within the time window
    (arriving early means waiting); back at the depot before it closes; fleet size.
    """
    errors: list[str] = []
    s = inst.sites
    home = s[depot]
    seen: dict[int, int] = {}
    total = 0.0
    used = 0
    for vi, route in enumerate(routes):
        if not route:
            continue
        used += 1
        clock = home.ready
        load = 0
        here = home
        position: dict[int, int] = {}
        for pos, node in enumerate(route):
            if node == depot or node not in s:
                errors.append(f"vehicle {vi}: unknown or depot node {node} inside the route")
                continue
            if node in seen:
                errors.append(f"node {node} visited twice (vehicles {seen[node]} and {vi})")
            seen[node] = vi
            position[node] = pos
            site = s[node]
            leg = math.hypot(site.x - here.x, site.y - here.y)
            total += leg
            clock = max(clock + here.service + leg, site.ready)
            if clock > site.due + TOL:
                errors.append(
                    f"vehicle {vi}: node {node} served at {clock:.2f} after its due {site.due}"
                )
            load += site.demand
            if load > inst.capacity:
                errors.append(f"vehicle {vi}: load {load} over capacity at node {node}")
            if load < 0:
                errors.append(f"vehicle {vi}: negative load at node {node}")
            here = site
        leg = math.hypot(home.x - here.x, home.y - here.y)
        total += leg
        back = clock + here.service + leg
        if back > home.due + TOL:
            errors.append(f"vehicle {vi}: back at the depot at {back:.2f} after {home.due}")
        for node, pos in position.items():
            site = s[node]
            if site.delivery_of:
                partner = site.delivery_of
                if partner not in position:
                    errors.append(f"vehicle {vi}: pickup {node} without its delivery {partner}")
                elif position[partner] < pos:
                    errors.append(f"vehicle {vi}: delivery {partner} before pickup {node}")
            elif site.pickup_of and site.pickup_of not in position:
                errors.append(f"vehicle {vi}: delivery {node} without its pickup {site.pickup_of}")
    missing = sorted(n for n in s if n != depot and n not in seen)
    if missing:
        errors.append(f"{len(missing)} node(s) never visited: {missing[:10]}")
    if used > inst.fleet:
        errors.append(f"{used} vehicles used, fleet is {inst.fleet}")
    return Report(ok=not errors, vehicles=used, distance=total, errors=errors)
