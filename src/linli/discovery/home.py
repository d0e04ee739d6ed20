"""The home feed of a city: operator banners, category navigation, hot stores, and the
stores nearest the consumer.

The city-wide parts are the same for everyone in the city, so they are cached for a
minute per city (Redis in production, shared by every app process); "open now" is
still worked out per request from the cached hours. "Near you" depends on the point and
is never cached: it widens its search ring (500 m, 1.5 km, 3 km) until it has ten
stores, so a dense city centre reads a few dozen rows, not thousands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from linli.merchants.hours import open_in_zone
from linli.merchants.models import Store, StoreCategory

from .geo import bounding_box, haversine_m
from .models import Banner, HotStore

HOME_CACHE_SECONDS = 60
HOT_STORES = 10
NEAR_YOU = 10
NEAR_YOU_RINGS_M = (500, 1500, 3000)
_STORE_FIELDS = ("pk", "public_id", "name", "category__slug", "rating", "sales_30d",
                 "avg_price_fen", "status", "opening_hours", "special_hours", "timezone")


@dataclass(frozen=True)
class HomeBanner:
    id: str
    title: str
    image_url: str | None
    link: str


@dataclass(frozen=True)
class HomeCategory:
    slug: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class HotStoreItem:
    id: str
    name: str
    category: str
    rating: float
    sales_30d: int
    avg_price_fen: int
    is_open: bool
    featured: bool  # placed by an operator, not just among the city's best sellers


@dataclass(frozen=True)
class NearStore:
    id: str
    name: str
    category: str
    distance_m: int
    rating: float
    is_open: bool


@dataclass(frozen=True)
class HomeFeed:
    banners: list[HomeBanner]
    categories: list[HomeCategory]
    hot_stores: list[HotStoreItem]
    near_you: list[NearStore]


def _is_open(row: dict[str, Any], at: datetime) -> bool:
    return row["status"] == Store.Status.OPEN and open_in_zone(
        row["opening_hours"], row["special_hours"], row["timezone"], at)


def _city_parts(*, city_code: str, now: datetime) -> dict[str, Any]:
    """Banners, categories and hot stores as plain data (what the cache holds)."""
    banners = [
        {"id": b.public_id, "title": b.title, "image_url": b.image.url if b.image else None,
         "link": b.link}
        for b in Banner.objects.filter(city_code=city_code, is_active=True, starts_at__lte=now,
                                       ends_at__gt=now).order_by("sort", "id")
    ]
    categories = list(StoreCategory.objects.order_by("sort", "slug").values("slug", "name_zh", "name_en"))
    featured_ids = list(
        HotStore.objects.filter(city_code=city_code, starts_at__lte=now, ends_at__gt=now)
        .exclude(store__status=Store.Status.CLOSED).order_by("sort", "id")
        .values_list("store_id", flat=True)
    )
    featured_ids = list(dict.fromkeys(featured_ids))[:HOT_STORES]
    by_pk = {r["pk"]: r for r in Store.objects.filter(pk__in=featured_ids).values(*_STORE_FIELDS)}
    hot = [{**by_pk[pk], "featured": True} for pk in featured_ids]
    if len(hot) < HOT_STORES:
        best = (Store.objects.filter(city_code=city_code).exclude(status=Store.Status.CLOSED)
                .exclude(pk__in=featured_ids).order_by("-sales_30d", "pk")
                .values(*_STORE_FIELDS)[:HOT_STORES - len(hot)])
        hot += [{**row, "featured": False} for row in best]
    return {"banners": banners, "categories": categories, "hot_stores": hot}


def _near_you(*, city_code: str, lat: float, lng: float, now: datetime) -> list[NearStore]:
    nearest: list[tuple[float, int]] = []
    for radius in NEAR_YOU_RINGS_M:
        min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius)
        rows = (Store.objects.filter(city_code=city_code, lat__range=(min_lat, max_lat),
                                     lng__range=(min_lng, max_lng))
                .exclude(status=Store.Status.CLOSED).values_list("pk", "lat", "lng"))
        nearest = sorted((round(d, 3), pk) for pk, s_lat, s_lng in rows
                         if (d := haversine_m(lat, lng, s_lat, s_lng)) <= radius)
        if len(nearest) >= NEAR_YOU:
            break
    nearest = nearest[:NEAR_YOU]
    rows = {r["pk"]: r for r in Store.objects.filter(pk__in=[pk for _, pk in nearest]).values(*_STORE_FIELDS)}
    return [NearStore(id=rows[pk]["public_id"], name=rows[pk]["name"],
                      category=rows[pk]["category__slug"], distance_m=round(distance),
                      rating=float(rows[pk]["rating"]), is_open=_is_open(rows[pk], now))
            for distance, pk in nearest]


def home_feed(*, city_code: str, lat: float | None = None, lng: float | None = None,
              now: datetime | None = None) -> HomeFeed:
    """The feed for a city (and a point, for "near you"). An explicit `now` bypasses the
    cache: it asks about another moment than the cached one."""
    at = now or timezone.now()
    key = f"discovery:home:{city_code}"
    parts = cache.get(key) if now is None else None
    if parts is None:
        parts = _city_parts(city_code=city_code, now=at)
        if now is None:
            cache.set(key, parts, timeout=HOME_CACHE_SECONDS)
    hot = [HotStoreItem(id=r["public_id"], name=r["name"], category=r["category__slug"],
                        rating=float(r["rating"]), sales_30d=r["sales_30d"],
                        avg_price_fen=r["avg_price_fen"], is_open=_is_open(r, at),
                        featured=r["featured"])
           for r in parts["hot_stores"]]
    near = (_near_you(city_code=city_code, lat=lat, lng=lng, now=at)
            if lat is not None and lng is not None else [])
    return HomeFeed(banners=[HomeBanner(**b) for b in parts["banners"]],
                    categories=[HomeCategory(**c) for c in parts["categories"]],
                    hot_stores=hot, near_you=near)
