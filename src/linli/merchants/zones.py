"""Delivery areas and fees, pure Python (no Django): polygon zones and distance tiers.

A zone is a polygon `[[lat, lng], ...]` (at least 3 distinct points, not closed: a last
point equal to the first is dropped). When a store has one it replaces the delivery
radius. Points on the boundary count as inside. Coordinates are treated as a plane
(lng = x, lat = y), which is exact enough at city scale; zones crossing the
antimeridian are not supported.

Fee tiers `[{"max_m": 1000, "fee_fen": 300}, ...]`, ascending by `max_m`: the first tier
whose `max_m` reaches the distance sets the delivery fee; beyond the last tier the store
does not deliver. No tiers: the flat fee applies.
"""

from __future__ import annotations

import math
from typing import Any

Polygon = list[list[float]]
FeeTiers = list[dict[str, int]]

MAX_ZONE_POINTS = 100
MAX_TIERS = 10
MAX_TIER_M = 50_000
MAX_TIER_FEE_FEN = 100_000


class ZoneError(ValueError):
    """An invalid zone polygon; `details["reason"]` says why."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = {"reason": reason, **details}


class FeeTierError(ValueError):
    """Invalid fee tiers; `details["reason"]` says why."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = {"reason": reason, **details}


class BeyondLastTier(ValueError):
    """The distance is past the last fee tier: the store does not deliver there."""

    def __init__(self, *, distance_m: int, max_m: int) -> None:
        super().__init__(f"{distance_m} m is beyond the last tier ({max_m} m)")
        self.distance_m = distance_m
        self.max_m = max_m


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> bool:
    """p lies on segment ab (p is known to be collinear with a and b)."""
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _segments_touch(a: tuple[float, float], b: tuple[float, float],
                    c: tuple[float, float], d: tuple[float, float]) -> bool:
    """Segments ab and cd cross or touch (including collinear overlap)."""
    d1, d2 = _cross(c, d, a), _cross(c, d, b)
    d3, d4 = _cross(a, b, c), _cross(a, b, d)
    if ((d1 > 0) != (d2 > 0)) and d1 != 0 and d2 != 0 and ((d3 > 0) != (d4 > 0)) and d3 != 0 and d4 != 0:
        return True
    return ((d1 == 0 and _on_segment(a, c, d)) or (d2 == 0 and _on_segment(b, c, d))
            or (d3 == 0 and _on_segment(c, a, b)) or (d4 == 0 and _on_segment(d, a, b)))


def zone_validate(points: object) -> Polygon:
    """The polygon as `[[lat, lng], ...]` floats if usable as a delivery zone, else ZoneError:
    3 to 100 distinct points, coordinates in range, a non-zero area, no edge crossing or
    touching another."""
    if not isinstance(points, list | tuple):
        raise ZoneError("not_a_list")
    ring: list[tuple[float, float]] = []
    for index, point in enumerate(points):
        if not (isinstance(point, list | tuple) and len(point) == 2
                and _is_number(point[0]) and _is_number(point[1])):
            raise ZoneError("bad_point", index=index)
        lat, lng = float(point[0]), float(point[1])
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ZoneError("coordinates_out_of_range", index=index)
        ring.append((lat, lng))
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()  # a closed ring is accepted; stored open
    if len(ring) < 3:
        raise ZoneError("too_few_points", min=3)
    if len(ring) > MAX_ZONE_POINTS:
        raise ZoneError("too_many_points", max=MAX_ZONE_POINTS)
    if len(set(ring)) != len(ring):
        raise ZoneError("duplicate_point")
    area2 = sum(_cross((0.0, 0.0), ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring)))
    if area2 == 0:
        raise ZoneError("no_area")
    n = len(ring)
    edges = [(ring[i], ring[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        a, b = edges[i]
        for j in range(i + 1, n):
            c, d = edges[j]
            if j == i + 1 or (i == 0 and j == n - 1):
                # Neighbours share one vertex; they only fail if they fold back onto each other.
                shared, far_i, far_j = (b, a, d) if j == i + 1 else (a, b, c)
                if _cross(shared, far_i, far_j) == 0 and (
                        _on_segment(far_j, shared, far_i) or _on_segment(far_i, shared, far_j)):
                    raise ZoneError("self_intersecting", edges=[i, j])
                continue
            if _segments_touch(a, b, c, d):
                raise ZoneError("self_intersecting", edges=[i, j])
    return [[lat, lng] for lat, lng in ring]


def point_in_polygon(lat: float, lng: float, polygon: Polygon) -> bool:
    """True if (lat, lng) is inside the polygon or on its boundary (ray casting)."""
    n = len(polygon)
    if n < 3:
        return False
    point = (lng, lat)
    inside = False
    j = n - 1
    for i in range(n):
        yi, xi = polygon[i][0], polygon[i][1]
        yj, xj = polygon[j][0], polygon[j][1]
        if _cross((xi, yi), (xj, yj), point) == 0 and _on_segment(point, (xi, yi), (xj, yj)):
            return True
        if (yi > lat) != (yj > lat):
            x_cross = xi + (lat - yi) * (xj - xi) / (yj - yi)
            if lng < x_cross:
                inside = not inside
        j = i
    return inside


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def fee_tiers_validate(tiers: object) -> FeeTiers:
    """Tiers as `[{"max_m": int, "fee_fen": int}, ...]` if valid, else FeeTierError: at most
    10, `max_m` strictly ascending within 1..50 000, `fee_fen` within 0..100 000."""
    if not isinstance(tiers, list | tuple):
        raise FeeTierError("not_a_list")
    if len(tiers) > MAX_TIERS:
        raise FeeTierError("too_many_tiers", max=MAX_TIERS)
    out: FeeTiers = []
    for index, tier in enumerate(tiers):
        if not (isinstance(tier, dict) and set(tier) == {"max_m", "fee_fen"}):
            raise FeeTierError("bad_tier", index=index)
        max_m, fee_fen = tier["max_m"], tier["fee_fen"]
        if not (_whole(max_m) and 1 <= max_m <= MAX_TIER_M):
            raise FeeTierError("bad_distance", index=index, max=MAX_TIER_M)
        if not (_whole(fee_fen) and 0 <= fee_fen <= MAX_TIER_FEE_FEN):
            raise FeeTierError("bad_fee", index=index, max=MAX_TIER_FEE_FEN)
        if out and max_m <= out[-1]["max_m"]:
            raise FeeTierError("not_ascending", index=index)
        out.append({"max_m": max_m, "fee_fen": fee_fen})
    return out


def delivery_fee_for(tiers: FeeTiers, flat_fee_fen: int, distance_m: int) -> int:
    """The delivery fee for this distance; BeyondLastTier past the last tier."""
    if not tiers:
        return flat_fee_fen
    for tier in tiers:
        if distance_m <= tier["max_m"]:
            return tier["fee_fen"]
    raise BeyondLastTier(distance_m=distance_m, max_m=tiers[-1]["max_m"])
