"""Read replicas (issue 15): marked read-only selectors read from the `replica` alias.

Configured by LINLI_REPLICA_URL (or DATABASE_REPLICA_URL): settings then add the `replica`
alias and this router. Without it every query goes to `default`, as before.

Why only *marked* reads, not every read: most of our reads feed a write (a checkout reads
the store, its products and the consumer's coupons, then locks and writes), and a replica
lags the primary by some milliseconds. Sending every read to a replica would make "I just
paid, show me my order" answer "not found" now and then. So only pages that show what
others wrote and tolerate being a moment old are marked with `replica_reads` (search, the
store page and its menu, analytics dashboards), and even those fall back to the primary:

- inside a transaction on `default` (what a transaction reads must be what it locks), and
- once anything was written in the same request or Celery task (read-your-writes: the
  request is *pinned* to the primary from its first write on; the pin is dropped when the
  next request or task starts).

Migrations run on the primary only; a replica gets its schema by replication.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from django.core.signals import request_started
from django.db import connections

REPLICA = "replica"
PRIMARY = "default"

_replica_wanted: ContextVar[bool] = ContextVar("linli_replica_wanted", default=False)
_pinned: ContextVar[bool] = ContextVar("linli_pinned_to_primary", default=False)

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside this block may be answered by the replica (see the module's rules)."""
    token = _replica_wanted.set(True)
    try:
        yield
    finally:
        _replica_wanted.reset(token)


def reads_from_replica(func: F) -> F:
    """Mark a read-only selector or page: its queries may go to the replica."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def pin_to_primary() -> None:
    """From now on (until the next request or task) every read goes to the primary."""
    _pinned.set(True)


def unpin(**_kwargs: Any) -> None:
    _pinned.set(False)


def is_pinned() -> bool:
    return _pinned.get()


def replica_configured() -> bool:
    return REPLICA in connections.settings


class PrimaryReplicaRouter:
    """DATABASE_ROUTERS entry: writes to the primary, marked reads to the replica."""

    def __init__(self) -> None:
        # A task's start unpins too: linli/celery.py (no Celery import here: web workers).
        request_started.connect(unpin, dispatch_uid="linli-dbrouter-unpin")

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if not _replica_wanted.get() or _pinned.get() or not replica_configured():
            return None  # Django's default: the instance's own database, else `default`
        if connections[PRIMARY].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model: Any, **hints: Any) -> str:
        _pinned.set(True)
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY
