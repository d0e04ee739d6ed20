"""Real concurrent clients for the PostgreSQL concurrency tests: each call on its own
thread and its own database connection, all released at the same instant."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start every call at the same instant on its own thread and connection; a call that
    raised leaves None in its place (the test then sees which)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = calls[i]()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results
