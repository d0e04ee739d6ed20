"""/stores: nearby search, store detail and menu."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field, model_validator

from linli.core.auth import require_operator

from .selectors import nearby_page_json, store_list_nearby, store_page_json

MAX_RADIUS_M = 20_000

router = Router(tags=["stores"])


class NearbyQuery(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    radius_m: int = Field(3000, ge=1, le=MAX_RADIUS_M)
    category: str | None = Field(None, max_length=32, description="a store category slug")
    sort: Literal["distance", "rating", "sales", "smart"] = "distance"
    open_now: bool = False
    delivers_to_me: bool = Field(False, description="only stores that deliver to (lat, lng)")
    min_rating: float | None = Field(None, ge=0, le=5)
    price_min_fen: int | None = Field(None, ge=0, description="average price per person")
    price_max_fen: int | None = Field(None, ge=0)
    cursor: str | None = Field(None, max_length=300)
    limit: int = Field(20, ge=1, le=100)
    debug: bool = Field(False, description="operators only: explain each smart score")

    @model_validator(mode="after")
    def _price_range(self) -> NearbyQuery:
        if (self.price_min_fen is not None and self.price_max_fen is not None
                and self.price_min_fen > self.price_max_fen):
            raise ValueError("price_min_fen must not exceed price_max_fen")
        return self


class ScoreExplanation(Schema):
    score: float
    proximity: float
    quality: float
    bayes_rating: float
    popularity: float
    open_now: float
    weights: list[float]


class NearbyItem(Schema):
    id: str
    name: str
    category: str
    address: str
    distance_m: int
    rating: float
    rating_count: int
    sales_30d: int
    avg_price_fen: int
    min_order_fen: int
    delivery_fee_fen: int
    prep_minutes: int
    is_open: bool
    delivers_to_me: bool
    tags: list[str]
    debug: ScoreExplanation | None = None


class NearbyOut(Schema):
    items: list[NearbyItem]
    next: str | None


class StoreOut(Schema):
    id: str
    name: str
    category: str
    category_name: str
    address: str
    phone: str
    lat: float
    lng: float
    rating: float
    opening_hours: list[list[list[str]]]
    timezone: str
    is_open: bool
    status: str
    delivery_radius_m: int
    min_order_fen: int
    delivery_fee_fen: int
    delivery_fee_tiers: list[dict[str, int]]
    delivery_zone: list[list[float]] | None
    packaging_fee_fen: int
    prep_minutes: int
    rating_count: int
    sales_30d: int
    avg_price_fen: int
    tags: list[str]
    special_hours: dict[str, list[list[str]]]
    photos: list[str]


@router.get("/stores/nearby", response=NearbyOut, summary="Stores near a point, nearest first")
def nearby(request: HttpRequest, q: Query[NearbyQuery]) -> HttpResponse:
    if q.debug:
        require_operator(request)
    items, next_cursor = store_list_nearby(
        lat=q.lat, lng=q.lng, radius_m=q.radius_m, category=q.category, cursor=q.cursor,
        limit=q.limit, sort=q.sort, open_now=q.open_now, delivers_to_me=q.delivers_to_me,
        min_rating=q.min_rating, price_min_fen=q.price_min_fen, price_max_fen=q.price_max_fen,
        debug=q.debug,
    )
    # The hottest endpoint: answered as JSON directly instead of re-validating 20 items
    # through the response schema (~40 % of its time), joined from each store's card
    # encoded once; a test holds the answer to NearbyOut.
    return HttpResponse(nearby_page_json(items, next_cursor), content_type="application/json")


@router.get("/stores/{store_id}", response=StoreOut, summary="One store's profile")
def store_detail(request: HttpRequest, store_id: str) -> HttpResponse:
    # Cached per store version and answered as JSON directly; a test holds it to StoreOut.
    return HttpResponse(store_page_json(store_id), content_type="application/json")
