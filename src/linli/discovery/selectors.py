"""Find stores near a point. Bounding box on the (city, lat, lng) index, then exact
haversine distance, sorted by (distance, id) with an opaque keyset cursor.

The H3 cell on each store is there for the city-scale index of issue 3.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.errors import InvalidInput
from linli.merchants.hours import is_open_at
from linli.merchants.models import Store

from .geo import bounding_box, haversine_m


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"
    message = _("The page cursor is not valid; start again from the first page.")


@dataclass(frozen=True)
class NearbyStore:
    id: str
    name: str
    category: str
    address: str
    distance_m: int
    rating: float
    min_order_fen: int
    delivery_fee_fen: int
    prep_minutes: int
    is_open: bool


def _cursor_encode(distance: float, public_id: str) -> str:
    raw = json.dumps([round(distance, 3), public_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        distance, public_id = json.loads(raw)
        return float(distance), str(public_id)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor() from exc


def store_list_nearby(
    *, lat: float, lng: float, radius_m: int, category: str | None = None,
    cursor: str | None = None, limit: int = 20, now: datetime | None = None,
) -> tuple[list[NearbyStore], str | None]:
    after = _cursor_decode(cursor) if cursor else None
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_m)
    rows = Store.objects.filter(
        status__in=[Store.Status.OPEN, Store.Status.PAUSED],
        lat__range=(min_lat, max_lat), lng__range=(min_lng, max_lng),
    )
    if category:
        rows = rows.filter(category__slug=category)
    scored = []
    for row in rows.values_list("public_id", "lat", "lng"):
        d = haversine_m(lat, lng, row[1], row[2])
        if d <= radius_m:
            key = (round(d, 3), row[0])
            if after is None or key > after:
                scored.append(key)
    scored.sort()
    page = scored[: limit + 1]
    has_more = len(page) > limit
    page = page[:limit]
    stores = {
        s.public_id: s
        for s in Store.objects.select_related("category").filter(public_id__in=[p[1] for p in page])
    }
    now = now or timezone.now()
    items = []
    for distance, public_id in page:
        s = stores[public_id]
        local = now.astimezone(ZoneInfo(s.timezone))
        items.append(NearbyStore(
            id=s.public_id, name=s.name, category=s.category.slug, address=s.address,
            distance_m=round(distance), rating=float(s.rating), min_order_fen=s.min_order_fen,
            delivery_fee_fen=s.delivery_fee_fen, prep_minutes=s.prep_minutes,
            is_open=s.status == Store.Status.OPEN and is_open_at(s.opening_hours, local),
        ))
    next_cursor = _cursor_encode(*page[-1]) if has_more and page else None
    return items, next_cursor
