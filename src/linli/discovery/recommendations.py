"""Recommendations on the platform (issue 13): train the item-item model on the orders of
the last year (nightly, `recommendations_train`), keep its output in three small tables,
and serve "guess you like" and "people also bought" from them with a cheap online blend
(discovery/recommend.py is the pure half; docs/discovery.md "Recommendations").

Serving never runs the model: a user's candidates are their precomputed top stores plus
the popular stores near where they are now (which is also the whole list for a new user:
cold start by district popularity); each is scored by the pure `blend` (model score,
popularity, rating, distance decay, hour of day) after dropping what is closed or out of
reach, then `diversify` re-ranks by category.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import User
from linli.merchants.models import Store
from linli.merchants.selectors import store_get
from linli.orders.models import Order

from . import recommend
from .geo import bounding_box, haversine_m
from .home import _is_open
from .models import RecommenderRun, StoreAlsoBought, StoreOrderHours, StoreRecommendation

PER_USER = 50  # candidates kept per user
ALSO_BOUGHT = 10  # neighbours kept per store
HISTORY_DAYS = 365
REACH_M = 5000  # candidates farther than this from the user are not shown
NEARBY_POPULAR = 40  # cold-start / fill candidates around the user
_COUNTED = [s for s in Order.Status.values
            if s not in (Order.Status.PENDING_PAYMENT, Order.Status.CANCELLED,
                         Order.Status.REFUNDING, Order.Status.REFUNDED)]
_FIELDS = ("pk", "public_id", "name", "category__slug", "rating", "sales_30d", "avg_price_fen", "lat", "lng",
           "status", "opening_hours", "special_hours", "timezone")


def recommendations_train(*, now: datetime | None = None,
                          progress: Callable[[str], None] | None = None) -> RecommenderRun:
    """Read a year of orders, fit the model, replace the three tables in one transaction
    (readers see the old recommendations or the new, never a mix)."""
    now = now or timezone.now()
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    run = RecommenderRun.objects.create(started_at=now)
    rows = list(Order.objects.filter(status__in=_COUNTED, created_at__gte=now - timedelta(days=HISTORY_DAYS))
                .values_list("consumer_id", "store_id", "created_at", "store__timezone"))
    say(f"{len(rows):,} orders read")
    users = {u: i for i, u in enumerate(sorted({r[0] for r in rows}))}
    stores = {s: i for i, s in enumerate(sorted({r[1] for r in rows}))}
    interactions = [recommend.Interaction(users[u], stores[s], at.timestamp()) for u, s, at, _tz in rows]
    user_of, store_of = {i: u for u, i in users.items()}, {i: s for s, i in stores.items()}
    hours = np.zeros((len(stores), 24))
    for _u, s, at, tz in rows:
        hours[stores[s], at.astimezone(ZoneInfo(tz)).hour] += 1
    reco_rows: list[StoreRecommendation] = []
    also_rows: list[StoreAlsoBought] = []
    if interactions:
        matrix = recommend.confidence_matrix(interactions, len(users), len(stores))
        model = recommend.ItemItemModel.fit(matrix)
        say(f"model fitted: {len(users):,} users x {len(stores):,} stores")
        for start in range(0, len(users), 2048):
            chunk = np.arange(start, min(start + 2048, len(users)))
            scores = model.scores(matrix[chunk])
            for r, user in enumerate(chunk):
                row = scores[r]
                top = np.argsort(-row)[:PER_USER]
                reco_rows += [StoreRecommendation(user_id=user_of[int(user)], store_id=store_of[int(i)],
                                                  score=float(row[i]), rank=rank)
                              for rank, i in enumerate(top) if row[i] > 0]
            say(f"users {min(start + 2048, len(users)):,}/{len(users):,}")
        for item in range(len(stores)):
            also_rows += [StoreAlsoBought(store_id=store_of[item], other_id=store_of[other], score=score, rank=rank)
                          for rank, (other, score) in enumerate(model.neighbours_of(item, ALSO_BOUGHT))]
    totals = hours.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1
    shares = hours / totals
    with transaction.atomic():
        StoreRecommendation.objects.all().delete()
        StoreAlsoBought.objects.all().delete()
        StoreOrderHours.objects.all().delete()
        StoreRecommendation.objects.bulk_create(reco_rows, batch_size=5000)
        StoreAlsoBought.objects.bulk_create(also_rows, batch_size=5000)
        StoreOrderHours.objects.bulk_create(
            [StoreOrderHours(store_id=store_of[i], shares=[round(float(x), 4) for x in shares[i]])
             for i in range(len(stores))], batch_size=5000)
        run.finished_at = timezone.now()
        run.orders, run.users, run.stores = len(rows), len(users), len(stores)
        run.rows_written = len(reco_rows) + len(also_rows) + len(stores)
        run.took_ms = round((time.perf_counter() - started) * 1000)
        run.save()
    say(f"{run.rows_written:,} rows written in {run.took_ms / 1000:.1f} s")
    return run


@dataclass(frozen=True)
class RecommendedStore:
    id: str
    name: str
    category: str
    distance_m: int
    rating: float
    avg_price_fen: int
    is_open: bool
    why: str  # "for_you" (the model), "popular_nearby" (cold start / fill), "also_bought"


def _hour_shares(store_pks: list[int], at: datetime) -> dict[int, float]:
    out: dict[int, float] = {}
    for pk, shares, tz in StoreOrderHours.objects.filter(store_id__in=store_pks).values_list(
            "store_id", "shares", "store__timezone"):
        if shares:
            out[pk] = float(shares[at.astimezone(ZoneInfo(tz)).hour])
    return out


def _popular_near(lat: float, lng: float, *, exclude: set[int]) -> list[dict[str, Any]]:
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, REACH_M / 2)
    return list(Store.objects.filter(lat__range=(min_lat, max_lat), lng__range=(min_lng, max_lng),
                                     status=Store.Status.OPEN)
                .exclude(pk__in=exclude).order_by("-sales_30d", "pk").values(*_FIELDS)[:NEARBY_POPULAR])


def guess_you_like(*, user: User | None, lat: float, lng: float, limit: int = 10,
                   now: datetime | None = None) -> list[RecommendedStore]:
    """猜你喜欢 for a user (or an anonymous visitor) at a point: open stores within reach,
    the model's picks blended with popularity, rating, distance and the hour, diversified."""
    at = now or timezone.now()
    scores: dict[int, float] = {}
    if user is not None and user.is_authenticated:
        scores = dict(StoreRecommendation.objects.filter(user=user).order_by("rank")
                      .values_list("store_id", "score")[:PER_USER])
    rows = list(Store.objects.filter(pk__in=list(scores), status=Store.Status.OPEN).values(*_FIELDS))
    rows += _popular_near(lat, lng, exclude={r["pk"] for r in rows})
    hour = _hour_shares([r["pk"] for r in rows], at)
    candidates, by_key = [], {}
    for row in rows:
        distance = haversine_m(lat, lng, row["lat"], row["lng"])
        if distance > REACH_M or not _is_open(row, at):
            continue
        cand = recommend.Candidate(key=row["public_id"], category=row["category__slug"] or "",
                                   cf=scores.get(row["pk"], 0.0), distance_m=distance,
                                   rating=float(row["rating"]), popularity=float(row["sales_30d"]),
                                   hour_share=hour.get(row["pk"], 1 / 24))
        candidates.append(cand)
        by_key[cand.key] = row
    picked = recommend.diversify(recommend.blend(candidates), limit)
    return [RecommendedStore(id=c.key, name=by_key[c.key]["name"], category=c.category,
                             distance_m=round(c.distance_m), rating=c.rating,
                             avg_price_fen=by_key[c.key]["avg_price_fen"], is_open=True,
                             why="for_you" if c.cf > 0 else "popular_nearby")
            for c in picked]


def also_bought(*, store_id: str, lat: float | None = None, lng: float | None = None, limit: int = 6,
                now: datetime | None = None) -> list[RecommendedStore]:
    """买了这家的还买了: the store's nearest neighbours in the model that are still listed,
    with their distance from the visitor when their point is known."""
    store = store_get(public_id=store_id)
    at = now or timezone.now()
    pairs = list(StoreAlsoBought.objects.filter(store=store).exclude(other__status=Store.Status.CLOSED)
                 .order_by("rank").values_list("other_id", "score")[:ALSO_BOUGHT])
    rows = {r["pk"]: r for r in Store.objects.filter(pk__in=[p for p, _ in pairs]).values(*_FIELDS)}
    out = []
    for pk, _score in pairs:
        row = rows[pk]
        distance = haversine_m(lat, lng, row["lat"], row["lng"]) if lat is not None and lng is not None else 0.0
        out.append(RecommendedStore(id=row["public_id"], name=row["name"], category=row["category__slug"] or "",
                                    distance_m=round(distance), rating=float(row["rating"]),
                                    avg_price_fen=row["avg_price_fen"], is_open=_is_open(row, at),
                                    why="also_bought"))
    return out[:limit]
