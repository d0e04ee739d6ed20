"""The search index's spatial layout, pure Python (no Django): a quadtree over lat/lng whose
cells are named by their path (a quadkey), and the few blocks that cover a search circle.

A document is filed under the quadkey of its finest cell; a block is a key prefix, so a
full-text prefix query on `{token}_{field}{block}` finds every document inside the block
(`search_index.match_text`, docs/search.md).
"""

from __future__ import annotations

import heapq
import math
from functools import lru_cache

from .geo import EARTH_RADIUS_M, bounding_box

QUAD_LEVELS = 17  # finest cell: 360° / 2**17 = 0.00275° (about 300 m north-south, 260 m east-west)
CELL_DEG = 360.0 / 2**QUAD_LEVELS
MAX_BLOCKS = 8  # a circle is covered by at most this many quadtree blocks


def _cell(lat: float, lng: float) -> tuple[int, int]:
    i = min(max(int((lat + 90.0) / CELL_DEG), 0), 2**(QUAD_LEVELS - 1) - 1)
    j = min(max(int((lng + 180.0) / CELL_DEG), 0), 2**QUAD_LEVELS - 1)
    return i, j


# Bit interleaving by bytes: _SPREAD[x] puts the bits of x on the even positions of 16 bits;
# _DIGITS[y] is the byte y as four base-4 digits.
_SPREAD = [sum(((x >> b) & 1) << (2 * b) for b in range(8)) for x in range(256)]
_DIGITS = ["".join(str((y >> s) & 3) for s in (6, 4, 2, 0)) for y in range(256)]


def _quadkey(i: int, j: int, level: int) -> str:
    """Cell (i, j) of the finest grid as the path of its level-`level` ancestor: each digit
    picks a quarter (2 x the row bit + the column bit, coarsest first), so a block's key is
    a prefix of the keys of every cell inside it. The digits are the base-4 figures of the
    cell's Morton code (rows and columns bits interleaved)."""
    morton = 0
    for shift in (0, 8, 16):
        morton |= ((_SPREAD[(i >> shift) & 255] << 1) | _SPREAD[(j >> shift) & 255]) << (2 * shift)
    top = morton >> (2 * (QUAD_LEVELS - level))
    return "".join(_DIGITS[(top >> (8 * k)) & 255] for k in range(4, -1, -1))[20 - level:]


def quadkey(lat: float, lng: float) -> str:
    return _quadkey(*_cell(lat, lng), QUAD_LEVELS)


class _Circle:
    """Distances from one point compared through the haversine term
    `a = sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)`, which grows with the distance
    (d = 2R asin √a): "within r" is `a <= sin²(r / 2R)`. No asin or square root per
    block, the point's trigonometry done once, and each grid line's (blocks share their
    edges) once per cover. A search covers its circle three or four times (its rings),
    each testing ~150 block corners: this was a fifth of a search's CPU."""

    def __init__(self, lat: float, lng: float) -> None:
        self.lat, self.lng = lat, lng
        self.phi = math.radians(lat)
        self.cos_phi = math.cos(self.phi)
        self._rows: dict[float, tuple[float, float]] = {}  # lat -> (sin²(Δφ/2), cos φ cos φ1)
        self._cols: dict[float, float] = {}  # lng -> sin²(Δλ/2)

    @staticmethod
    def term(distance_m: float) -> float:
        return math.sin(min(distance_m / (2 * EARTH_RADIUS_M), math.pi / 2)) ** 2

    def _row(self, lat: float) -> tuple[float, float]:
        row = self._rows.get(lat)
        if row is None:
            s = math.sin((math.radians(lat) - self.phi) / 2)
            row = self._rows[lat] = (s * s, self.cos_phi * math.cos(math.radians(lat)))
        return row

    def _col(self, lng: float) -> float:
        col = self._cols.get(lng)
        if col is None:
            s = math.sin(math.radians(lng - self.lng) / 2)
            col = self._cols[lng] = s * s
        return col

    def near(self, i: int, j: int, shift: int) -> float:
        """The term to the nearest point of block (i, j) of that size."""
        size = CELL_DEG * (1 << shift)
        lat0, lng0 = (i << shift) * CELL_DEG - 90.0, (j << shift) * CELL_DEG - 180.0
        s_lat, cos_cos = self._row(min(max(self.lat, lat0), lat0 + size))
        return s_lat + cos_cos * self._col(min(max(self.lng, lng0), lng0 + size))

    def far(self, i: int, j: int, shift: int) -> float:
        """The term to the farthest corner of block (i, j)."""
        size = CELL_DEG * (1 << shift)
        lat0, lng0 = (i << shift) * CELL_DEG - 90.0, (j << shift) * CELL_DEG - 180.0
        lng_far = max(self._col(lng0), self._col(lng0 + size))  # sin²(Δλ/2) alone decides the column
        (s0, c0), (s1, c1) = self._row(lat0), self._row(lat0 + size)
        return max(s0 + c0 * lng_far, s1 + c1 * lng_far)


def cover(lat: float, lng: float, radius_m: float) -> list[str]:
    """Quadtree blocks (key prefixes) that together cover the circle: start from the few
    coarse blocks around it, then split the biggest ones that stick out of it, as long as
    the count stays within MAX_BLOCKS. Blocks that miss the circle are dropped.

    Every store within radius_m of the point lies in one of the blocks returned (a block is
    kept if any of it may be within radius_m + 1 m: the margin absorbs rounding)."""
    reach = radius_m + 1.0
    circle = _Circle(lat, lng)
    reach_a, radius_a = circle.term(reach), circle.term(radius_m)
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, reach)
    (i0, j0), (i1, j1) = _cell(min_lat, min_lng), _cell(max_lat, max_lng)
    shift = 0
    while ((i1 >> shift) - (i0 >> shift) + 1) * ((j1 >> shift) - (j0 >> shift) + 1) > 4:
        shift += 1
    done: list[tuple[int, int, int]] = []
    todo: list[tuple[int, int, int, int]] = []  # (-shift, i, j, shift): biggest first
    for i in range((i0 >> shift), (i1 >> shift) + 1):
        for j in range((j0 >> shift), (j1 >> shift) + 1):
            if circle.near(i, j, shift) <= reach_a:
                (done.append((i, j, shift)) if shift == 0 or circle.far(i, j, shift) <= radius_a
                 else heapq.heappush(todo, (-shift, i, j, shift)))
    while todo:
        _, i, j, size = heapq.heappop(todo)
        children = []
        for ci in (2 * i, 2 * i + 1):
            for cj in (2 * j, 2 * j + 1):
                if circle.near(ci, cj, size - 1) <= reach_a:
                    children.append((ci, cj, size - 1, size - 1 == 0
                                     or circle.far(ci, cj, size - 1) <= radius_a))
        if len(done) + len(todo) + len(children) > MAX_BLOCKS:
            done.append((i, j, size))  # the budget is spent: keep it whole
            continue
        for ci, cj, child, settled in children:
            (done.append((ci, cj, child)) if settled
             else heapq.heappush(todo, (-child, ci, cj, child)))
    return sorted(_quadkey(i << size, j << size, QUAD_LEVELS - size) for i, j, size in done)


@lru_cache(maxsize=1024)
def cover_blocks(lat: float, lng: float, radius_m: float) -> tuple[str, ...]:
    """`cover`, remembered: a search covers the same rings again for its second chances
    (a corrected spelling), its next pages and the consumer's next query from the same
    spot; a search's four covers are ~0.5 ms of CPU, a fifth of it (issue 15). 1,024
    circles of ~8 short keys: under a megabyte."""
    return tuple(cover(lat, lng, radius_m))
