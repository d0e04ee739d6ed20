"""Repositioning: send idle riders towards where orders are appearing (hot spots), as the
platforms do ("go to the mall at X, orders are coming in there"). Pure (+ h3, numpy).

Input: the idle riders (nothing to do, on shift) and the pickup points of the orders
placed in the last few minutes. The pickups are bucketed by H3 cell (`h3_res`); a cell's
hot spot is the mean of its pickups, and it expects `count x lead_s / window_s` orders in
the next `lead_s`. Idle riders within `near_m` of a hot spot are its supply and stay where
they are; the others (idling where nothing is ordered) are free. A hot spot short of
riders (expected orders - supply) draws free riders, nearest pairs first, within
`radius_m`. Output: rider id -> the hot spot to ride to. A rider who gets an order stops
repositioning (the caller's business).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import h3
import numpy as np

from .dispatch_insertion import _Frame


@dataclass(frozen=True)
class RepositionSettings:
    window_s: float = 10 * 60   # the recent pickups cover this long
    lead_s: float = 5 * 60      # a hot spot wants riders for the orders of the next lead_s
    near_m: float = 800.0       # an idle rider this close to a hot spot serves it already
    radius_m: float = 3000.0    # farthest a rider is sent
    h3_res: int = 7             # hot spot cells (res 7: about 5 km2)


def reposition(idle: Sequence[tuple[str, float, float]], recent_pickups: Sequence[tuple[float, float]],
               cfg: RepositionSettings | None = None) -> dict[str, tuple[float, float]]:
    """Idle riders `(id, lat, lng)` to send, with the point (lat, lng) to ride to."""
    cfg = cfg or RepositionSettings()
    if not idle or not recent_pickups:
        return {}
    cells: dict[str, list[tuple[float, float]]] = {}
    for lat, lng in recent_pickups:
        cells.setdefault(h3.latlng_to_cell(lat, lng, cfg.h3_res), []).append((lat, lng))
    spots = [(sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts), len(pts))
             for _cell, pts in sorted(cells.items())]
    frame = _Frame(spots[0][0])
    sx = np.array([frame.xy(lat, lng)[0] for lat, lng, _n in spots])
    sy = np.array([frame.xy(lat, lng)[1] for lat, lng, _n in spots])
    rx = np.array([frame.xy(lat, lng)[0] for _id, lat, lng in idle])
    ry = np.array([frame.xy(lat, lng)[1] for _id, lat, lng in idle])
    dist = np.hypot(rx[:, None] - sx[None, :], ry[:, None] - sy[None, :])   # riders x spots
    close = dist <= cfg.near_m
    supply = close.sum(axis=0)
    want = np.array([n * cfg.lead_s / cfg.window_s for _lat, _lng, n in spots])
    deficit = np.ceil(want - supply).astype(int)
    free = np.flatnonzero(~close.any(axis=1))
    if not len(free) or not (deficit > 0).any():
        return {}
    sub = dist[free]
    sub[:, deficit <= 0] = np.inf
    sub[sub > cfg.radius_m] = np.inf
    moves: dict[str, tuple[float, float]] = {}
    for flat in np.argsort(sub, axis=None, kind="stable"):
        f, s = divmod(int(flat), sub.shape[1])
        if not np.isfinite(sub[f, s]):
            break
        rider_id = idle[int(free[f])][0]
        if rider_id in moves or deficit[s] <= 0:
            continue
        moves[rider_id] = (spots[s][0], spots[s][1])
        deficit[s] -= 1
    return moves
