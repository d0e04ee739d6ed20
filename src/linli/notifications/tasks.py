"""Celery tasks of notifications: send one delivery, and the periodic sweep of due ones."""

from __future__ import annotations

from linli.celery import app

from .dispatch import deliveries_due as _deliveries_due
from .dispatch import delivery_send


@app.task(acks_late=True)
def deliver(delivery_id: int) -> str:
    """Send one SMS or push delivery now (queued on commit by `notify`)."""
    return delivery_send(delivery_id)


@app.task(acks_late=True)
def deliveries_due() -> dict[str, int]:
    """Send what quiet hours deferred and failed attempts due for a retry."""
    return _deliveries_due()
