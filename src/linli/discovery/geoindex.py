"""An in-memory geo index of stores, pure Python + NumPy (no Django).

Why in memory: a city of 100,000 stores has ~10,000 of them within 5 km of a point in
its centre. Fetching and measuring those rows from the database for every request
costs tens of milliseconds; holding the few numbers ranking needs in NumPy arrays
costs ~100 bytes a store and answers in about a millisecond. The database stays the
truth: `discovery.selectors` refreshes the index from rows changed since its watermark.

Lookup: H3 cells at resolution 7 (~1.4 km edges) bucket the stores; a query takes the
ring of cells that surely covers its circle and keeps only the cells whose centre is
within the radius plus the cell's own reach (the bounding-box step, done per cell:
it drops ~3/4 of the ring), then measures the stores of those cells exactly: the
chord between unit vectors decides in or out without trigonometry, and the great-
circle distance (identical to haversine) is computed for the stores inside only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import h3
import numpy as np

from .geo import EARTH_RADIUS_M

BUCKET_RES = 7
# Smallest edge a resolution-7 cell has anywhere (the average is ~1,406 m; cells vary by
# about ±20 %), so the ring of cells computed from it always covers the query circle.
_MIN_EDGE_M = 1_100.0


@dataclass(frozen=True, slots=True)
class IndexedStore:
    """What ranking and filtering need about one store, plus what its result card shows
    (so a nearby page needs no database read: ~300 bytes a store); the rest stays in
    the database."""

    pk: int
    public_id: str
    lat: float
    lng: float
    category_id: int
    rating: float
    rating_count: int
    sales_30d: int
    avg_price_fen: int
    delivery_radius_m: int
    hours_key: int  # stores with equal hours (and time zone) share a key: open state is computed once per key
    has_zone: bool
    paused: bool
    name: str = ""
    address: str = ""
    tags: tuple[str, ...] = ()
    min_order_fen: int = 0
    delivery_fee_fen: int = 0
    prep_minutes: int = 0
    stamp: float = 0.0  # the row's updated_at (Unix seconds): the version of its store page (selectors.store_page_json)


def _cell_int(lat: float, lng: float) -> int:
    return h3.str_to_int(h3.latlng_to_cell(lat, lng, BUCKET_RES))


def ring_for_radius(radius_m: float) -> int:
    """k such that the k-ring of cells around a point's cell covers a circle of radius_m.

    Centres of cells k rings apart are at least 1.5·k·edge apart, and the point may be
    up to one edge from its cell's centre (likewise a store from its own), hence +2 edges.
    """
    return max(1, math.ceil((radius_m + 2 * _MIN_EDGE_M) / (1.5 * _MIN_EDGE_M)))


@dataclass(frozen=True)
class _Disk:
    """The k-ring around a cell: its cells (as integers), their centres and circumradii."""

    cells: tuple[int, ...]
    lat: np.ndarray
    lng: np.ndarray
    reach: np.ndarray  # metres from a cell's centre to its farthest vertex, plus slack


@lru_cache(maxsize=8192)
def _disk(origin: str, k: int) -> _Disk:
    """Pure geometry, so cached: a city has a few thousand resolution-7 cells, and
    building a ring with its centres costs a millisecond."""
    cells = h3.grid_disk(origin, k)
    centres = [h3.cell_to_latlng(c) for c in cells]
    reach = [max(_haversine(la, ln, vla, vln) for vla, vln in h3.cell_to_boundary(c)) * 1.01 + 1.0
             for c, (la, ln) in zip(cells, centres, strict=True)]
    return _Disk(cells=tuple(h3.str_to_int(c) for c in cells),
                 lat=np.array([c[0] for c in centres]), lng=np.array([c[1] for c in centres]),
                 reach=np.array(reach))


def _unit(lat: Any, lng: Any) -> tuple[Any, Any, Any]:
    """(x, y, z) on the unit sphere of latitudes/longitudes (scalars or arrays)."""
    p, q = np.radians(lat), np.radians(lng)
    return np.cos(p) * np.cos(q), np.cos(p) * np.sin(q), np.sin(p)


def _haversine(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _distances(lat: float, lng: float, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
    """Haversine metres from one point to many, vectorised."""
    p1, p2 = math.radians(lat), np.radians(lats)
    a = (np.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * np.cos(p2) * np.sin(np.radians(lngs - lng) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


class GeoIndex:
    """Stores by position. Not thread-safe for writes: callers serialise refreshes."""

    def __init__(self) -> None:
        self._rows: list[IndexedStore] = []
        self._pos: dict[int, int] = {}
        self._free: list[int] = []
        self._dirty = True
        self._cells = np.empty(0, dtype=np.int64)
        self.version = 0  # bumped by every row written or removed: caches derived from the index key on it

    def __len__(self) -> int:
        return len(self._pos)

    # --- writes ---------------------------------------------------------------------
    def upsert(self, stores: Iterable[IndexedStore]) -> None:
        for store in stores:
            self.version += 1
            at = self._pos.get(store.pk)
            if at is None:
                at = self._free.pop() if self._free else len(self._rows)
                if at == len(self._rows):
                    self._rows.append(store)
                else:
                    self._rows[at] = store
                self._pos[store.pk] = at
                self._dirty = True
            elif self._dirty or not self._patch(at, store):
                self._rows[at] = store
                self._dirty = True

    def remove(self, pks: Iterable[int]) -> None:
        for pk in pks:
            self.version += 1
            at = self._pos.pop(pk, None)
            if at is not None:
                self._free.append(at)
                self._dirty = True

    def _patch(self, at: int, store: IndexedStore) -> bool:
        """Update one row in place when it stays in its cell; False if a rebuild is needed."""
        if _cell_int(store.lat, store.lng) != int(self._cells[at]):
            return False
        self._rows[at] = store
        self.pk[at] = store.pk
        self.lat[at], self.lng[at] = store.lat, store.lng
        self.x[at], self.y[at], self.z[at] = _unit(store.lat, store.lng)
        self.category[at] = store.category_id
        self.rating[at], self.rating_count[at] = store.rating, store.rating_count
        self.sales[at], self.price[at] = store.sales_30d, store.avg_price_fen
        self.radius[at], self.hours_key[at] = store.delivery_radius_m, store.hours_key
        self.has_zone[at], self.paused[at] = store.has_zone, store.paused
        return True

    def _build(self) -> None:
        rows = self._rows
        n = len(rows)
        live = np.zeros(n, dtype=bool)
        if self._pos:
            live[list(self._pos.values())] = True
        self.live = live
        self.pk = np.array([r.pk for r in rows], dtype=np.int64)
        self.lat = np.array([r.lat for r in rows], dtype=np.float64)
        self.lng = np.array([r.lng for r in rows], dtype=np.float64)
        self.x, self.y, self.z = _unit(self.lat, self.lng)
        self.category = np.array([r.category_id for r in rows], dtype=np.int64)
        self.rating = np.array([r.rating for r in rows], dtype=np.float64)
        self.rating_count = np.array([r.rating_count for r in rows], dtype=np.int64)
        self.sales = np.array([r.sales_30d for r in rows], dtype=np.int64)
        self.price = np.array([r.avg_price_fen for r in rows], dtype=np.int64)
        self.radius = np.array([r.delivery_radius_m for r in rows], dtype=np.float64)
        self.hours_key = np.array([r.hours_key for r in rows], dtype=np.int64)
        self.has_zone = np.array([r.has_zone for r in rows], dtype=bool)
        self.paused = np.array([r.paused for r in rows], dtype=bool)
        self._cells = np.array([_cell_int(r.lat, r.lng) for r in rows], dtype=np.int64)
        order = np.argsort(self._cells[live], kind="stable")
        positions = np.nonzero(live)[0][order]
        cells = self._cells[positions]
        self._buckets: dict[int, np.ndarray] = {}
        if len(cells):
            bounds = np.flatnonzero(np.diff(cells)) + 1
            for chunk in np.split(positions, bounds):
                self._buckets[int(self._cells[chunk[0]])] = chunk
        self._dirty = False

    # --- reads ----------------------------------------------------------------------
    def within(self, lat: float, lng: float, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
        """(positions, distances in metres) of every live store within radius_m."""
        if self._dirty:
            self._build()
        if not self._buckets:
            return np.empty(0, dtype=np.int64), np.empty(0)
        disk = _disk(h3.latlng_to_cell(lat, lng, BUCKET_RES), ring_for_radius(radius_m))
        # A cell can hold a store within the circle only if its centre is within the
        # radius plus the cell's own reach: this drops ~3/4 of the ring before any store
        # is looked at.
        near = _distances(lat, lng, disk.lat, disk.lng) <= radius_m + disk.reach
        chunks = [self._buckets[c] for c in itertools.compress(disk.cells, near.tolist())
                  if c in self._buckets]
        if not chunks:
            return np.empty(0, dtype=np.int64), np.empty(0)
        cand = np.concatenate(chunks)
        # Great-circle distance through the chord between unit vectors: the same value
        # as haversine (d = 2R·asin(chord/2)), but the in/out test needs no trigonometry
        # (chord is monotone in d), and asin runs only on the stores inside.
        qx, qy, qz = _unit(lat, lng)
        dx, dy, dz = self.x[cand] - qx, self.y[cand] - qy, self.z[cand] - qz
        chord2 = dx * dx + dy * dy + dz * dz
        inside = chord2 <= (2 * math.sin(radius_m / (2 * EARTH_RADIUS_M))) ** 2
        chord2 = chord2[inside]
        dist = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(chord2) / 2))
        return cand[inside], np.minimum(dist, radius_m)

    def row(self, position: int) -> IndexedStore:
        return self._rows[position]

    def get(self, pk: int) -> IndexedStore | None:
        at = self._pos.get(pk)
        return None if at is None else self._rows[at]
