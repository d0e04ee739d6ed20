"""Find stores near a point: filters, four sort orders, keyset cursor pages.

Reads go through an in-memory `GeoIndex` (see geoindex.py) kept fresh from the
database: every `LINLI_NEARBY_REFRESH_SECONDS` (1 s) a query re-reads the stores whose `updated_at` moved
past the index's watermark (with an overlap, so a transaction that commits late is not
missed) and every `REBUILD_SECONDS` the index is rebuilt from scratch (so rows deleted
outright disappear too). Only the page's rows are then read from the database.
The same rows give the same answer on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import gc
import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from json.encoder import encode_basestring
from typing import Any

import numpy as np
from django import db
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from linli.core.dbrouter import reads_from_replica
from linli.core.errors import InvalidCursor, InvalidInput
from linli.merchants.errors import UnknownCategory
from linli.merchants.hours import open_in_zone
from linli.merchants.models import Store, StoreCategory
from linli.merchants.selectors import store_public_get
from linli.merchants.zones import point_in_polygon

from .geo import haversine_m
from .geoindex import GeoIndex, IndexedStore
from .ranking import Explanation, explain, smart_scores_from, static_scores

log = logging.getLogger(__name__)

REBUILD_SECONDS = 600.0
PAGE_CACHE_SIZE = 2048  # nearby pages remembered per process (~1 kB each with its key)
CARD_CACHE_SIZE = 30_000  # stores whose result card is kept encoded (~500 bytes each)
WATERMARK_OVERLAP = timedelta(seconds=10)
SORTS = ("distance", "rating", "sales", "smart")


@dataclass(frozen=True, slots=True)
class NearbyStore:
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
    debug: Explanation | None = None
    # The store's fields as JSON, encoded once per version of its row (see `_card`).
    card: tuple[str, str, str] | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """Shallow and fast (dataclasses.asdict deep-copies): this runs 20 times a request."""
        out = {f: getattr(self, f) for f in _NEARBY_FIELDS}
        out["debug"] = asdict(self.debug) if self.debug else None
        return out

    def as_json(self) -> str:
        """`json.dumps(self.as_dict(), ensure_ascii=False)`, from the pre-encoded card."""
        if self.card is None:
            return _dumps(self.as_dict())
        head, middle, tail = self.card
        return (f"{head}{self.distance_m}{middle}{_BOOL[self.is_open]}, \"delivers_to_me\": "
                f"{_BOOL[self.delivers_to_me]}{tail}{_dumps(asdict(self.debug)) if self.debug else 'null'}}}")


_NEARBY_FIELDS = [f for f in NearbyStore.__dataclass_fields__ if f not in ("debug", "card")]
_BOOL = {True: "true", False: "false"}


_encoder = json.JSONEncoder(ensure_ascii=False)  # what json.dumps(..., ensure_ascii=False) uses
_dumps = _encoder.encode
_string = encode_basestring  # a str as JSON, as the encoder writes it (C, no encoder set-up)


def _card(row: IndexedStore, category: str) -> tuple[str, str, str]:
    """A store's result card as three JSON fragments around the per-request values
    (distance; open and delivery state; debug), in `NearbyStore` field order. Cached per
    row object: a changed store is a new row, so its card is encoded afresh."""
    cached = _holder.cards.get(row.pk)
    if cached is not None and cached[0] is row and cached[1] == category:
        return cached[2]
    head = (f'{{"id": {_string(row.public_id)}, "name": {_string(row.name)}, '
            f'"category": {_string(category)}, "address": {_string(row.address)}, "distance_m": ')
    middle = (f', "rating": {float.__repr__(row.rating)}, "rating_count": {row.rating_count}, '
              f'"sales_30d": {row.sales_30d}, "avg_price_fen": {row.avg_price_fen}, '
              f'"min_order_fen": {row.min_order_fen}, "delivery_fee_fen": {row.delivery_fee_fen}, '
              f'"prep_minutes": {row.prep_minutes}, "is_open": ')
    tail = f', "tags": [{", ".join(_string(t) for t in row.tags)}], "debug": '
    card = (head, middle, tail)
    if len(_holder.cards) >= CARD_CACHE_SIZE:
        _holder.cards.clear()
    _holder.cards[row.pk] = (row, category, card)
    return card


def nearby_page_json(items: list[NearbyStore], next_cursor: str | None) -> str:
    """The nearby answer `{"items": [...], "next": ...}` as JSON text, exactly what
    `json.dumps` of the items' `as_dict()` gives, joined from pre-encoded cards."""
    return f'{{"items": [{", ".join(i.as_json() for i in items)}], "next": {_dumps(next_cursor)}}}'


# --- the index and its freshness ---------------------------------------------------------

def _delivery_reach_m(row: dict[str, Any]) -> int:
    """How far the store delivers, in metres: its radius (or, with a zone polygon, no
    distance limit of its own), cut at the last fee tier when it has tiers, since
    ordering refuses addresses beyond the last tier."""
    reach = 10**9 if row["delivery_zone"] else row["delivery_radius_m"]
    tiers = row["delivery_fee_tiers"] or []
    if tiers:
        reach = min(reach, max(int(t["max_m"]) for t in tiers))
    return reach


FREEZE_AFTER_STORES = 10_000


class _Holder:
    """The process's index plus what it needs to answer: zones, hours, categories."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.epoch = 0  # bumped by reset(): a rebuild started before a reset is thrown away
        self.rebuilding: threading.Thread | None = None
        self.reset()

    def reset(self) -> None:
        self.epoch = getattr(self, "epoch", 0) + 1
        self.index = GeoIndex()
        self.watermark: datetime | None = None
        self.settled_for: datetime | None = None
        self.checked_at = 0.0
        self.built_at = 0.0
        self.hours_keys: dict[str, int] = {}
        self.hours: dict[int, tuple[Any, Any, str]] = {}
        self.zones: dict[int, list[list[float]]] = {}
        self.public_to_pk: dict[str, int] = {}
        self.open_cache: tuple[int, np.ndarray] = (-1, np.empty(0, dtype=np.int8))
        self.category_slugs: dict[int, str] = {}
        self.static_cache: tuple[int, np.ndarray] = (-1, np.empty(0))
        # Whole pages, keyed by every parameter, the index version and the minute (open
        # state is worked out per minute): the same question asked again before anything
        # changed gets the answer it would have got anyway, without the work.
        # A page is kept as an (n, 3) array of index position, distance and flags (open 1,
        # delivers 2), valid for this index only: a rebuild swaps in a new, empty dict.
        self.pages: OrderedDict[tuple[Any, ...], tuple[np.ndarray, str | None]] = OrderedDict()
        self.cards: dict[int, tuple[IndexedStore, str, tuple[str, str, str]]] = {}

    def _hours_key(self, opening: Any, special: Any, tz: str) -> int:
        text = json.dumps([opening, special or {}, tz], sort_keys=True, separators=(",", ":"))
        key = self.hours_keys.get(text)
        if key is None:
            key = self.hours_keys[text] = len(self.hours_keys)
            self.hours[key] = (opening, special or {}, tz)
        return key

    def refresh(self) -> None:
        """Catch up with the stores changed since the last read (called under the lock).
        The first call loads the whole city; the periodic full rebuild runs in a thread
        while this index keeps answering, and is swapped in when complete."""
        now = time.monotonic()
        if now - self.checked_at < settings.LINLI_NEARBY_REFRESH_SECONDS:
            return
        if not self.built_at:
            self.built_at = now
        elif now - self.built_at > REBUILD_SECONDS and self.rebuilding is None:
            self._rebuild_in_background()
        self.checked_at = now
        self._read_changes()

    def _rebuild_in_background(self) -> None:
        epoch = self.epoch

        def build() -> None:
            try:
                fresh = _Holder()
                fresh.built_at = time.monotonic()
                fresh._read_changes()
                keep = {"lock", "epoch", "rebuilding"}
                with self.lock:
                    if self.epoch == epoch:
                        self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k not in keep})
            except Exception:  # the old index keeps answering; the next refresh tries again
                log.exception("nearby index rebuild failed")
                self.built_at = time.monotonic()
            finally:
                self.rebuilding = None
                db.connections.close_all()  # this thread's connections

        self.rebuilding = threading.Thread(target=build, name="nearby-index-rebuild", daemon=True)
        self.rebuilding.start()

    def _read_changes(self) -> None:
        rows = Store.objects.all()
        if self.watermark is not None:
            # Re-read the overlap window (rows saved just before the watermark by
            # transactions that may have committed after our last read) until one read
            # has happened when every such transaction must be over; then stop paying.
            wall = timezone.now()
            if self.settled_for != self.watermark:
                rows = rows.filter(updated_at__gt=self.watermark - WATERMARK_OVERLAP)
                if wall - self.watermark > WATERMARK_OVERLAP:
                    self.settled_for = self.watermark
            else:
                rows = rows.filter(updated_at__gt=self.watermark)
        fields = ("pk", "public_id", "lat", "lng", "category_id", "rating", "rating_count",
                  "sales_30d", "avg_price_fen", "delivery_radius_m", "delivery_fee_tiers",
                  "opening_hours", "special_hours", "timezone", "delivery_zone", "status",
                  "updated_at", "name", "address", "tags", "min_order_fen", "delivery_fee_fen",
                  "prep_minutes")
        first_load = self.watermark is None
        upserts, removals = [], []
        for row in rows.values(*fields).iterator(chunk_size=5000):
            if self.watermark is None or row["updated_at"] > self.watermark:
                self.watermark = row["updated_at"]
            pk = row["pk"]
            if row["status"] == Store.Status.CLOSED:
                removals.append(pk)
                self.zones.pop(pk, None)
                continue
            self.public_to_pk[row["public_id"]] = pk
            zone = row["delivery_zone"]
            if zone:
                self.zones[pk] = zone
            else:
                self.zones.pop(pk, None)
            upserts.append(IndexedStore(
                pk=pk, public_id=row["public_id"], lat=row["lat"], lng=row["lng"],
                category_id=row["category_id"], rating=float(row["rating"]),
                rating_count=row["rating_count"], sales_30d=row["sales_30d"],
                avg_price_fen=row["avg_price_fen"], delivery_radius_m=_delivery_reach_m(row),
                hours_key=self._hours_key(row["opening_hours"], row["special_hours"], row["timezone"]),
                has_zone=bool(zone), paused=row["status"] == Store.Status.PAUSED,
                name=row["name"], address=row["address"], tags=tuple(row["tags"] or ()),
                min_order_fen=row["min_order_fen"], delivery_fee_fen=row["delivery_fee_fen"],
                prep_minutes=row["prep_minutes"], stamp=row["updated_at"].timestamp(),
            ))
        self.index.remove(removals)
        self.index.upsert(upserts)
        if first_load and len(upserts) >= FREEZE_AFTER_STORES:
            # A city's index is a few hundred thousand long-lived objects; every full
            # collection would walk them all again (185 ms measured at 100k stores, the
            # nearby p99). Move what is alive now out of the collector's way: it is still
            # freed by reference counting when a rebuild replaces it.
            gc.freeze()
        if any(u.category_id not in self.category_slugs for u in upserts):
            self.category_slugs = dict(StoreCategory.objects.values_list("pk", "slug"))

    def static_scores(self) -> np.ndarray:
        """`ranking.static_scores` of every indexed row, recomputed when the index changed."""
        index = self.index
        if index._dirty:
            index._build()
        version, scores = self.static_cache
        if version != index.version or len(scores) != len(index.pk):
            scores = static_scores(index.rating, index.rating_count, index.sales)
            self.static_cache = (index.version, scores)
        return scores

    def open_by_key(self, keys: np.ndarray, at: datetime) -> np.ndarray:
        """Open state per hours key at this minute, vectorised: a per-minute array indexed
        by key (-1 = not computed yet), filled only for keys this query needs."""
        minute = int(at.timestamp() // 60)
        cached_minute, states = self.open_cache
        if cached_minute != minute or len(states) < len(self.hours):
            states = np.full(len(self.hours), -1, dtype=np.int8)
            self.open_cache = (minute, states)
        missing = keys[states[keys] < 0]
        # set(), not np.unique: a handful of keys, and np.unique loads numpy.ma (~1.2 MB of
        # every worker) for its masked-array check.
        for key in set(missing.tolist()):
            opening, special, tz = self.hours[key]
            states[key] = 1 if open_in_zone(opening, special, tz, at) else 0
        return states[keys] == 1


_holder = _Holder()


def nearby_index_reset() -> None:
    """Forget the in-memory index (tests; after bulk `.update()` writes to stores)."""
    with _holder.lock:
        _holder.reset()


def nearby_index_refresh() -> GeoIndex:
    with _holder.lock:
        _holder.refresh()
    return _holder.index


# --- cards for other lists -----------------------------------------------------------------

@dataclass(frozen=True)
class StoreCard:
    public_id: str
    name: str
    category: str  # slug
    rating: float
    is_open: bool


def store_cards(pks: list[int], *, at: datetime) -> dict[int, StoreCard]:
    """Name, category, rating and open state of these stores from this process's nearby
    index (as fresh as nearby results), for lists that would otherwise read them from the
    database (search pages). Stores the index does not hold (new since its last read,
    closed) are left out: the caller reads those."""
    with _holder.lock:
        _holder.refresh()
        index = _holder.index
        rows = [row for row in (index.get(pk) for pk in pks) if row is not None]
        if not rows:
            return {}
        open_now = _holder.open_by_key(np.array([r.hours_key for r in rows], dtype=np.int64), at)
        slugs = _holder.category_slugs
        return {r.pk: StoreCard(r.public_id, r.name, slugs.get(r.category_id, ""), r.rating,
                                bool(o) and not r.paused) for r, o in zip(rows, open_now, strict=True)}


# --- the store page ------------------------------------------------------------------------

STORE_PAGE_SECONDS = 300


def _store_page(store: Store) -> dict[str, Any]:
    """The store page's fields (api.StoreOut) but `is_open`, which moves with the clock."""
    s = store
    return {
        "id": s.public_id, "name": s.name, "category": s.category.slug,
        "category_name": s.category.name_zh, "address": s.address, "phone": s.phone,
        "lat": s.lat, "lng": s.lng, "rating": float(s.rating), "opening_hours": s.opening_hours,
        "timezone": s.timezone, "status": s.status,
        "delivery_radius_m": s.delivery_radius_m, "min_order_fen": s.min_order_fen,
        "delivery_fee_fen": s.delivery_fee_fen, "packaging_fee_fen": s.packaging_fee_fen,
        "prep_minutes": s.prep_minutes, "delivery_fee_tiers": s.delivery_fee_tiers or [],
        "delivery_zone": s.delivery_zone, "rating_count": s.rating_count,
        "sales_30d": s.sales_30d, "avg_price_fen": s.avg_price_fen, "tags": s.tags or [],
        "special_hours": s.special_hours or {},
        "photos": [photo.image.url for photo in s.photos.all()],
    }


@reads_from_replica
def store_page_json(public_id: str, *, at: datetime | None = None) -> str:
    """One store's public page as JSON (api.StoreOut), 404 `store_not_found` for a closed or
    unknown store.

    The page is cached under the store's `updated_at` as this process's nearby index last
    read it (every store write moves `updated_at`: the index depends on it too), so a page
    costs no query until the store changes, and shows a change as soon as nearby results
    do (`LINLI_NEARBY_REFRESH_SECONDS`). `is_open` is worked out per request. A store the
    index does not hold yet (new, or closed) is read from the database."""
    with _holder.lock:
        _holder.refresh()
        pk = _holder.public_to_pk.get(public_id)
        row = _holder.index.get(pk) if pk is not None else None
    key = f"storepage:1:{row.pk}:{row.stamp!r}" if row is not None else None
    cached = cache.get(key) if key is not None else None
    if cached is None:
        store = store_public_get(public_id=public_id)
        page = _store_page(store)
        cached = (json.dumps(page, ensure_ascii=False)[:-1],
                  (store.status, store.opening_hours, store.special_hours or {}, store.timezone))
        if key is not None:
            cache.set(key, cached, STORE_PAGE_SECONDS)
    head, (status, opening, special, tz) = cached
    is_open = status == Store.Status.OPEN and open_in_zone(opening, special, tz, at or timezone.now())
    return f'{head}, "is_open": {"true" if is_open else "false"}}}'


# --- cursors -------------------------------------------------------------------------------

def _cursor_encode(key: tuple[float, float], public_id: str) -> str:
    raw = json.dumps([key[0], key[1], public_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[float, float, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        primary, secondary, public_id = json.loads(raw)
        pk = _holder.public_to_pk[str(public_id)]
        return float(primary), float(secondary), pk
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidCursor() from exc


# --- the query -------------------------------------------------------------------------------

def _delivers(index: GeoIndex, cand: np.ndarray, dist: np.ndarray, lat: float, lng: float) -> np.ndarray:
    delivers = dist <= index.radius[cand]
    zoned = np.flatnonzero(index.has_zone[cand] & delivers)
    for i in zoned.tolist():
        delivers[i] = point_in_polygon(lat, lng, _holder.zones[int(index.pk[cand[i]])])
    return delivers


def _category_id(slug: str) -> int:
    """Categories change rarely (operators add them); cached for a minute."""
    ids = cache.get("discovery:category-ids")
    if ids is None:
        ids = dict(StoreCategory.objects.values_list("slug", "pk"))
        cache.set("discovery:category-ids", ids, timeout=60)
    if slug not in ids:
        raise UnknownCategory(category=slug)
    return ids[slug]


def store_list_nearby(
    *, lat: float, lng: float, radius_m: int, category: str | None = None,
    cursor: str | None = None, limit: int = 20, now: datetime | None = None,
    sort: str = "distance", open_now: bool = False, delivers_to_me: bool = False,
    min_rating: float | None = None, price_min_fen: int | None = None,
    price_max_fen: int | None = None, debug: bool = False,
) -> tuple[list[NearbyStore], str | None]:
    """Stores within radius_m of (lat, lng), filtered, in `sort` order, one page."""
    if sort not in SORTS:
        raise InvalidInput(sort=sort, allowed=list(SORTS))
    category_id = _category_id(category) if category else None
    now = now or timezone.now()
    with _holder.lock:
        _holder.refresh()
        index = _holder.index
        key = (lat, lng, radius_m, category_id, cursor, limit, sort, open_now, delivers_to_me,
               min_rating, price_min_fen, price_max_fen, debug, index.version,
               int(now.timestamp() // 60))
        cached = _holder.pages.get(key)
        if cached is not None:
            _holder.pages.move_to_end(key)
            compact, next_cursor = cached
        else:
            compact, next_cursor = _nearby_page(
                index, lat=lat, lng=lng, radius_m=radius_m, category_id=category_id, cursor=cursor,
                limit=limit, sort=sort, open_now=open_now, delivers_to_me=delivers_to_me,
                min_rating=min_rating, price_min_fen=price_min_fen, price_max_fen=price_max_fen, now=now)
        page = [(index.row(int(i)), float(d), bool(int(f) & 1), bool(int(f) & 2)) for i, d, f in compact.tolist()]
        slugs = _holder.category_slugs
    items = _nearby_items(page, slugs, debug)
    if cached is None:
        with _holder.lock:
            if _holder.index is index and index.version == key[-2]:
                _holder.pages[key] = (compact, next_cursor)
                if len(_holder.pages) > PAGE_CACHE_SIZE:
                    _holder.pages.popitem(last=False)
    return items, next_cursor


def _nearby_page(index: GeoIndex, *, lat: float, lng: float, radius_m: int, category_id: int | None,
                 cursor: str | None, limit: int, sort: str, open_now: bool, delivers_to_me: bool,
                 min_rating: float | None, price_min_fen: int | None, price_max_fen: int | None,
                 now: datetime) -> tuple[np.ndarray, str | None]:
    """One page as an (n, 3) array of index position, distance and flags (open 1, delivers
    2), with the next page's cursor: what the page cache keeps (~0.5 kB a page; the page's
    NearbyStore objects were ~5.5 kB). Called under the holder's lock."""
    after = _cursor_decode(cursor) if cursor else None
    cand, dist = index.within(lat, lng, radius_m)
    keep = np.ones(len(cand), dtype=bool)
    if category_id is not None:
        keep &= index.category[cand] == category_id
    if min_rating is not None:
        keep &= index.rating[cand] >= min_rating - 1e-9
    if price_min_fen is not None:
        keep &= index.price[cand] >= price_min_fen
    if price_max_fen is not None:
        keep &= index.price[cand] <= price_max_fen
    cand, dist = cand[keep], dist[keep]
    # Open state and delivery reach for every candidate only when a filter or the
    # score needs them; otherwise for the page's stores alone (below).
    is_open = delivers = None
    if open_now or sort == "smart":
        is_open = ~index.paused[cand] & _holder.open_by_key(index.hours_key[cand], now)
        if open_now:
            cand, dist, is_open = cand[is_open], dist[is_open], is_open[is_open]
    if delivers_to_me:
        reach = _delivers(index, cand, dist, lat, lng)
        cand, dist = cand[reach], dist[reach]
        if is_open is not None:
            is_open = is_open[reach]
        delivers = np.ones(len(cand), dtype=bool)

    scores = None
    if sort == "distance":
        primary, secondary = dist, np.zeros(len(cand))
    elif sort == "rating":
        primary, secondary = -index.rating[cand], dist
    elif sort == "sales":
        primary, secondary = -index.sales[cand].astype(np.float64), dist
    else:
        scores = smart_scores_from(dist, _holder.static_scores()[cand], is_open)
        primary, secondary = -scores, dist
    pks = index.pk[cand]
    if after is not None:
        p, s, pk = after
        later = (primary > p) | ((primary == p) & ((secondary > s) | ((secondary == s) & (pks > pk))))
        sel = np.flatnonzero(later)
    else:
        sel = np.arange(len(cand))
    if len(sel) > 4 * (limit + 1):
        # Only rows whose primary key is within the best limit+1 can be on this page:
        # keep those (ties included) before the full three-key sort.
        kth = np.partition(primary[sel], limit)[limit]
        sel = sel[primary[sel] <= kth]
    order = sel[np.lexsort((pks[sel], secondary[sel], primary[sel]))][: limit + 1]
    has_more = len(order) > limit
    order = order[:limit]
    if is_open is None:
        page_open = ~index.paused[cand[order]] & _holder.open_by_key(index.hours_key[cand[order]], now)
    else:
        page_open = is_open[order]
    page_delivers = (delivers[order] if delivers is not None
                     else _delivers(index, cand[order], dist[order], lat, lng))
    page = np.column_stack((cand[order], dist[order], page_open + 2 * page_delivers)).astype(np.float64)
    next_cursor = None
    if has_more and len(order):
        last = order[-1]
        next_cursor = _cursor_encode((float(primary[last]), float(secondary[last])),
                                     index.row(int(cand[last])).public_id)
    return page, next_cursor


def _nearby_items(page: list[tuple[IndexedStore, float, bool, bool]], slugs: dict[int, str],
                  debug: bool) -> list[NearbyStore]:
    """The page's answer objects from (index row, distance, open, delivers)."""
    items = []
    for row, distance, open_, delivers_ in page:
        items.append(NearbyStore(
            id=row.public_id, name=row.name, category=slugs[row.category_id], address=row.address,
            distance_m=round(distance), rating=row.rating, rating_count=row.rating_count,
            sales_30d=row.sales_30d, avg_price_fen=row.avg_price_fen,
            min_order_fen=row.min_order_fen, delivery_fee_fen=row.delivery_fee_fen,
            prep_minutes=row.prep_minutes, is_open=open_, delivers_to_me=delivers_,
            tags=list(row.tags),
            debug=explain(distance_m=distance, rating=row.rating, rating_count=row.rating_count,
                          sales_30d=row.sales_30d, is_open=open_) if debug else None,
            card=_card(row, slugs[row.category_id]),
        ))
    return items


def store_list_nearby_brute_force(*, lat: float, lng: float, radius_m: float) -> list[tuple[str, float]]:
    """Reference answer straight from the database, for tests and benchmarks:
    (public_id, distance) of every listed store within the radius, nearest first."""
    found = []
    for public_id, slat, slng in Store.objects.exclude(status=Store.Status.CLOSED).values_list(
            "public_id", "lat", "lng"):
        d = haversine_m(lat, lng, slat, slng)
        if d <= radius_m:
            found.append((public_id, d))
    return sorted(found, key=lambda x: (x[1], _holder.public_to_pk.get(x[0], 0)))
