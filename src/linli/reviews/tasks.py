"""Periodic jobs of reviews (Celery beat, settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from linli.celery import app

from . import services


@app.task(name="linli.reviews.tasks.review_photos_sweep")
def review_photos_sweep() -> int:
    """Photos uploaded for reviews never submitted: deleted after a day."""
    return services.review_photos_sweep()
