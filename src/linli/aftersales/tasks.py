"""Periodic after-sales jobs (scheduled by Celery beat; see settings.CELERY_BEAT_SCHEDULE)."""

from linli.celery import app

from . import services


@app.task
def sla_sweep() -> dict[str, int]:
    """Requests the store did not answer within the SLA: agreed by the system (refund-only ones
    refunded); returns sent back and not confirmed in time: refunded."""
    return {"auto_agreed": services.requests_auto_agree(),
            "returns_refunded": services.requests_auto_confirm_returns()}
