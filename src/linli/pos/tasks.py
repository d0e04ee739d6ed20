"""Periodic jobs of the counter app."""

from __future__ import annotations

from linli.celery import app

from .points import points_expire


@app.task(acks_late=True)
def expire_points() -> int:
    """Post the expiry of points earned more than 12 months ago (safe to run often)."""
    return points_expire()
