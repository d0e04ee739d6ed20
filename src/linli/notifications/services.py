"""Sending a message to a user (with the marketing caps and opt-out), reading it, and the
user's preferences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import NotFound

from .channels import channels
from .models import Message, NotificationPreference


class MessageNotFound(NotFound):
    code = "message_not_found"
    message = _("You have no such message.")


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    reason: str  # "" when delivered; opted_out, capped_day, capped_week
    message: Message | None


def marketing_allowed(user: User, now: datetime) -> str:
    """"" when a marketing message may go to this user now, else why not: `opted_out`,
    `capped_day` (LINLI_MARKETING_CAP_PER_DAY in the last 24 h), `capped_week`
    (LINLI_MARKETING_CAP_PER_WEEK in the last 7 days)."""
    if NotificationPreference.objects.filter(user=user, marketing_opt_out=True).exists():
        return "opted_out"
    recent = Message.objects.filter(user=user, marketing=True, created_at__gt=now - timedelta(days=7))
    if recent.filter(created_at__gt=now - timedelta(hours=24)).count() >= settings.LINLI_MARKETING_CAP_PER_DAY:
        return "capped_day"
    if recent.count() >= settings.LINLI_MARKETING_CAP_PER_WEEK:
        return "capped_week"
    return ""


def notify(user: User, kind: str, title: str, body: str = "", link: str = "", *, marketing: bool = False,
           campaign_ref: str = "", now: datetime | None = None) -> Delivery:
    """Put a message in the user's inbox and hand it to the channels after commit. A
    marketing message is not sent (delivered False, with the reason) to a user who opted
    out or has reached a frequency cap. Runs inside the caller's transaction."""
    now = now or timezone.now()
    if marketing:
        reason = marketing_allowed(user, now)
        if reason:
            return Delivery(False, reason, None)
    message = Message.objects.create(user=user, kind=kind[:32], title=title[:60], body=body[:300], link=link[:200],
                                     marketing=marketing, campaign_ref=campaign_ref, created_at=now)
    transaction.on_commit(lambda: _hand_over(message))
    return Delivery(True, "", message)


def _hand_over(message: Message) -> None:
    for channel in channels():
        channel.send(message)


def message_read(*, user: User, message_id: str, now: datetime | None = None) -> Message:
    """Mark one of the user's messages read (idempotent: the first time is kept)."""
    message = Message.objects.filter(user=user, public_id=message_id).first()
    if message is None:
        raise MessageNotFound(message_id=message_id)
    if message.read_at is None:
        message.read_at = now or timezone.now()
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=message.read_at)
    return message


def preference_set(*, user: User, marketing_opt_out: bool) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"marketing_opt_out": marketing_opt_out})
    return preference
