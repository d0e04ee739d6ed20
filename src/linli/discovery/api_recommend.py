"""Recommendations over /api/v1 (discovery/recommendations.py): "guess you like" for a point
(personal with a bearer token, district popularity without) and a store's "also bought"."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from linli.core.auth import optional_user
from linli.core.errors import InvalidInput

from .recommendations import also_bought, guess_you_like

router = Router(tags=["recommendations"])


class GuessQuery(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    limit: int = Field(10, ge=1, le=30)


class AlsoQuery(Schema):
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    limit: int = Field(6, ge=1, le=10)


class RecommendedOut(Schema):
    id: str
    name: str
    category: str
    distance_m: int
    rating: float
    avg_price_fen: int
    is_open: bool
    why: str = Field(description="for_you (your history), popular_nearby, also_bought")


@router.get("/recommendations", response=list[RecommendedOut],
            summary="猜你喜欢: open stores within reach, for you (with a token) or popular nearby")
def recommendations(request: HttpRequest, q: Query[GuessQuery]) -> list[dict[str, Any]]:
    return [asdict(r) for r in guess_you_like(user=optional_user(request), lat=q.lat, lng=q.lng, limit=q.limit)]


@router.get("/stores/{store_id}/also-bought", response=list[RecommendedOut],
            summary="买了这家的还买了: stores the same customers order from")
def store_also_bought(request: HttpRequest, store_id: str, q: Query[AlsoQuery]) -> list[dict[str, Any]]:
    if (q.lat is None) != (q.lng is None):
        raise InvalidInput(fields=["lat", "lng"], reason="give both or neither")
    return [asdict(r) for r in also_bought(store_id=store_id, lat=q.lat, lng=q.lng, limit=q.limit)]
