"""Delivery background jobs."""

from linli.celery import app

from .services import dispatch_pending as _dispatch_pending
from .tracking import rider_locations_cleanup


@app.task
def dispatch_pending(city_code: str | None = None) -> int:
    """The batch dispatch tick (every 15 s, CELERY_BEAT_SCHEDULE; and for one city at once
    when a rider of it comes online)."""
    return _dispatch_pending(city_code=city_code)


@app.task
def cleanup_rider_locations() -> int:
    """Drop rider location history older than a day."""
    return rider_locations_cleanup()
