"""Payment background jobs."""

from __future__ import annotations

from celery import shared_task

from .gateways.sandbox import sandbox_notification_send


@shared_task(bind=True, max_retries=8, default_retry_delay=5, acks_late=True)
def sandbox_notify(self, trade_no: str) -> str:  # type: ignore[no-untyped-def]
    """Like a real gateway: retry with growing delays until our callback answers."""
    try:
        return sandbox_notification_send(trade_no=trade_no)
    except OSError as exc:
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc
