"""Delivery background jobs."""

from celery import shared_task

from .services import dispatch_pending as _dispatch_pending


@shared_task
def dispatch_pending() -> int:
    return _dispatch_pending()
