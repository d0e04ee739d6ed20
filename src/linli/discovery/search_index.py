"""The search index: one row per listed store and per available product, kept fresh
from `updated_at` watermarks, matched by SQLite FTS5 or a PostgreSQL GIN index.

Layout. `SearchDoc.tokens` holds a document's plain tokens (see `text.index_tokens`):
the name's, then `|`, then the others (a store's tags and category, a product's tags).
`SearchDoc.match_text` files each token under a field and the store's quadtree cell:
`宫保_p13030330012311312` is 宫保 in a product (p) in that 17-level cell (~300 m). A
cell's key is a prefix of the keys of the cells inside it, so "this term in this region"
is an OR of a few prefix lookups, and reads only that neighbourhood's documents, not the
city's. Fields: n (store name), s (store name, tags, category), p (product).

Both databases index `match_text` token by token, verbatim: SQLite an external-content
FTS5 table `discovery_search_fts` (kept in step by triggers, `detail=none`), PostgreSQL
a GIN index on `array_to_tsvector(string_to_array(match_text, ' '))`, the 'simple'
configuration's result without its parser, so no locale can split or drop a token.
Queries are the same boolean expression in each dialect, so both return the same rows.

Freshness (no signals, no coupling to the writing apps): `search_index_refresh` re-indexes
stores and products whose `(updated_at, id)` passed the stored watermark; a store
re-indexes its products too (they carry its position, category and listing).
`QuerySet.update()` does not touch `updated_at`: after such a write, run
`linli search_reindex`. See docs/search.md.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, connection, connections, models, router, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.dateparse import parse_datetime

from linli.merchants.models import Product, Store, StoreCategory

from .quadtree import quadkey

log = logging.getLogger(__name__)

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


def _epoch() -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC)


class SearchIndexState(models.Model):
    """The watermarks: the last (updated_at, id) of stores and products indexed. One row."""

    store_at = models.DateTimeField(default=_epoch)
    store_pk = models.BigIntegerField(default=0)
    product_at = models.DateTimeField(default=_epoch)
    product_pk = models.BigIntegerField(default=0)

    class Meta:
        db_table = "discovery_search_state"


class SearchTerm(models.Model):
    """Every Latin token ever indexed: the vocabulary that typos are corrected against."""

    term = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table = "discovery_search_term"


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
        if row["store_id"] in stores:  # else deleted meanwhile, and its documents with it
            writer.product(row, stores[row["store_id"]])
    return writer.save(product_ids=product_ids)


# --- freshness ---------------------------------------------------------------------------

def _state() -> SearchIndexState:
    state, _ = SearchIndexState.objects.get_or_create(pk=1)
    return state


# Static SQL: the newest (updated_at, id) of each table, one backward step on each of the
# (updated_at, id) indexes; whatever the planner's statistics, it is the only sane plan.
_NEWEST_SQL = """
    SELECT 's', updated_at, id FROM (SELECT updated_at, id FROM merchants_store
                                     ORDER BY updated_at DESC, id DESC LIMIT 1) newest_store
    UNION ALL
    SELECT 'p', updated_at, id FROM (SELECT updated_at, id FROM merchants_product
                                     ORDER BY updated_at DESC, id DESC LIMIT 1) newest_product
"""
_marks_lock = threading.Lock()
_marks: dict[str, tuple[datetime, int]] = {}  # the watermarks as this process last read or wrote them


def _remember(state: SearchIndexState) -> None:
    with _marks_lock:
        _marks.update(s=(state.store_at, state.store_pk), p=(state.product_at, state.product_pk))


def _aware(value: datetime | str) -> datetime:
    """A raw row's timestamp (SQLite may hand back text or a naive datetime) as aware UTC."""
    at = parse_datetime(value) if isinstance(value, str) else value
    if at is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


Newest = dict[str, tuple[datetime, int]]  # "s" / "p": the newest (updated_at, pk) of each table


def index_newest() -> Newest:
    """The newest (updated_at, pk) of stores ("s") and of products ("p"): one query on the
    `(updated_at, id)` indexes. Any `save()` of either moves it."""
    with connection.cursor() as cursor:
        cursor.execute(_NEWEST_SQL)
        return {kind: (_aware(at), pk) for kind, at, pk in cursor.fetchall()}


def index_caught_up(newest: Newest) -> bool:
    """Had this process's index taken in every row up to `newest` (as far as it knows)?"""
    with _marks_lock:
        return bool(_marks) and all(mark <= _marks[kind] for kind, mark in newest.items())


def index_generation() -> int:
    """Bumped by every rebuild in this process: a rebuild can change documents without
    moving any `updated_at` (after bulk `.update()` writes)."""
    return _rebuilds


_rebuilds = 0


def _is_stale(newest: Newest | None = None) -> bool:
    """Is any store or product newer than the watermarks (as this process last saw them)?

    A copy that another process has since moved past only costs one needless refresh,
    which finds nothing and brings the copy up to date."""
    if not _marks:
        return True
    newest = index_newest() if newest is None else newest
    return any(mark > _marks[kind] for kind, mark in newest.items())


def _changed(model: type[Store] | type[Product], at: datetime, pk: int,
             limit: int) -> list[tuple[int, datetime, bool]]:
    """(pk, updated_at, already indexed as such) of the next `limit` rows past (at, pk).

    The comparison with the documents runs in the database: after a bulk load the store
    pass has already indexed every product, and the product pass only confirms it."""
    kind, field = ((SearchDoc.Kind.STORE, "store_id") if model is Store
                   else (SearchDoc.Kind.PRODUCT, "product_id"))
    fresh = Exists(SearchDoc.objects.filter(kind=kind, source_updated_at=OuterRef("updated_at"),
                                            **{field: OuterRef("pk")}))
    rows = model.objects.filter(updated_at__gte=at).exclude(updated_at=at, pk__lte=pk)
    return list(rows.order_by("updated_at", "pk").annotate(fresh=fresh)
                .values_list("pk", "updated_at", "fresh")[:limit])


def _lock() -> str | None:
    """A token, or None while another process holds the lock. With the cache unreachable
    (`add` answers None) the refresh runs unlocked, as in embedded mode, so new stores stay
    findable while Redis is down; a collision with another writer is caught and retried."""
    token = uuid.uuid4().hex
    return None if cache.add(LOCK_KEY, token, timeout=LOCK_SECONDS) is False else token


def _keep_lock() -> None:
    """Extend the lock between chunks. django-redis's `touch` raises even with
    IGNORE_EXCEPTIONS when Redis is unreachable; the refresh then goes on unlocked, as
    `_lock` lets it."""
    import redis

    try:
        cache.touch(LOCK_KEY, LOCK_SECONDS)
    except redis.RedisError:
        log.warning("search index lock not extended: cache unreachable")


def _unlock(token: str) -> None:
    if cache.get(LOCK_KEY) == token:
        cache.delete(LOCK_KEY)


def _reindex(model: type[Store] | type[Product], pks: list[int]) -> int:
    """Re-index rows in chunks (one transaction each), keeping the lock alive between."""
    written = 0
    for start in range(0, len(pks), CHUNK_STORES):
        chunk = pks[start:start + CHUNK_STORES]
        written += _index_stores(chunk) if model is Store else _index_products(chunk)
        _keep_lock()
    return written


def _refresh_kind(state: SearchIndexState, kind: str, *, limit: int, recheck: bool) -> int:
    model, field = (Store, "store") if kind == SearchDoc.Kind.STORE else (Product, "product")
    at, pk = getattr(state, f"{field}_at"), getattr(state, f"{field}_pk")
    written = 0
    if recheck:
        rows = _changed(model, at - RECHECK_OVERLAP, 0, limit)
        written += _reindex(model, [r[0] for r in rows if (r[1], r[0]) <= (at, pk) and not r[2]])
    rows = _changed(model, at, pk, limit)
    if rows:
        written += _reindex(model, [r[0] for r in rows if not r[2]])
        setattr(state, f"{field}_at", rows[-1][1])
        setattr(state, f"{field}_pk", rows[-1][0])
    return written


def search_index_refresh(*, limit: int = 5000, recheck: bool = False,
                         newest: Newest | None = None) -> int:
    """Re-index up to `limit` stores and `limit` products changed since the watermarks;
    returns the documents written.

    Cheap when nothing changed (one query on the `updated_at` indexes) and skipped while
    another process holds the lock, so concurrent searches do not all do it. `recheck`
    (the periodic task) also re-reads the minute before the watermarks, for transactions
    that committed after a refresh had moved past their `updated_at`. `newest`: what
    `index_newest()` just read, if the caller has it (saves the query).
    """
    if not recheck and not _is_stale(newest):
        return 0
    token = _lock()
    if token is None:
        return 0
    try:
        state = _state()
        written = _refresh_kind(state, SearchDoc.Kind.STORE, limit=limit, recheck=recheck)
        written += _refresh_kind(state, SearchDoc.Kind.PRODUCT, limit=limit, recheck=recheck)
        state.save()
        _remember(state)
        if written:
            _merge_pending()
        return written
    except IntegrityError:
        # Another process indexed the same rows at the same moment (no shared lock in
        # embedded mode); the next refresh re-reads them from the unchanged watermark.
        log.warning("search index refresh collided with another writer; will retry")
        return 0
    finally:
        _unlock(token)


def search_index_follow(newest: Newest | None = None) -> None:
    """For a process that leaves indexing to the Celery worker: when rows newer than this
    process knows of exist, read how far the index has got (the watermarks row), so that
    `index_caught_up` and the page cache work without indexing here. One query on the
    `updated_at` indexes when nothing changed, one more when something did."""
    if _is_stale(newest):
        state = SearchIndexState.objects.filter(pk=1).first()
        if state is not None:
            _remember(state)


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
        written, known_terms = 0, set[str]()
        if progress:
            progress(0, len(points))
        for start in range(0, len(points), CHUNK_STORES):
            written += _index_stores([p[0] for p in points[start:start + CHUNK_STORES]], known_terms)
            _keep_lock()
            if progress:
                progress(min(start + CHUNK_STORES, len(points)), len(points))
        SearchDoc.objects.filter(store__in=closed).delete()
        _after_bulk_write()
        global _rebuilds
        _rebuilds += 1
        if city_code is None:
            state = _state()
            for field, mark in marks.items():
                if mark is not None:
                    setattr(state, f"{field}_at", mark[0])
                    setattr(state, f"{field}_pk", mark[1])
            state.save()
            _remember(state)
        return written
    finally:
        _unlock(token)


def _merge_pending() -> None:
    """PostgreSQL: move the GIN index's pending list into the index proper. New documents
    wait there (`fastupdate`) until autovacuum, and every search scans the whole list: on
    a 315-store city indexed by refreshes alone, 3,341 pending entries made each full-text
    statement ~6 ms and a search ~29 ms instead of ~7 ms. Writes are made by the refresh
    (the beat task, or a search in embedded mode), so the merge costs no request much."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT gin_clean_pending_list('discovery_search_doc_fts')")


def _after_bulk_write() -> None:
    """Leave the full-text index in its fastest shape after writing many documents.

    PostgreSQL: merge the GIN index's pending list (every search would scan it) and
    refresh the planner's statistics. SQLite: merge FTS5's segment b-trees into one. A bulk
    load leaves dozens of segments across levels, and every prefix term of a query is
    looked up in each of them: a search over 100,000 stores took 4-10 ms per full-text
    query before the merge and under 1-3 ms after (docs/search.md). The few small segments
    later incremental refreshes add are kept in check by FTS5's automerge."""
    _merge_pending()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE discovery_search_doc")
        elif connection.vendor == "sqlite":
            cursor.execute("INSERT INTO discovery_search_fts(discovery_search_fts) VALUES ('optimize')")


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
HITS_SQL = {
    "sqlite": """
        SELECT d.store_id, d.product_id, d.lat, d.lng, d.tokens
        FROM discovery_search_doc d
        WHERE d.id IN (SELECT rowid FROM discovery_search_fts WHERE discovery_search_fts MATCH %s)
          AND d.lat BETWEEN %s AND %s AND d.lng BETWEEN %s AND %s
          AND (%s = 0 OR d.store_category_id = %s)
    """,
    "postgresql": """
        SELECT d.store_id, d.product_id, d.lat, d.lng, d.tokens
        FROM discovery_search_doc d
        WHERE array_to_tsvector(string_to_array(d.match_text, ' ')) @@ %s::tsquery
          AND d.lat BETWEEN %s AND %s AND d.lng BETWEEN %s AND %s
          AND (%s = 0 OR d.store_category_id = %s)
    """,
}
EVERYWHERE = (-90.0, 90.0, -180.0, 180.0)

# (store pk, product pk or None, lat, lng, the document's tokens, every term matched exactly)
HitRow = tuple[int, int | None, float, float, str, bool]


def hits(*, fields: str, blocks: Sequence[str], terms: Alternatives, exact_terms: Alternatives,
         box: tuple[float, float, float, float] = EVERYWHERE,
         category_id: int | None = None) -> list[HitRow]:
    """Documents filed under `fields` in `blocks` (and inside `box`) that hold every term.

    `exact_terms` are the terms without their prefix expansions. Whether a product
    document holds those too (the last column) is read from its tokens, not asked of the
    index a second time: every token of a product is filed under its one field, and a
    document that matched lies in one of the blocks. (For a store document the column
    says the same of all its fields together; callers score stores from the tokens.)"""
    with connection.cursor() as cursor:
        cursor.execute(HITS_SQL[connection.vendor], [match_expression(fields, blocks, terms), *box,
                                                     category_id or 0, category_id or 0])
        rows = cursor.fetchall()
    if [list(t) for t in exact_terms] == [list(t) for t in terms]:
        return [(*r, True) for r in rows]
    return [(*r, holds_all(r[4], exact_terms)) for r in rows]


def holds_all(tokens: str, terms: Alternatives) -> bool:
    """Does a `tokens` column (space-separated) hold, for every term, one of its tokens?"""
    padded = f" {tokens} "
    return all(any(f" {t} " in padded for t in alts) for alts in terms)


def _read_by_pks(model: type[models.Model], sql: str, pks: Sequence[int], *params: object
                 ) -> list[tuple[Any, ...]]:
    """Rows of `sql` (`{pks}` marks the condition on the keys) from the database `model`
    is read from (the replica when the router says so).

    The few reads every search makes after its full-text queries are written out rather
    than built by the ORM: building `filter(pk__in=...).values(...)` cost ~0.45 ms of CPU a
    search, six times the read itself (issue 15). On PostgreSQL the keys go as one array
    (`= ANY(%s::bigint[])`): the statement's text stays the same, so psycopg prepares it
    once."""
    conn = connections[router.db_for_read(model)]
    if conn.vendor == "postgresql":
        where, args = "= ANY(%s::bigint[])", [list(pks)]  # one type whatever the keys' size
    else:
        where, args = f"IN ({', '.join(['%s'] * len(pks))})", list(pks)
    with conn.cursor() as cursor:
        cursor.execute(sql.format(pks=where), [*params, *args])
        return cursor.fetchall()


_PRODUCT_DOCS_SQL = (f"SELECT store_id, product_id, tokens FROM {SearchDoc._meta.db_table} "  # noqa: S608
                     f"WHERE kind = %s AND store_id {{pks}}")
_PRODUCT_NAMES_SQL = (f"SELECT id, public_id, name, price_fen FROM {Product._meta.db_table} "  # noqa: S608
                      f"WHERE id {{pks}}")


def product_hits(*, store_ids: Sequence[int], terms: Alternatives, exact_terms: Alternatives
                 ) -> list[tuple[int, int, bool]]:
    """(store pk, product pk, every term matched exactly) of these stores' product documents
    that hold every term: read by store (the foreign-key index) and matched on their
    tokens, which is what the full-text index would answer for them."""
    if not store_ids:
        return []
    rows = _read_by_pks(SearchDoc, _PRODUCT_DOCS_SQL, store_ids, SearchDoc.Kind.PRODUCT.value)
    return [(store_id, product_id, holds_all(tokens, exact_terms))
            for store_id, product_id, tokens in rows if holds_all(tokens, terms)]


def product_names(pks: Sequence[int]) -> dict[int, tuple[str, str, int]]:
    """Product pk -> (public id, name, price in fen), for the products a page shows."""
    if not pks:
        return {}
    return {pk: (public_id, name, price_fen)
            for pk, public_id, name, price_fen in _read_by_pks(Product, _PRODUCT_NAMES_SQL, pks)}


# The planner's guesses for these statements are wild (hundreds of thousands of rows for a
# few dozen), so: no sequential scan, no parallel workers, no JIT compilation (~100 ms).
# One statement (set_config(..., true) is SET LOCAL), not three round trips.
_SESSION_SET = ("SELECT set_config('enable_seqscan', 'off', true), "
                "set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true)")
_SESSION_RESET = ("RESET enable_seqscan", "RESET max_parallel_workers_per_gather", "RESET jit")


@contextmanager
def index_session() -> Iterator[None]:
    """Wrap the reads of one search. PostgreSQL cannot estimate how few rows an OR of many
    prefix lexemes matches (it assumes a few percent each), so it would rather scan the
    whole table, start parallel workers (~10 ms) or JIT-compile the plan (~100 ms) for a few
    dozen rows. The GIN index is always the right plan here: say so, for this transaction.
    Inside an outer transaction the settings would outlive the search: reset them then."""
    if connection.vendor != "postgresql":
        yield
        return
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SESSION_SET)
        try:
            yield
        finally:
            if nested:
                for statement in _SESSION_RESET:
                    cursor.execute(statement)


def vocabulary_since(pk: int) -> list[tuple[int, str]]:
    return list(SearchTerm.objects.filter(pk__gt=pk).order_by("pk").values_list("pk", "term"))
