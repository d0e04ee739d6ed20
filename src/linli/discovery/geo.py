"""Geometry on the sphere, pure Python: distances and bounding boxes."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) enclosing the circle; a prefilter for an index.

    Clamped at ±180° longitude: circles crossing the antimeridian are not supported
    (no city we serve is within 50 km of it)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    coslat = max(math.cos(math.radians(lat)), 1e-6)
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * coslat))
    return lat - dlat, lat + dlat, max(-180.0, lng - dlng), min(180.0, lng + dlng)
