"""Sending one message on one outside channel (SMS, push): claim the delivery, check the
user's rate limit, hand it to the provider, write the attempt to the delivery log, and plan
a retry with back-off when the provider failed. `deliveries_due` (Celery beat) sends what
quiet hours deferred and what waits for a retry."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Q
from django.utils import timezone

from .channels import Undeliverable, external_channels
from .models import ChannelDelivery, DeliveryAttempt

log = logging.getLogger("linli.notifications")
Status = ChannelDelivery.Status
SENDABLE = (Status.PENDING, Status.DEFERRED, Status.RETRYING)
# A delivery claimed longer ago than this was lost with its worker: the sweep tries again.
STALE_CLAIM = timedelta(minutes=10)


def rate_allowed(*, user_id: int, channel: str, now: datetime) -> bool:
    """Count one send for the user on the channel; False once LINLI_NOTIFICATION_RATE_LIMITS
    [channel] = (count, seconds) is reached in the current window. Atomic on Redis (add
    then incr), so concurrent workers cannot both take the last place."""
    limit = settings.LINLI_NOTIFICATION_RATE_LIMITS.get(channel)
    if not limit:
        return True
    count, seconds = limit
    window = int(now.timestamp()) // seconds
    key = f"notif-rate:{channel}:{user_id}:{window}"
    cache.add(key, 0, timeout=seconds + 60)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr: a new window
        cache.add(key, 1, timeout=seconds + 60)
        used = 1
    if used is None:  # the cache is unreachable: fail open, like every rate limit (docs/reliability.md)
        return True
    return bool(used <= count)


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(ChannelDelivery.objects.filter(
        Q(deliver_after__isnull=True) | Q(deliver_after__lte=now), pk=delivery_id, status__in=SENDABLE,
    ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1))


def delivery_send(delivery_id: int, *, now: datetime | None = None) -> str:
    """Send one delivery if it is due and nobody else is sending it; answers its new status
    (or "not_due"). Never raises for a provider's failure: it is logged and retried."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return "not_due"
    delivery = ChannelDelivery.objects.select_related("message__user").get(pk=delivery_id)
    message = delivery.message
    channel = external_channels().get(delivery.channel)
    provider = channel.provider() if channel else "-"
    if channel is None:
        return _finish(delivery, Status.SKIPPED, provider, "channel not configured", now)
    if message.read_at is not None:  # read in the app while it waited: no need any more
        return _finish(delivery, Status.SKIPPED, provider, "read in the app", now)
    if not rate_allowed(user_id=message.user_id, channel=delivery.channel, now=now):
        return _finish(delivery, Status.RATE_LIMITED, provider, "", now)
    try:
        channel.send(message)
    except Undeliverable as exc:
        return _finish(delivery, Status.SKIPPED, provider, str(exc), now)
    except Exception as exc:  # noqa: BLE001 - any provider's own errors: logged, recorded, retried
        log.warning("notification %s by %s failed: %s", message.public_id, provider, exc)
        if delivery.attempts < settings.LINLI_NOTIFICATION_MAX_ATTEMPTS:
            backoff = settings.LINLI_NOTIFICATION_RETRY_SECONDS * 2 ** (delivery.attempts - 1)
            return _finish(delivery, Status.RETRYING, provider, str(exc) or type(exc).__name__, now,
                           retry_at=now + timedelta(seconds=backoff))
        return _finish(delivery, Status.FAILED, provider, str(exc) or type(exc).__name__, now)
    return _finish(delivery, Status.SENT, provider, "", now)


def _finish(delivery: ChannelDelivery, status: str, provider: str, error: str, now: datetime,
            retry_at: datetime | None = None) -> str:
    error = error[:300]
    DeliveryAttempt.objects.create(delivery=delivery, provider=provider,
                                   status=Status.FAILED if status == Status.RETRYING else status,
                                   error=error, at=now)
    ChannelDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=status, last_error=error, deliver_after=retry_at if retry_at else delivery.deliver_after)
    return status


def deliveries_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send the deliveries whose time has come (quiet hours over, retry back-off passed) and
    those whose worker was lost; answers counts by outcome."""
    now = now or timezone.now()
    ChannelDelivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=Status.RETRYING, deliver_after=now)
    due = list(ChannelDelivery.objects.filter(status__in=(Status.DEFERRED, Status.RETRYING),
                                              deliver_after__lte=now)
               .order_by("deliver_after", "pk").values_list("pk", flat=True)[:limit])
    outcomes: dict[str, int] = {}
    for delivery_id in due:
        outcome = delivery_send(delivery_id, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
