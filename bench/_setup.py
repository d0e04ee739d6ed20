"""Shared bootstrap for benchmarks: a throw-away database (SQLite in a temp dir unless
BENCH_DATABASE_URL is set), migrated, so benchmarks never touch the demo data."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        tmp = tempfile.mkdtemp(prefix="linli-bench-")
        url = f"sqlite:///{tmp}/bench.db"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    os.environ.setdefault("LINLI_LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    return connection.vendor


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=100)
    return (f"p50 {q[49]:.2f} ms  p95 {q[94]:.2f} ms  p99 {q[98]:.2f} ms  "
            f"max {ordered[-1]:.2f} ms  (n={len(ordered)})")
