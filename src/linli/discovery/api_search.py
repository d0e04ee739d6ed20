"""/search and /home: parse, call one selector, shape the answer."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from linli.core.errors import InvalidInput

from .home import home_feed
from .search import store_search

router = Router(tags=["search"])


class SearchQuery(Schema):
    # Length is checked by the service, so an empty or overlong text gets its own code.
    q: str = Field("", description="1 to 50 characters: Chinese, pinyin, initials or Latin")
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    radius_m: int = Field(5000, ge=1, le=50_000)
    category: str | None = Field(None, max_length=32)
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(20, ge=1, le=50)


class FoundStoreOut(Schema):
    id: str
    name: str
    category: str
    distance_m: int
    rating: float
    is_open: bool


class FoundProductOut(Schema):
    id: str
    name: str
    price_fen: int


class SearchItemOut(Schema):
    store: FoundStoreOut
    matched_products: list[FoundProductOut]
    score: float


class SearchOut(Schema):
    items: list[SearchItemOut]
    next: str | None
    corrected_query: str | None


class HomeQuery(Schema):
    city: str = Field(pattern=r"^[a-z_]{2,16}$")
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


class BannerOut(Schema):
    id: str
    title: str
    image_url: str | None
    link: str


class StoreCategoryOut(Schema):
    slug: str
    name_zh: str
    name_en: str


class HotStoreOut(Schema):
    id: str
    name: str
    category: str
    rating: float
    sales_30d: int
    avg_price_fen: int
    is_open: bool
    featured: bool


class NearStoreOut(Schema):
    id: str
    name: str
    category: str
    distance_m: int
    rating: float
    is_open: bool


class HomeOut(Schema):
    banners: list[BannerOut]
    categories: list[StoreCategoryOut]
    hot_stores: list[HotStoreOut]
    near_you: list[NearStoreOut]


@router.get("/search", response=SearchOut,
            summary="Stores near a point matching a text, grouped with their matching dishes")
def search(request: HttpRequest, q: Query[SearchQuery]) -> HttpResponse:
    page = store_search(q=q.q, lat=q.lat, lng=q.lng, radius_m=q.radius_m, category=q.category,
                        limit=q.limit, cursor=q.cursor)
    # Answered as JSON directly, encoded once per page (cached pages too); a test holds
    # the answer to SearchOut.
    return HttpResponse(page.as_json, content_type="application/json")


@router.get("/home", response=HomeOut, tags=["home"],
            summary="A city's banners, categories, hot stores, and the stores near you")
def home(request: HttpRequest, q: Query[HomeQuery]) -> dict[str, Any]:
    if (q.lat is None) != (q.lng is None):
        raise InvalidInput(fields=["lat", "lng"], reason="give both or neither")
    return asdict(home_feed(city_code=q.city, lat=q.lat, lng=q.lng))
