"""The PDPTW model.

Node 0 is the depot (start and end of every vehicle). Every other node is either a pickup
(demand > 0) or a delivery (demand < 0) of exactly one request; a request is identified by
its pickup node. Times and windows are in the same unit as the travel-time matrix
(minutes in Li & Lim, seconds for the live dispatcher); costs use the distance matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

Metric = Callable[[np.ndarray, np.ndarray], np.ndarray]


def euclidean_matrix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Plain Euclidean distances (no rounding), as in Li & Lim."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])


EARTH_RADIUS_M = 6_371_008.8


def haversine_matrix(lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    """Great-circle distances in metres; ``x`` = latitude, ``y`` = longitude in degrees."""
    la = np.radians(np.asarray(lat, dtype=float))
    lo = np.radians(np.asarray(lng, dtype=float))
    dla = la[:, None] - la[None, :]
    dlo = lo[:, None] - lo[None, :]
    h = np.sin(dla / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin(dlo / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass
class Problem:
    """A PDPTW instance.

    ``dist`` (cost) and ``time`` (travel time) are full matrices over the nodes; build them
    with :meth:`from_points` and any metric (Euclidean, haversine, a road-network lookup).
    ``sibling[v]`` is the partner of a pickup or delivery node. ``triangle`` tells the
    solver that travel times satisfy the triangle inequality, which lets the insertion
    search stop early and guarantees that removing a request never breaks a route.
    """

    name: str
    x: list[float]
    y: list[float]
    demand: list[int]
    early: list[float]
    late: list[float]
    service: list[float]
    sibling: list[int]
    is_pickup: list[bool]
    capacity: int
    max_vehicles: int
    dist: list[list[float]] = field(repr=False)
    time: list[list[float]] = field(repr=False)
    triangle: bool = True

    @property
    def n(self) -> int:
        return len(self.x)

    @property
    def requests(self) -> list[int]:
        """Pickup nodes, one per request."""
        return [v for v in range(1, self.n) if self.is_pickup[v]]

    def delivery_of(self, pickup: int) -> int:
        return self.sibling[pickup]

    @classmethod
    def from_points(
        cls,
        *,
        name: str,
        x: Sequence[float],
        y: Sequence[float],
        demand: Sequence[int],
        early: Sequence[float],
        late: Sequence[float],
        service: Sequence[float],
        sibling: Sequence[int],
        capacity: int,
        is_pickup: Sequence[bool] | None = None,
        max_vehicles: int,
        metric: Metric = euclidean_matrix,
        speed: float = 1.0,
        triangle: bool = True,
    ) -> Problem:
        """Build the matrices with ``metric`` (distance) and ``distance / speed`` (time)."""
        d = np.asarray(metric(np.asarray(x, float), np.asarray(y, float)), dtype=float)
        t = d / float(speed)
        return cls(
            name=name,
            x=[float(v) for v in x],
            y=[float(v) for v in y],
            demand=[int(v) for v in demand],
            early=[float(v) for v in early],
            late=[float(v) for v in late],
            service=[float(v) for v in service],
            sibling=[int(v) for v in sibling],
            is_pickup=(
                [bool(v) for v in is_pickup] if is_pickup is not None
                else [i > 0 and demand[i] > 0 for i in range(len(x))]
            ),
            capacity=int(capacity),
            max_vehicles=int(max_vehicles),
            dist=d.tolist(),
            time=t.tolist(),
            triangle=triangle,
        )


def load_lilim(path: str | Path) -> Problem:
    """Read a Li & Lim instance file (``K Q S`` then one tab-separated line per node)."""
    path = Path(path)
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    k, q, speed = (float(v) for v in lines[0][:3])
    rows = sorted((ln for ln in lines[1:]), key=lambda r: int(r[0]))
    n = len(rows)
    x, y, dem, e, late, s, sib, pick = ([] for _ in range(8))
    for i, r in enumerate(rows):
        if int(r[0]) != i:
            raise ValueError(f"{path.name}: node ids must be 0..{n - 1}")
        x.append(float(r[1]))
        y.append(float(r[2]))
        dem.append(int(float(r[3])))
        e.append(float(r[4]))
        late.append(float(r[5]))
        s.append(float(r[6]))
        p_sib, d_sib = int(r[7]), int(r[8])
        sib.append(d_sib if d_sib else p_sib)
        pick.append(i > 0 and d_sib > 0)
    return Problem.from_points(
        name=path.stem, x=x, y=y, demand=dem, early=e, late=late, service=s, sibling=sib,
        is_pickup=pick, capacity=int(q), max_vehicles=int(k), speed=speed or 1.0,
    )
