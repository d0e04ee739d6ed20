"""Periodic jobs of analytics (Celery beat, settings.CELERY_BEAT_SCHEDULE): flush the event
buffer, keep today's and yesterday's aggregates fresh, and the daily report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from linli.celery import app

from . import buffer, report
from .aggregate import aggregate_day
from .selectors import today

FLUSH_ROUNDS = 20  # at most 20 x 5,000 events per run; the next run (seconds later) takes the rest


@app.task(name="linli.analytics.tasks.events_flush")
def events_flush() -> int:
    written = 0
    for _ in range(FLUSH_ROUNDS):
        n = buffer.flush()
        written += n
        if n < buffer.FLUSH_BATCH:
            break
    return written


@app.task(name="linli.analytics.tasks.aggregate_recent")
def aggregate_recent() -> dict[str, Any]:
    """Today so far and yesterday (late payments, refunds, reviews): both rerunnable."""
    day = today()
    return {str(d): aggregate_day(d) for d in (day - timedelta(days=1), day)}


@app.task(name="linli.analytics.tasks.daily_report")
def daily_report() -> dict[str, Any]:
    """Yesterday, final: aggregated once more, then summarised and sent to the operators."""
    day = today() - timedelta(days=1)
    events_flush()
    aggregate_day(day)
    return report.daily_report_send(day=day)
