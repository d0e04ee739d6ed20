"""Periodic order jobs (scheduled by Celery beat; see settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from . import services


@shared_task
def cancel_unpaid_orders() -> int:
    return services.orders_cancel_unpaid()


@shared_task
def auto_complete_delivered() -> int:
    return services.orders_auto_complete()
