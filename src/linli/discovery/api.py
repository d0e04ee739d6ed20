"""/stores: nearby search, store detail and menu."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from linli.merchants.selectors import store_get, store_is_open

from .selectors import store_list_nearby

router = Router(tags=["stores"])


class NearbyQuery(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    radius_m: int = Field(3000, ge=1, le=50_000)
    category: str | None = Field(None, max_length=32)
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(20, ge=1, le=100)


class NearbyItem(Schema):
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
    packaging_fee_fen: int
    prep_minutes: int


@router.get("/stores/nearby", response=NearbyOut, summary="Stores near a point, nearest first")
def nearby(request: HttpRequest, q: Query[NearbyQuery]) -> dict[str, Any]:
    items, next_cursor = store_list_nearby(
        lat=q.lat, lng=q.lng, radius_m=q.radius_m, category=q.category, cursor=q.cursor, limit=q.limit
    )
    return {"items": [asdict(i) for i in items], "next": next_cursor}


@router.get("/stores/{store_id}", response=StoreOut, summary="One store's profile")
def store_detail(request: HttpRequest, store_id: str) -> dict[str, Any]:
    s = store_get(public_id=store_id)
    return {
        "id": s.public_id, "name": s.name, "category": s.category.slug,
        "category_name": s.category.name_zh, "address": s.address, "phone": s.phone,
        "lat": s.lat, "lng": s.lng, "rating": float(s.rating), "opening_hours": s.opening_hours,
        "timezone": s.timezone, "is_open": store_is_open(store=s), "status": s.status,
        "delivery_radius_m": s.delivery_radius_m, "min_order_fen": s.min_order_fen,
        "delivery_fee_fen": s.delivery_fee_fen, "packaging_fee_fen": s.packaging_fee_fen,
        "prep_minutes": s.prep_minutes,
    }
