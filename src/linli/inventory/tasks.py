"""Periodic inventory jobs (scheduled by Celery beat; see settings.CELERY_BEAT_SCHEDULE)."""

from linli.celery import app

from . import services


@app.task
def reset_daily_stock() -> int:
    """Made-to-order items back to their daily count once their store's local day turns."""
    return services.stock_daily_reset()
