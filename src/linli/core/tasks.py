"""Celery tasks of the core."""

from __future__ import annotations

from linli.celery import app


@app.task(acks_late=True)
def outbox_flush() -> dict[str, int]:
    """Every 30 s: send the task sends the broker refused when their transaction committed."""
    from .outbox import outbox_flush as flush

    return flush()
