"""The search index: one row per listed store and per available product, kept fresh
from `updated_at` watermarks, matched by SQLite FTS5 or a PostgreSQL GIN index.

Layout. `SearchDoc.tokens` holds a document's plain tokens (see `text.index_tokens`):
the name's, then `|`, then the extra ones (a store's tags and category, a product's
tags). `SearchDoc.match_text` holds the same tokens qualified by where the store is and
what the document is, e.g. `p4o20bkxmaidanglao` = product document, fine grid cell
(4o2, 0bk), token "maidanglao". A query for a term near a point is then an OR over the
few cells that cover its circle, so its posting lists hold only that neighbourhood's
documents instead of the whole city's (a dish that half the city sells stays cheap).
Two grids: fine (0.02°, about 2 km) for radii up to ~8 km, coarse (0.16°) above.

Both databases index `match_text` token by token, verbatim: SQLite an external-content
FTS5 table `discovery_search_fts` (kept in step by triggers, `detail=none`), PostgreSQL
a GIN index on `array_to_tsvector(string_to_array(match_text, ' '))`, the 'simple'
configuration's result without its parser, so no locale can split or drop a token.
Queries are the same boolean expression in each dialect, so both return the same rows.

Freshness (no signals, no coupling to the writing apps): `search_index_refresh` re-indexes
stores and products whose `(updated_at, id)` passed the stored watermark; a store
re-indexes its products too (they carry its position, category and listing).
`QuerySet.update()` does not touch `updated_at`: after such a write, run
`linli search_reindex`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q, Subquery

from linli.merchants.models import Product, Store, StoreCategory

log = logging.getLogger(__name__)

QUAD_LEVELS = 17  # finest cell: 360° / 2**17 = 0.00275° (about 300 m north-south, 260 m east-west)
CELL_DEG = 360.0 / 2**QUAD_LEVELS
MAX_BLOCKS = 16  # a region is covered by at most this many quadtree blocks
FIELD_NAME, FIELD_STORE, FIELD_PRODUCT = "n", "s", "p"
LOCK_KEY = "discovery:search-index:lock"
LOCK_SECONDS = 120
# How far back the periodic recheck looks for rows whose transaction committed after
# a refresh had already moved the watermark past their updated_at.
RECHECK_OVERLAP = timedelta(seconds=60)
CHUNK_STORES = 500


class SearchDoc(models.Model):
    class Kind(models.TextChoices):
        STORE = "store"
        PRODUCT = "product"

    city_code = models.CharField(max_length=16)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, null=True, on_delete=models.CASCADE, related_name="+",
                                db_index=False)  # the unique constraint indexes it
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=100)
    tokens = models.TextField()
    match_text = models.TextField()
    lat = models.FloatField()
    lng = models.FloatField()
    store_category_id = models.BigIntegerField()
    source_updated_at = models.DateTimeField()  # the row's updated_at when indexed

    class Meta:
        db_table = "discovery_search_doc"
        constraints = [
            models.UniqueConstraint(fields=["store"], condition=Q(kind="store"),
                                    name="search_doc_one_per_store"),
            models.UniqueConstraint(fields=["product"], name="search_doc_one_per_product"),
        ]


class SearchIndexState(models.Model):
    """The watermarks: the last (updated_at, id) of stores and products indexed. One row."""

    store_at = models.DateTimeField(null=True)
    store_pk = models.BigIntegerField(default=0)
    product_at = models.DateTimeField(null=True)
    product_pk = models.BigIntegerField(default=0)

    class Meta:
        db_table = "discovery_search_state"


class SearchTerm(models.Model):
    """Every Latin token ever indexed: the vocabulary that typos are corrected against."""

    term = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table = "discovery_search_term"


# --- layout ----------------------------------------------------------------------------

def _cell(lat: float, lng: float) -> tuple[int, int]:
    i = min(max(int((lat + 90.0) / CELL_DEG), 0), 2**(QUAD_LEVELS - 1) - 1)
    j = min(max(int((lng + 180.0) / CELL_DEG), 0), 2**QUAD_LEVELS - 1)
    return i, j


def _quadkey(i: int, j: int, level: int) -> str:
    """Cell (i, j) of the finest grid as the path of its level-`level` ancestor: each digit
    picks a quarter, so a block's key is a prefix of the keys of every cell inside it."""
    return "".join(str(((i >> b) & 1) * 2 + ((j >> b) & 1))
                   for b in range(QUAD_LEVELS - 1, QUAD_LEVELS - 1 - level, -1))


def quadkey(lat: float, lng: float) -> str:
    return _quadkey(*_cell(lat, lng), QUAD_LEVELS)


def cover(box: tuple[float, float, float, float]) -> list[str]:
    """Quadtree blocks (key prefixes) that together cover a bounding box: the finest level
    at which at most MAX_BLOCKS blocks do."""
    min_lat, max_lat, min_lng, max_lng = box
    (i0, j0), (i1, j1) = _cell(min_lat, min_lng), _cell(max_lat, max_lng)
    for level in range(QUAD_LEVELS, 0, -1):
        shift = QUAD_LEVELS - level
        rows, cols = range(i0 >> shift, (i1 >> shift) + 1), range(j0 >> shift, (j1 >> shift) + 1)
        if len(rows) * len(cols) <= MAX_BLOCKS or level == 1:
            return [_quadkey(i << shift, j << shift, level) for i in rows for j in cols]
    raise AssertionError("unreachable")


def match_text(kind: str, lat: float, lng: float, head: Sequence[str], tail: Sequence[str]) -> str:
    """What the full-text index holds for a document: `{token}_{field}{quadkey}`.

    Store documents file their name tokens under both n (name) and s (store), their tags
    and category under s; products file everything under p.
    """
    key = quadkey(lat, lng)
    if kind == SearchDoc.Kind.STORE:
        parts = [f"{t}_{FIELD_NAME}{key}" for t in head] + [f"{t}_{FIELD_STORE}{key}" for t in (*head, *tail)]
    else:
        parts = [f"{t}_{FIELD_PRODUCT}{key}" for t in (*head, *tail)]
    return " ".join(parts)


# --- writing documents -----------------------------------------------------------------

@dataclass
class _StoreInfo:
    pk: int
    city_code: str
    lat: float
    lng: float
    category_id: int
    listed: bool


_STORE_FIELDS = ("pk", "city_code", "name", "tags", "category_id", "lat", "lng", "status",
                 "updated_at")
_PRODUCT_FIELDS = ("pk", "store_id", "name", "tags", "is_available", "updated_at")


def _categories() -> dict[int, list[str]]:
    return {c.pk: [c.name_zh, c.name_en, c.slug] for c in StoreCategory.objects.all()}


@lru_cache(maxsize=100_000)
def _tokens(name: str, extra: tuple[str, ...]) -> tuple[str, list[str], list[str], frozenset[str]]:
    """(tokens column, name tokens, the others, the Latin ones): memoised, menus repeat."""
    from .text import index_tokens  # pypinyin's phrase dictionary costs ~0.3 s to import

    head = list(index_tokens(name))
    seen = set(head)
    tail: list[str] = []
    for text in extra:
        for token in index_tokens(text):
            if token not in seen:
                seen.add(token)
                tail.append(token)
    latin = frozenset(t for t in seen if t.isascii() and not t.isdigit() and len(t) <= 64)
    return " ".join([*head, "|", *tail]), head, tail, latin


# Static SQL (no user input reaches it; values are parameters). Raw rather than
# bulk_create: a rebuild writes millions of rows and the ORM's per-field preparation
# would cost more than the database does.
_INSERT_DOC = """
    INSERT INTO discovery_search_doc (city_code, store_id, product_id, kind, name, tokens,
        match_text, lat, lng, store_category_id, source_updated_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_INSERT_TERM = "INSERT INTO discovery_search_term (term) VALUES (%s) ON CONFLICT (term) DO NOTHING"


class _Writer:
    """Builds documents for a batch of rows and writes them in one transaction."""

    def __init__(self, known_terms: set[str] | None = None) -> None:
        self.categories = _categories()
        self.docs: list[tuple[Any, ...]] = []
        self.latin: set[str] = set()
        self.known_terms = known_terms if known_terms is not None else set()
        self.adapt = connection.ops.adapt_datetimefield_value

    def _doc(self, kind: str, store: _StoreInfo, name: str, extra: Sequence[Any],
             updated_at: datetime, product_id: int | None = None) -> None:
        tokens, head, tail, latin = _tokens(name, tuple(t for t in extra if isinstance(t, str)))
        self.latin |= latin
        self.docs.append((
            store.city_code, store.pk, product_id, kind, name[:100], tokens,
            match_text(kind, store.lat, store.lng, head, tail), store.lat, store.lng,
            store.category_id, self.adapt(updated_at),
        ))

    def store(self, row: dict[str, Any]) -> _StoreInfo:
        info = _StoreInfo(pk=row["pk"], city_code=row["city_code"], lat=row["lat"], lng=row["lng"],
                          category_id=row["category_id"], listed=row["status"] != Store.Status.CLOSED)
        if info.listed:
            extra = [*(row["tags"] or []), *self.categories.get(row["category_id"], [])]
            self._doc(SearchDoc.Kind.STORE, info, row["name"], extra, row["updated_at"])
        return info

    def product(self, row: dict[str, Any], store: _StoreInfo) -> None:
        if store.listed and row["is_available"]:
            self._doc(SearchDoc.Kind.PRODUCT, store, row["name"], row["tags"] or [],
                      row["updated_at"], product_id=row["pk"])

    def save(self, *, store_ids: Sequence[int] = (), product_ids: Sequence[int] = ()) -> int:
        """Replace the documents of these stores (all of them) and these products."""
        new_terms = sorted(self.latin - self.known_terms)
        with transaction.atomic():
            if store_ids:
                SearchDoc.objects.filter(store_id__in=store_ids).delete()
            if product_ids:
                SearchDoc.objects.filter(product_id__in=product_ids).delete()
            with connection.cursor() as cursor:
                cursor.executemany(_INSERT_DOC, self.docs)
                if new_terms:
                    cursor.executemany(_INSERT_TERM, [(t,) for t in new_terms])
        self.known_terms.update(new_terms)
        written = len(self.docs)
        self.docs, self.latin = [], set()
        return written


def _index_stores(store_ids: Sequence[int], known_terms: set[str] | None = None) -> int:
    """(Re)index these stores and all their products; closed ones just disappear."""
    writer = _Writer(known_terms)
    stores = {}
    for row in Store.objects.filter(pk__in=store_ids).values(*_STORE_FIELDS):
        stores[row["pk"]] = writer.store(row)
    listed = [pk for pk, info in stores.items() if info.listed]
    products = Product.objects.filter(store_id__in=listed, is_available=True).order_by("store_id", "pk")
    for row in products.values(*_PRODUCT_FIELDS):
        writer.product(row, stores[row["store_id"]])
    return writer.save(store_ids=store_ids)


def _index_products(product_ids: Sequence[int]) -> int:
    writer = _Writer()
    rows = list(Product.objects.filter(pk__in=product_ids).values(*_PRODUCT_FIELDS))
    store_rows = Store.objects.filter(pk__in={r["store_id"] for r in rows}).values(
        "pk", "city_code", "lat", "lng", "category_id", "status")
    stores = {s["pk"]: _StoreInfo(pk=s["pk"], city_code=s["city_code"], lat=s["lat"], lng=s["lng"],
                                  category_id=s["category_id"],
                                  listed=s["status"] != Store.Status.CLOSED) for s in store_rows}
    for row in rows:
        writer.product(row, stores[row["store_id"]])
    return writer.save(product_ids=product_ids)


# --- freshness ---------------------------------------------------------------------------

def _state() -> SearchIndexState:
    state, _ = SearchIndexState.objects.get_or_create(pk=1)
    return state


def _newest(model: type[Store] | type[Product], field: str) -> Subquery:
    return Subquery(model.objects.order_by("-updated_at", "-pk").values(field)[:1])


def _is_stale() -> bool:
    """One query on the (updated_at, id) indexes: is any row newer than its watermark?"""
    row = SearchIndexState.objects.filter(pk=1).annotate(
        store_new_at=_newest(Store, "updated_at"), store_new_pk=_newest(Store, "pk"),
        product_new_at=_newest(Product, "updated_at"), product_new_pk=_newest(Product, "pk"),
    ).values().first()
    if row is None:
        return True
    for kind in ("store", "product"):
        newest, mark = row[f"{kind}_new_at"], row[f"{kind}_at"]
        if newest is not None and (
            mark is None or (newest, row[f"{kind}_new_pk"]) > (mark, row[f"{kind}_pk"])
        ):
            return True
    return False


def _changed(model: type[Store] | type[Product], at: datetime | None, pk: int,
             limit: int) -> list[tuple[int, datetime]]:
    rows = model.objects.all()
    if at is not None:
        rows = rows.filter(updated_at__gte=at).exclude(updated_at=at, pk__lte=pk)
    return list(rows.order_by("updated_at", "pk").values_list("pk", "updated_at")[:limit])


def _unchanged(field: str, rows: list[tuple[int, datetime]], kind: str) -> set[int]:
    """Rows whose document already reflects this updated_at (re-read by an overlap)."""
    indexed = dict(SearchDoc.objects.filter(kind=kind, **{f"{field}__in": [r[0] for r in rows]})
                   .values_list(field, "source_updated_at"))
    return {pk for pk, at in rows if indexed.get(pk) == at}


def _lock() -> str | None:
    token = uuid.uuid4().hex
    return token if cache.add(LOCK_KEY, token, timeout=LOCK_SECONDS) else None


def _unlock(token: str) -> None:
    if cache.get(LOCK_KEY) == token:
        cache.delete(LOCK_KEY)


def _refresh_kind(state: SearchIndexState, kind: str, *, limit: int, recheck: bool) -> int:
    model, field = (Store, "store") if kind == SearchDoc.Kind.STORE else (Product, "product")
    at, pk = getattr(state, f"{field}_at"), getattr(state, f"{field}_pk")
    written = 0
    if recheck and at is not None:
        rows = _changed(model, at - RECHECK_OVERLAP, 0, limit)
        rows = [r for r in rows if (r[1], r[0]) <= (at, pk)]
        stale = [r[0] for r in rows if r[0] not in _unchanged(field, rows, kind)]
        if stale:
            written += _index_stores(stale) if model is Store else _index_products(stale)
    rows = _changed(model, at, pk, limit)
    if rows:
        skip = _unchanged(field, rows, kind)
        stale = [r[0] for r in rows if r[0] not in skip]
        if stale:
            written += _index_stores(stale) if model is Store else _index_products(stale)
        setattr(state, f"{field}_at", rows[-1][1])
        setattr(state, f"{field}_pk", rows[-1][0])
    return written


def search_index_refresh(*, limit: int = 5000, recheck: bool = False) -> int:
    """Re-index up to `limit` stores and `limit` products changed since the watermarks;
    returns the documents written.

    Cheap when nothing changed (one query on the `updated_at` indexes) and skipped while
    another process holds the lock, so concurrent searches do not all do it. `recheck`
    (the periodic task) also re-reads the minute before the watermarks, for transactions
    that committed after a refresh had moved past their `updated_at`.
    """
    if not recheck and not _is_stale():
        return 0
    token = _lock()
    if token is None:
        return 0
    try:
        state = _state()
        written = _refresh_kind(state, SearchDoc.Kind.STORE, limit=limit, recheck=recheck)
        written += _refresh_kind(state, SearchDoc.Kind.PRODUCT, limit=limit, recheck=recheck)
        state.save()
        return written
    except IntegrityError:
        # Another process indexed the same rows at the same moment (no shared lock in
        # embedded mode); the next refresh re-reads them from the unchanged watermark.
        log.warning("search index refresh collided with another writer; will retry")
        return 0
    finally:
        _unlock(token)


def search_index_rebuild(*, city_code: str | None = None,
                         progress: Callable[[int, int], None] | None = None) -> int:
    """Re-create every document (of one city), stores in quadkey order so a neighbourhood's
    documents sit together on disk, then drop those of closed stores. Returns documents
    written. Searches keep working meanwhile: each chunk of stores is swapped in one
    transaction. `progress(done, total)` is called after each chunk.
    """
    token = _lock()
    deadline = time.monotonic() + LOCK_SECONDS
    while token is None and time.monotonic() < deadline:  # a refresh is running: wait it out
        time.sleep(0.5)
        token = _lock()
    if token is None:
        raise RuntimeError("another search index refresh holds the lock; try again")
    try:
        stores = Store.objects.exclude(status=Store.Status.CLOSED)
        closed = Store.objects.filter(status=Store.Status.CLOSED)
        if city_code:
            stores, closed = stores.filter(city_code=city_code), closed.filter(city_code=city_code)
        marks = {
            "store": Store.objects.order_by("-updated_at", "-pk").values_list("updated_at", "pk").first(),
            "product": Product.objects.order_by("-updated_at", "-pk").values_list("updated_at", "pk").first(),
        }
        points = list(stores.values_list("pk", "lat", "lng"))
        points.sort(key=lambda p: (quadkey(p[1], p[2]), p[0]))
        written, known_terms = 0, set()
        for start in range(0, len(points), CHUNK_STORES):
            written += _index_stores([p[0] for p in points[start:start + CHUNK_STORES]], known_terms)
            cache.touch(LOCK_KEY, LOCK_SECONDS)
            if progress:
                progress(min(start + CHUNK_STORES, len(points)), len(points))
        SearchDoc.objects.filter(store__in=closed).delete()
        _after_bulk_write()
        if city_code is None:
            state = _state()
            for field, mark in marks.items():
                if mark is not None:
                    setattr(state, f"{field}_at", mark[0])
                    setattr(state, f"{field}_pk", mark[1])
            state.save()
        return written
    finally:
        _unlock(token)


def _after_bulk_write() -> None:
    """PostgreSQL: merge the GIN index's pending list (every search would scan it) and
    refresh the planner's statistics."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT gin_clean_pending_list('discovery_search_doc_fts')")
            cursor.execute("ANALYZE discovery_search_doc")


# --- matching ------------------------------------------------------------------------------

Alternatives = Sequence[Sequence[str]]  # per query term: the tokens any of which satisfies it


def match_expression(fields: str, blocks: Sequence[str], terms: Alternatives) -> str:
    """The boolean query in this database's syntax: every term (AND), each as any of its
    alternative tokens in any of the fields and blocks (OR), blocks as key prefixes.

    Tokens are checked against `text.TOKEN`; fields and blocks are ours. Nothing else can
    reach the string, so it is safe to pass as the one parameter of MATCH / ::tsquery.
    """
    from .text import TOKEN

    groups = []
    for alternatives in terms:
        for token in alternatives:
            if not TOKEN.match(token):
                raise ValueError(f"not a search token: {token!r}")
        groups.append([f"{t}_{f}{b}" for t in alternatives for f in fields for b in blocks])
    if connection.vendor == "postgresql":
        return " & ".join("(" + " | ".join(f"'{w}':*" for w in g) + ")" for g in groups)
    return " AND ".join("(" + " OR ".join(f'"{w}"*' for w in g) + ")" for g in groups)


# Static SQL; everything variable is a parameter. `%s = 0 OR` switches the category filter.
_SQLITE_HITS = """
    SELECT d.store_id, d.product_id, d.lat, d.lng,
           CASE WHEN d.kind = 'store' THEN d.tokens ELSE '' END, {exact}
    FROM discovery_search_doc d
    WHERE d.id IN (SELECT rowid FROM discovery_search_fts WHERE discovery_search_fts MATCH %s)
      AND d.lat BETWEEN %s AND %s AND d.lng BETWEEN %s AND %s
      AND (%s = 0 OR d.store_category_id = %s)
"""
_PG_HITS = """
    SELECT d.store_id, d.product_id, d.lat, d.lng,
           CASE WHEN d.kind = 'store' THEN d.tokens ELSE '' END, {exact}
    FROM discovery_search_doc d
    WHERE array_to_tsvector(string_to_array(d.match_text, ' ')) @@ %s::tsquery
      AND d.lat BETWEEN %s AND %s AND d.lng BETWEEN %s AND %s
      AND (%s = 0 OR d.store_category_id = %s)
"""
_SQLITE_EXACT = ("d.id IN (SELECT rowid FROM discovery_search_fts "
                 "WHERE discovery_search_fts MATCH %s)")
_PG_EXACT = ("d.id IN (SELECT x.id FROM discovery_search_doc x WHERE "
             "array_to_tsvector(string_to_array(x.match_text, ' ')) @@ %s::tsquery)")
HITS_SQL = {
    ("sqlite", False): _SQLITE_HITS.replace("{exact}", "1"),
    ("sqlite", True): _SQLITE_HITS.replace("{exact}", _SQLITE_EXACT),
    ("postgresql", False): _PG_HITS.replace("{exact}", "1"),
    ("postgresql", True): _PG_HITS.replace("{exact}", _PG_EXACT),
}
EVERYWHERE = (-90.0, 90.0, -180.0, 180.0)

# (store pk, product pk or None, lat, lng, store tokens or "", every term matched exactly)
HitRow = tuple[int, int | None, float, float, str, int]


def hits(*, fields: str, blocks: Sequence[str], terms: Alternatives, exact_terms: Alternatives,
         box: tuple[float, float, float, float] = EVERYWHERE,
         category_id: int | None = None) -> list[HitRow]:
    """Documents filed under `fields` in `blocks` (and inside `box`) that hold every term.

    `exact_terms` are the terms without their prefix expansions; when they differ, the
    last column says whether a document matches those too."""
    needs_exact = [list(t) for t in exact_terms] != [list(t) for t in terms]
    params: list[Any] = []
    if needs_exact:
        params.append(match_expression(fields, blocks, exact_terms))
    params += [match_expression(fields, blocks, terms), box[0], box[1], box[2], box[3],
               category_id or 0, category_id or 0]
    with connection.cursor() as cursor:
        cursor.execute(HITS_SQL[(connection.vendor, needs_exact)], params)
        return cursor.fetchall()


@contextmanager
def index_session() -> Iterator[None]:
    """Wrap the reads of one search. PostgreSQL cannot estimate how few rows an OR of many
    prefix lexemes matches (it assumes a few percent each) and would rather scan the whole
    table; the GIN index is always the right plan for these statements, so say so, for
    this transaction only."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            yield
        finally:
            cursor.execute("RESET enable_seqscan")


def vocabulary_since(pk: int) -> list[tuple[int, str]]:
    return list(SearchTerm.objects.filter(pk__gt=pk).order_by("pk").values_list("pk", "term"))
