"""Payment background jobs."""

from __future__ import annotations

from linli.celery import app

from .gateways.sandbox import sandbox_notification_send
from .gateways.sandbox import sandbox_refund_finish as _sandbox_refund_finish


@app.task(bind=True, max_retries=8, default_retry_delay=5, acks_late=True)
def sandbox_notify(self, trade_no: str) -> str:  # type: ignore[no-untyped-def]
    """Like a real gateway: retry with growing delays until our callback answers."""
    try:
        return sandbox_notification_send(trade_no=trade_no)
    except OSError as exc:
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc


@app.task(bind=True, max_retries=8, default_retry_delay=5, acks_late=True)
def sandbox_refund_finish(self, refund_no: str) -> str:  # type: ignore[no-untyped-def]
    """The sandbox completes an asynchronous refund and notifies us (with retries)."""
    try:
        return _sandbox_refund_finish(refund_no=refund_no)
    except OSError as exc:
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc


@app.task(acks_late=True)
def payments_sync_task() -> dict[str, int]:
    """Every minute: query payments whose notification never came and refunds still
    pending; close payments of orders that can no longer be paid."""
    from .services import payments_sync

    return payments_sync()
