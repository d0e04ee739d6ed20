"""Values cached per key under a *version token* that every write replaces (issue 15).

A hot read (a store's menu, its live promotions) is rebuilt only when what it was built
from changed. Each key has a random token; the value is cached together with the token it
was built under and is used only while that token is current. A write calls `changed(key)`,
which sets a new token at once and again after the transaction commits: a reader between
the two may cache what it read before the commit under the first token, the second makes
that dead. Tokens are random, not counters, so a cache that lost one (eviction, Redis
restarted) never brings back an old value. The value's own lifetime bounds what a write
that bypasses `changed` (a shell, raw SQL, a queryset `.update()`) can leave stale.

One round trip reads the token and the value (`get_many`, or none when a caller prefetched
them with the other reads of its operation: `keys()` and core/cachebatch.py); a miss
builds, stores and returns. With REDIS_URL the tokens are shared by every process; with
the local-memory cache each process has its own, and its writes are seen by its own reads
only (the embedded default runs one process).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction

from . import cachebatch

T = TypeVar("T")


class Versioned:
    """Values named `<prefix>:<key>`; `fmt` is part of the value's cache key, so a deploy
    that changes the value's shape never reads the old shape."""

    def __init__(self, prefix: str, *, fmt: int = 1) -> None:
        self.prefix, self.fmt = prefix, fmt

    def token_key(self, key: Hashable) -> str:
        return f"{self.prefix}:token:{key}"

    def value_key(self, key: Hashable) -> str:
        return f"{self.prefix}:doc:{self.fmt}:{key}"

    def keys(self, key: Hashable) -> list[str]:
        """The cache keys `get(key, ...)` reads, to prefetch (core/cachebatch.py)."""
        return [self.token_key(key), self.value_key(key)]

    def _bump(self, keys: frozenset[Hashable]) -> None:
        cache.set_many({self.token_key(key): secrets.token_hex(8) for key in keys}, None)

    def changed(self, *keys: Hashable) -> None:
        """What these keys' values are built from changed (or is changing in the current
        transaction): new tokens now and after commit."""
        found = frozenset(keys)
        if found:
            self._bump(found)
            transaction.on_commit(lambda: self._bump(found))

    def get(self, key: Hashable, build: Callable[[], T], seconds: float) -> T:
        """The value built under the key's current token, or `build()` (stored for
        `seconds`)."""
        token_key, value_key = self.token_key(key), self.value_key(key)
        found: dict[str, Any] = cachebatch.get_many([token_key, value_key])
        token, cached = found.get(token_key), found.get(value_key)
        if token is None:
            token = secrets.token_hex(8)
            if not cache.add(token_key, token, None):  # another process set it first: theirs
                token = cache.get(token_key) or token
        elif cached is not None and cached[0] == token:
            return cached[1]  # type: ignore[no-any-return]
        value = build()
        cache.set(value_key, (token, value), seconds)
        return value
