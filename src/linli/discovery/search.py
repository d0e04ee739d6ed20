"""Search stores near a point by what they are called, what they are tagged, and what
they sell: Chinese, full pinyin, pinyin initials, typo-tolerant Latin.

Relevance first, then distance: a store whose name matches (score 3) outranks one whose
tags or category do (2), which outranks one that merely sells a matching product (1);
+0.5 when every term matched a whole token rather than as a prefix. Ties go to the
nearer store, then the older one. Pages are keyset cursors over that order.

When nothing at all matches, two second chances, in order: Latin words typed apart
are joined ("mai dang lao" -> maidanglao), and Latin words of four or more letters that
are not in the index vocabulary are corrected to the closest word that is (edit
distance 1 up to six letters, 2 above). The answer then says `corrected_query`.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.dbrouter import reads_from_replica
from linli.core.errors import InvalidCursor, InvalidInput
from linli.merchants.errors import UnknownCategory
from linli.merchants.hours import open_in_zone
from linli.merchants.models import Store, StoreCategory

from . import text
from .geo import bounding_box, haversine_m
from .quadtree import cover_blocks
from .search_index import (
    FIELD_NAME,
    FIELD_PRODUCT,
    FIELD_STORE,
    SearchTerm,
    hits,
    index_caught_up,
    index_generation,
    index_newest,
    index_session,
    product_hits,
    product_names,
    search_index_follow,
    search_index_refresh,
    vocabulary_since,
)
from .selectors import StoreCard, store_cards

MAX_QUERY_CHARS = 50
MAX_PRODUCTS_SHOWN = 3
REFRESH_LIMIT = 2000  # rows per kind a search may re-index before answering
RINGS_M = (300, 800, 1800)  # then the whole radius
MAX_EXPANSIONS = 16  # indexed words a Latin prefix stands for ("maidang" -> maidanglao, ...)
EXPANSION_SCAN = 2000
CATEGORY_CACHE_SECONDS = 60
PAGE_CACHE_SECONDS = 5.0  # a page asked for again within this is answered from memory ...
PAGE_CACHE_SIZE = 512  # ... per process (its JSON, ~3 kB each), if nothing was saved meanwhile (see _PageCache)


class QueryEmpty(InvalidInput):
    code = "query_empty"
    message = _("Type something to search for.")


class QueryTooLong(InvalidInput):
    code = "query_too_long"
    message = _("The search text is too long.")


@dataclass(frozen=True)
class FoundProduct:
    id: str
    name: str
    price_fen: int


@dataclass(frozen=True)
class FoundStore:
    id: str
    name: str
    category: str
    distance_m: int
    rating: float
    is_open: bool


@dataclass(frozen=True)
class SearchResult:
    store: FoundStore
    matched_products: list[FoundProduct]
    score: float


@dataclass(frozen=True)
class SearchPage:
    items: list[SearchResult]
    next: str | None
    corrected_query: str | None

    @cached_property
    def as_json(self) -> str:
        """The API's answer (`api_search.SearchOut`), encoded once: a page served again from
        the page cache costs no re-encoding (dataclasses.asdict and the response schema's
        validation were ~0.5 ms a search)."""
        items = [{"store": vars(r.store), "matched_products": [vars(p) for p in r.matched_products],
                  "score": r.score} for r in self.items]  # what dataclasses.asdict gives, without its deep copies
        return json.dumps({"items": items, "next": self.next, "corrected_query": self.corrected_query},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SearchPage:
        """The page `as_json` encoded, with that text kept as its `as_json`: the page cache
        holds only the text (~3 kB a page; with the objects beside it ~13 kB)."""
        data = json.loads(text)
        page = cls(items=[SearchResult(store=FoundStore(**i["store"]),
                                       matched_products=[FoundProduct(**p) for p in i["matched_products"]],
                                       score=i["score"]) for i in data["items"]],
                   next=data["next"], corrected_query=data["corrected_query"])
        page.__dict__["as_json"] = text  # what cached_property stores
        return page


# --- the vocabulary: prefix expansion and typo correction ------------------------------------

class _Vocabulary:
    """Latin index tokens (pinyin, initials, words), loaded from `SearchTerm` and topped up
    as it grows: one indexed query per search to notice growth."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.words: set[str] = set()
        self.ordered: list[str] = []
        self.by_length: dict[int, list[str]] = {}
        self.top: tuple[int, str] | None = None  # (pk, term) of the newest row loaded

    def _add(self, rows: list[tuple[int, str]]) -> None:
        fresh = [w for _, w in rows if w not in self.words]
        self.words.update(fresh)
        for word in fresh:
            self.by_length.setdefault(len(word), []).append(word)
        if len(fresh) > 100:
            self.ordered = sorted(self.words)
        else:
            for word in fresh:
                bisect.insort(self.ordered, word)
        if rows:
            self.top = rows[-1]

    def sync(self) -> None:
        """Catch up with new words (one query on the primary key when nothing is new)."""
        newest = SearchTerm.objects.order_by("-pk").values_list("pk", "term").first()
        if newest == self.top:
            return
        top = self.top
        if (newest is None or top is None or newest[0] < top[0]
                or not SearchTerm.objects.filter(pk=top[0], term=top[1]).exists()):
            self.reset()  # first load, or rows went away (a rebuilt or rolled-back table)
            top = None
        self._add(vocabulary_since(top[0] if top else 0))

    def knows(self, word: str) -> bool:
        """Is it an indexed word or the beginning of one?"""
        at = bisect.bisect_left(self.ordered, word)
        return at < len(self.ordered) and self.ordered[at].startswith(word)

    def expand(self, word: str) -> list[str]:
        """Indexed words that start with `word` (not itself), shortest first, at most
        MAX_EXPANSIONS: "maidang" -> ["maidanglao", ...]."""
        start = bisect.bisect_left(self.ordered, word)
        found = []
        for candidate in itertools.islice(self.ordered, start, start + EXPANSION_SCAN):
            if not candidate.startswith(word):
                break
            if candidate != word:
                found.append(candidate)
        return sorted(found, key=lambda w: (len(w), w))[:MAX_EXPANSIONS]

    def correct(self, word: str) -> str | None:
        """The closest indexed word within the allowed edit distance, or None."""
        budget = 1 if len(word) <= 6 else 2
        if word in self.words:
            return None
        # Imported here: only a word the index does not know gets this far, and rapidfuzz
        # is ~3.6 MB of a web worker that may never see one (docs/scaling.md, "memory").
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        choices = [w for n in range(len(word) - budget, len(word) + budget + 1)
                   for w in self.by_length.get(n, ())]
        found = process.extract(word, choices, scorer=Levenshtein.distance,
                                score_cutoff=budget, limit=None)
        if not found:
            return None

        def preference(hit: tuple[str, float, int]) -> tuple[float, int, int, str]:
            candidate, distance = hit[0], hit[1]
            shared = next((i for i, (a, b) in enumerate(zip(word, candidate, strict=False))
                           if a != b), min(len(word), len(candidate)))
            return distance, -shared, abs(len(candidate) - len(word)), candidate

        return min(found, key=preference)[0]


_vocabulary = _Vocabulary()


@dataclass(frozen=True)
class _Query:
    terms: list[text.QueryTerm]
    alternatives: list[list[str]]  # per term: itself, then its prefix expansions
    exact: list[list[str]]  # per term: itself
    hopeless: bool  # a Latin word no indexed word equals or begins with: nothing can match

    @classmethod
    def parse(cls, raw: str) -> _Query:
        terms = text.query_terms(raw)
        alternatives, hopeless = [[t.token] for t in terms], False
        latin = [t for t in terms if t.is_latin and not t.token.isdigit()]
        if latin:
            with _vocabulary.lock:
                _vocabulary.sync()
                alternatives = [[t.token, *(_vocabulary.expand(t.token) if t.prefix else [])]
                                for t in terms]
                hopeless = not all(_vocabulary.knows(t.token) for t in latin)
        return cls(terms, alternatives, [[t.token] for t in terms], hopeless)

    def store_score(self, tokens: str) -> float:
        """3 if every term is in the store's name, else 2 (tags, category, or a mix);
        +0.5 if every term matched as itself rather than through a prefix expansion."""
        words = tokens.split(" ")
        cut = words.index("|") if "|" in words else len(words)
        name, everything = set(words[:cut]), set(words)
        pool, base = (name, 3.0) if all(
            any(a in name for a in alts) for alts in self.alternatives) else (everything, 2.0)
        return base + (0.5 if all(t.token in pool for t in self.terms) else 0.0)


def _alternatives(query: str) -> Iterator[str]:
    """Second chances for a query that matched nothing, best first."""
    words = text.query_latin_words(query)
    tried = {text.normalise(query)}
    candidates = []
    if len(words) >= 2 and not text.query_has_han(query):
        candidates.append("".join(words))
    with _vocabulary.lock:
        for base in [query, *candidates]:
            fixes = {}
            for word in text.query_latin_words(base):
                if len(word) >= 4 and not word.isdigit():
                    fixed = _vocabulary.correct(word)
                    if fixed:
                        fixes[word] = fixed
            if fixes:
                candidates.append(text.latin_words_replace(base, fixes))
    for candidate in candidates:
        if candidate not in tried:
            tried.add(candidate)
            yield candidate


# --- pages asked for again ------------------------------------------------------------------

class _PageCache:
    """Answers asked for again (the same text, point, radius, category, limit and cursor)
    while the data behind them holds still: the key carries the newest `(updated_at, pk)`
    of stores and products, this process's rebuild count and the minute (open state), and
    a page is only kept when the index had caught up with those rows. So a store saved
    (renamed, paused, closed) or a product changed is never answered from here; the few
    seconds' lifetime bounds what no `updated_at` reveals (a late-committing transaction
    until the periodic recheck, a rebuild in another process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pages: OrderedDict[tuple[Any, ...], tuple[float, str]] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> SearchPage | None:
        with self.lock:
            found = self.pages.get(key)
            if found is None or found[0] < time.monotonic():
                return None
            self.pages.move_to_end(key)
        return SearchPage.from_json(found[1])

    def put(self, key: tuple[Any, ...], page: SearchPage) -> None:
        now = time.monotonic()
        with self.lock:
            self.pages[key] = (now + PAGE_CACHE_SECONDS, page.as_json)
            self.pages.move_to_end(key)
            while self.pages and (len(self.pages) > PAGE_CACHE_SIZE or next(iter(self.pages.values()))[0] < now):
                self.pages.popitem(last=False)  # the least recently used, or one past its time


_pages = _PageCache()


# --- cursors -----------------------------------------------------------------------------------

def _cursor_encode(score: float, distance: float, public_id: str) -> str:
    raw = json.dumps([score, distance, public_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[float, float, int]:
    """(negated score, distance, store pk) of the last row of the previous page."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        score, distance, public_id = json.loads(raw)
        key = (-float(score), float(distance), str(public_id))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor() from exc
    pk = Store.objects.filter(public_id=key[2]).values_list("pk", flat=True).first()
    if pk is None:
        raise InvalidCursor()
    return key[0], key[1], pk


# --- the search ---------------------------------------------------------------------------

def _category_id(slug: str) -> int:
    ids = cache.get("discovery:search:category-ids")
    if ids is None:
        ids = dict(StoreCategory.objects.values_list("slug", "pk"))
        cache.set("discovery:search:category-ids", ids, timeout=CATEGORY_CACHE_SECONDS)
    if slug not in ids:
        raise UnknownCategory(category=slug)
    return ids[slug]


Key = tuple[float, float, int]  # (-score, distance, store pk): ascending = best first
# The best score a store found through each group can have: name 3.5, tags/category 2.5
# (a store group read finds name matches too), product 1.5.
_GROUP_TOP = (("name", 3.5), ("store", 2.5), ("product", 1.5))


class _Ranking:
    """Finds the best `wanted` stores in order without reading every match in the radius.

    Documents are read ring by ring (300 m, 800 m, 1.8 km, the radius): all of a store's
    documents share its cell, so a store seen in a ring is seen completely. The n-th
    best key is final once it lies within the ring and no store outside could score
    higher: 3.5 is the top; for lower scores the name (3.x) and store (2.x) groups are
    read over the whole radius first — cheap, as few stores match by name or tag compared
    with by dish. Dense city centres then read a few hundred documents, not thousands.
    """

    def __init__(self, query: _Query, *, lat: float, lng: float, radius_m: int,
                 category_id: int | None) -> None:
        self.query, self.lat, self.lng, self.radius = query, lat, lng, radius_m
        self.category_id = category_id
        self.box = bounding_box(lat, lng, radius_m)
        self.score: dict[int, float] = {}
        self.distance: dict[int, float] = {}
        self.complete: set[str] = set()
        # Matching products of the stores a ring read (exact first, then product pk).
        self.products: dict[int, set[tuple[bool, int]]] = {}
        self.seen: set[tuple[int, int | None]] = set()  # documents scored: (store pk, product pk)

    def _read(self, fields: str, radius: float) -> None:
        rows = hits(fields=fields, blocks=cover_blocks(self.lat, self.lng, radius),
                    terms=self.query.alternatives, exact_terms=self.query.exact,
                    box=self.box, category_id=self.category_id)
        reads_products = FIELD_PRODUCT in fields
        seen = self.seen
        for store_id, product_id, lat, lng, tokens, exact in rows:
            d = self.distance.get(store_id)
            if d is None:
                d = self.distance[store_id] = round(haversine_m(self.lat, self.lng, lat, lng), 3)
            if d > self.radius:
                continue
            if reads_products:
                self.products.setdefault(store_id, set())  # read completely: no entry = none match
            # Inner rings are read again by the outer ones: a document counts once.
            doc = (store_id, product_id)
            if doc in seen:
                continue
            seen.add(doc)
            if product_id is None:
                score = self.query.store_score(tokens)
            else:
                score = 1.5 if exact else 1.0
                self.products.setdefault(store_id, set()).add((not exact, product_id))
            if score > self.score.get(store_id, 0.0):
                self.score[store_id] = score

    def _keys(self, after: Key | None) -> list[Key]:
        keys = sorted((-s, self.distance[pk], pk) for pk, s in self.score.items())
        return [k for k in keys if k > after] if after is not None else keys

    def _final(self, keys: list[Key], wanted: int, seen_m: float) -> bool:
        """Can no store unseen so far (outside the ring read, in a group not read over the
        whole radius) come before the `wanted`-th key? Such a store lies beyond `seen_m`:
        it beats a key within the ring only with a higher score, one beyond the ring also
        with the same score (it may be nearer)."""
        if seen_m >= self.radius:
            return True
        if len(keys) < wanted:
            return False
        score, distance = -keys[wanted - 1][0], keys[wanted - 1][1]
        if distance <= seen_m:
            needed = {g for g, top in _GROUP_TOP if top > score}
        else:
            needed = {g for g, top in _GROUP_TOP if top >= score}
        return needed <= self.complete

    def best(self, *, after: Key | None, wanted: int) -> list[Key]:
        rings = [r for r in RINGS_M if r < self.radius] + [self.radius]
        at = 0
        while True:
            ring = rings[at]
            self._read(FIELD_STORE + FIELD_PRODUCT, ring)
            keys = self._keys(after)
            if self._final(keys, wanted, ring):
                break
            at = self._next_ring(rings, at, keys, wanted)
            following = rings[at]
            # Completing the name and store groups pays when it saves reading the radius.
            if len(keys) >= wanted and following < self.radius:
                score = -keys[wanted - 1][0]
                if score < 2.5 and "store" not in self.complete:
                    # The store field holds the names too: one read completes both groups.
                    self._read(FIELD_STORE, self.radius)
                    self.complete |= {"name", "store"}
                elif score < 3.5 and "name" not in self.complete:
                    self._read(FIELD_NAME, self.radius)
                    self.complete.add("name")
                keys = self._keys(after)
                if self._final(keys, wanted, ring):
                    break
        return keys[:wanted]

    def _next_ring(self, rings: Sequence[float], at: int, keys: list[Key], wanted: int) -> int:
        """The next ring worth reading: skip those that, at the density of matches seen so
        far, would hold fewer than `wanted` stores (each read costs a full-text query
        whatever it finds; a sparse area is cheapest read at once). Which rings are read
        changes the cost only, never the answer.

        Nothing seen yet says nothing of the density: the next ring, not the radius. (A
        broad word that no store within 300 m sells would otherwise read a whole dense 3 km
        circle, thousands of documents: `niurou` at 57-111 ms instead of a few.)"""
        ring = rings[at]
        inside = sum(1 for k in keys if k[1] <= ring)
        at += 1
        while inside and at < len(rings) - 1 and inside * (rings[at] / ring) ** 2 < wanted:
            at += 1
        return at


def _matched_products(ranking: _Ranking, stores: dict[int, Any]
                      ) -> dict[int, list[FoundProduct]]:
    """Up to three matching products per store, whole-token matches first: from what the
    rings read, and for stores only the name or tag pass found, from their own product
    documents (only the page's stores: a store ranked by its name never pays for its dishes
    unless it is shown)."""
    picks = {pk: set(ranking.products[pk]) for pk in stores if pk in ranking.products}
    unread = [pk for pk in stores if pk not in ranking.products]
    if unread:
        query = ranking.query
        for store_id, product_id, exact in product_hits(store_ids=unread, terms=query.alternatives,
                                                         exact_terms=query.exact):
            picks.setdefault(store_id, set()).add((not exact, product_id))
    chosen = {pk: sorted(found)[:MAX_PRODUCTS_SHOWN] for pk, found in picks.items()}
    names = product_names([p for found in chosen.values() for _, p in found])
    return {pk: [FoundProduct(id=names[p][0], name=names[p][1], price_fen=names[p][2])
                 for _, p in found if p in names]
            for pk, found in chosen.items()}


_PAGE_FIELDS = ("pk", "public_id", "name", "rating", "status", "opening_hours", "special_hours", "timezone",
                "category__slug")


def _cards_from_database(pks: list[int], now: datetime) -> dict[int, StoreCard]:
    """Cards of stores the nearby index does not hold yet (saved since its last read)."""
    cards: dict[int, StoreCard] = {}
    open_by_hours: dict[str, bool] = {}  # stores with the same hours share the answer
    for s in Store.objects.filter(pk__in=pks).values(*_PAGE_FIELDS):
        hours = json.dumps([s["opening_hours"], s["special_hours"] or {}, s["timezone"]])
        if hours not in open_by_hours:
            open_by_hours[hours] = open_in_zone(s["opening_hours"], s["special_hours"], s["timezone"], now)
        cards[s["pk"]] = StoreCard(s["public_id"], s["name"], s["category__slug"], float(s["rating"]),
                                   s["status"] == Store.Status.OPEN and open_by_hours[hours])
    return cards


def _page(ranking: _Ranking, keys: list[Key], *, limit: int, now: datetime
          ) -> tuple[list[SearchResult], str | None]:
    """The page's stores as the nearby index holds them (name, rating, open state: no
    query), the few it does not from the database, and their matching dishes."""
    page = keys[:limit]
    pks = [k[2] for k in page]
    cards = store_cards(pks, at=now)
    missing = [pk for pk in pks if pk not in cards]
    if missing:
        cards.update(_cards_from_database(missing, now))
    products = _matched_products(ranking, cards)
    items = []
    for neg_score, distance, pk in page:
        card = cards.get(pk)
        if card is None:  # deleted since the index read it
            continue
        items.append(SearchResult(
            store=FoundStore(id=card.public_id, name=card.name, category=card.category,
                             distance_m=round(distance), rating=card.rating, is_open=card.is_open),
            matched_products=products.get(pk, []), score=-neg_score,
        ))
    next_cursor = None
    if len(keys) > limit and page and page[-1][2] in cards:
        neg_score, distance, pk = page[-1]
        next_cursor = _cursor_encode(-neg_score, distance, cards[pk].public_id)
    return items, next_cursor


@reads_from_replica
def store_search(*, q: str, lat: float, lng: float, radius_m: int = 5000,
                 category: str | None = None, limit: int = 20, cursor: str | None = None,
                 now: datetime | None = None) -> SearchPage:
    """One page of stores within radius_m of (lat, lng) matching `q`, most relevant first."""
    query_text = q.strip()
    if not query_text:
        raise QueryEmpty()
    if len(query_text) > MAX_QUERY_CHARS:
        raise QueryTooLong(max_chars=MAX_QUERY_CHARS, chars=len(query_text))
    category_id = _category_id(category) if category else None
    newest = index_newest()
    if settings.LINLI_SEARCH_INLINE_REFRESH:
        search_index_refresh(limit=REFRESH_LIMIT, newest=newest)
    else:  # the beat task indexes (settings.LINLI_SEARCH_REFRESH_SECONDS)
        search_index_follow(newest)
    now = now or timezone.now()
    key = None
    if index_caught_up(newest):
        key = (query_text, lat, lng, radius_m, category_id, limit, cursor,
               tuple(sorted(newest.items())), index_generation(), int(now.timestamp() // 60))
        cached = _pages.get(key)
        if cached is not None:
            return cached
    after = _cursor_decode(cursor) if cursor else None

    def rank(query: _Query) -> _Ranking:
        return _Ranking(query, lat=lat, lng=lng, radius_m=radius_m, category_id=category_id)

    with index_session():
        query = _Query.parse(query_text)
        ranking = rank(query)
        keys = ranking.best(after=after, wanted=limit + 1) if query.terms and not query.hopeless else []
        corrected = None
        # Nothing matched anywhere in the radius: try the second chances.
        if not ranking.score and any(t.is_latin for t in query.terms):
            for alternative in _alternatives(query_text):
                candidate = _Query.parse(alternative)
                second = rank(candidate)
                keys = second.best(after=after, wanted=limit + 1) if not candidate.hopeless else []
                if second.score:
                    ranking, corrected = second, alternative
                    break
        items, next_cursor = _page(ranking, keys, limit=limit, now=now)
    page = SearchPage(items=items, next=next_cursor, corrected_query=corrected)
    if key is not None:
        _pages.put(key, page)
    return page
