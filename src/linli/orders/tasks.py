"""Periodic order jobs (scheduled by Celery beat; see settings.CELERY_BEAT_SCHEDULE)."""

from linli.celery import app

from . import services


@app.task
def cancel_unpaid_orders() -> int:
    return services.orders_cancel_unpaid()


@app.task
def auto_complete_delivered() -> int:
    return services.orders_auto_complete()


@app.task
def accept_timeout_orders() -> int:
    """Paid orders past their accept deadline: auto-reject and refund, or auto-accept."""
    return services.orders_accept_timeout()


@app.task
def cancel_request_timeout_orders() -> int:
    """Cancel requests the store did not answer in time: approved by the system, refunded."""
    return services.orders_cancel_request_timeout()
