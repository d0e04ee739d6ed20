"""Several apps' cache reads of one operation in one round trip.

Placing an order reads three cached values that three apps own: the store's promotions
(marketing, a `Versioned` token and value), the city's load behind the promised time
(delivery) and whether the store has stock-alert thresholds (inventory, after the
commit). Each app reading its own was one Redis round trip each (~50 us of the app's CPU
and a request on the server; issue 15). The caller that knows what will be read names the
keys up front, each app's module giving its own (`*_cache_keys`), and those reads are
answered from one MGET:

    with cachebatch.batch():            # orders.services.order_place
        ...                             # the catalog read tells the store and its city
        cachebatch.prefetch([*promotions_cache_keys(store), city_load_cache_key(city)])
        ...                             # marketing's and delivery's reads, through
                                        # cachebatch.get_many / get, take those values

A prefetched key answers its **first** read in the scope only; a second read of it, and
any key not named, goes to the cache as before. So a value written during the scope (a
Versioned token bumped, a value stored after a miss) is never hidden from a later read:
the scope only moves each named read a moment earlier, which every one of these caches
tolerates (each is already a moment old when read). Outside a scope `prefetch` does
nothing and `get_many` is `cache.get_many`. Like the cache itself, a prefetch that cannot
reach Redis answers misses (django-redis's IGNORE_EXCEPTIONS), and the reads then build.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache

_MISSING = object()  # prefetched, not in the cache
_batch: ContextVar[dict[str, Any] | None] = ContextVar("linli_cache_batch", default=None)


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """A scope in which `prefetch` applies; nested, the inner scope has a batch of its own."""
    token = _batch.set({})
    try:
        yield
    finally:
        _batch.reset(token)


def prefetch(keys: Iterable[str]) -> None:
    """Read `keys` in one round trip for their first reads in the current scope (none open:
    nothing is read)."""
    pending = _batch.get()
    if pending is None:
        return
    wanted = [key for key in dict.fromkeys(keys) if key not in pending]
    if wanted:
        found = cache.get_many(wanted)
        pending.update({key: found.get(key, _MISSING) for key in wanted})


def get_many(keys: Iterable[str]) -> dict[str, Any]:
    """`cache.get_many(keys)`, the keys prefetched and not yet read answered from the batch."""
    keys = list(keys)
    pending = _batch.get()
    if not pending:
        return cache.get_many(keys)
    found: dict[str, Any] = {}
    rest = []
    for key in keys:
        value = pending.pop(key, pending)  # the dict itself: not prefetched, or read already
        if value is pending:
            rest.append(key)
        elif value is not _MISSING:
            found[key] = value
    if rest:
        found.update(cache.get_many(rest))
    return found


def get(key: str, default: Any = None) -> Any:
    """`cache.get(key, default)` through the batch."""
    if not _batch.get():
        return cache.get(key, default)
    return get_many([key]).get(key, default)
