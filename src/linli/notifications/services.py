"""Sending a message to a user (deduplicated, with the marketing caps and opt-out, then to
SMS and push as the user's preferences and quiet hours allow), reading it, and the user's
preferences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import InvalidInput, NotFound
from linli.core.outbox import enqueue

from .channels import channels
from .models import Category, ChannelDelivery, Message, NotificationPreference
from .quiet import quiet_until
from .templates import render, template_get


class MessageNotFound(NotFound):
    code = "message_not_found"
    message = _("You have no such message.")


class QuietHoursInvalid(InvalidInput):
    code = "quiet_hours_invalid"
    message = _("Give both the start and the end of the quiet hours, and make them differ.")


class LanguageUnsupported(InvalidInput):
    code = "language_unsupported"
    message = _("Messages can be written in Simplified Chinese or English only.")


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    reason: str  # "" when delivered; opted_out, capped_day, capped_week, duplicate
    message: Message | None  # duplicate: the message sent the first time


# Kinds that are system notices when the caller does not say (account and platform news).
SYSTEM_KINDS = ("system", "account", "security")


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


def _category_of(kind: str, marketing: bool) -> str:
    if marketing:
        return Category.PROMOTION
    if kind.startswith(SYSTEM_KINDS):
        return Category.SYSTEM
    return Category.ORDER


def preference_of(user: User) -> NotificationPreference:
    """The user's preferences, or the defaults (an unsaved row) when never chosen."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def notify(user: User, kind: str, title: str, body: str = "", link: str = "", *, marketing: bool = False,
           campaign_ref: str = "", now: datetime | None = None, category: str | None = None,
           urgent: bool = False, dedupe_key: str = "") -> Delivery:
    """Put a message in the user's inbox and, after commit, send it by SMS and push as the
    user's preferences for its category allow (non-urgent ones wait for the end of quiet
    hours). A marketing message is not sent (delivered False, with the reason) to a user who
    opted out or has reached a frequency cap. With a `dedupe_key` (one per event, such as
    `order:<id>:<state>`) the same event never reaches a user twice, even when sent twice at
    once: the second answer is `duplicate` with the first message. Runs inside the caller's
    transaction."""
    now = now or timezone.now()
    dedupe_key = dedupe_key[:100]
    if dedupe_key:
        first = Message.objects.filter(user=user, dedupe_key=dedupe_key).first()
        if first is not None:
            return Delivery(False, "duplicate", first)
    if marketing:
        reason = marketing_allowed(user, now)
        if reason:
            return Delivery(False, reason, None)
    category = category or _category_of(kind, marketing)
    fields: dict[str, Any] = {
        "user": user, "kind": kind[:32], "category": category, "title": title[:60], "body": body[:300],
        "link": link[:200], "marketing": marketing, "urgent": urgent, "campaign_ref": campaign_ref,
        "dedupe_key": dedupe_key, "created_at": now}
    if dedupe_key:
        try:
            with transaction.atomic():  # a savepoint: the caller's transaction survives a duplicate
                message = Message.objects.create(**fields)
        except IntegrityError:
            first = Message.objects.filter(user=user, dedupe_key=dedupe_key).first()
            if first is None:
                raise
            return Delivery(False, "duplicate", first)
    else:
        message = Message.objects.create(**fields)
    due = _plan_deliveries(message, preference_of(user), now)
    transaction.on_commit(lambda: _hand_over(message, due))
    return Delivery(True, "", message)


def notify_event(user: User, kind: str, *, context: dict[str, Any], link: str = "", dedupe_key: str = "",
                 now: datetime | None = None) -> Delivery:
    """Send the registered template `kind` (linli.notifications.templates), written in the
    user's language, with its category and urgency."""
    template = template_get(kind)
    title, body = render(kind, context, preference_of(user).language or settings.LANGUAGE_CODE)
    return notify(user, kind, title, body, link, category=template.category, urgent=template.urgent,
                  dedupe_key=dedupe_key, now=now)


def _plan_deliveries(message: Message, preference: NotificationPreference, now: datetime) -> list[int]:
    """One ChannelDelivery per outside channel the user wants for this category; deferred to
    the end of quiet hours unless urgent. Answers the ids to send at once."""
    from .channels import external_channels

    wanted = [name for name in external_channels() if preference.wants(message.category, name)]
    if not wanted:
        return []
    after = None if message.urgent else quiet_until(now, preference.quiet_start, preference.quiet_end,
                                                    settings.LINLI_DEFAULT_CITY_TZ)
    status = ChannelDelivery.Status.DEFERRED if after else ChannelDelivery.Status.PENDING
    rows = ChannelDelivery.objects.bulk_create([
        ChannelDelivery(message=message, channel=name, status=status, deliver_after=after, created_at=now)
        for name in wanted])
    if after:
        return []
    if rows and rows[0].pk is None:  # backends that do not return ids from bulk inserts
        return list(ChannelDelivery.objects.filter(message=message).values_list("pk", flat=True))
    return [row.pk for row in rows]


def _hand_over(message: Message, due: list[int]) -> None:
    for channel in channels():
        if not getattr(channel, "external", False):
            channel.send(message)
    for delivery_id in due:
        enqueue("linli.notifications.tasks.deliver", delivery_id)  # kept in the outbox if the broker is down


def message_read(*, user: User, message_id: str, now: datetime | None = None) -> Message:
    """Mark one of the user's messages read (idempotent: the first time is kept)."""
    message = Message.objects.filter(user=user, public_id=message_id).first()
    if message is None:
        raise MessageNotFound(message_id=message_id)
    if message.read_at is None:
        message.read_at = now or timezone.now()
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=message.read_at)
    return message


def messages_read_all(*, user: User, now: datetime | None = None) -> int:
    """Mark every unread message of the user read; answers how many were unread."""
    return Message.objects.filter(user=user, read_at__isnull=True).update(read_at=now or timezone.now())


PREFERENCE_FLAGS = ("marketing_opt_out", "order_sms", "order_push", "promotion_sms", "promotion_push",
                    "system_sms", "system_push")


def preference_update(*, user: User, changes: dict[str, Any]) -> NotificationPreference:
    """Change some of the user's choices (flags in PREFERENCE_FLAGS, `quiet_start` and
    `quiet_end` together, `language`); what is not given stays."""
    with transaction.atomic():
        preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        for flag in PREFERENCE_FLAGS:
            if changes.get(flag) is not None:
                setattr(preference, flag, bool(changes[flag]))
        if "quiet_start" in changes or "quiet_end" in changes:
            start, end = changes.get("quiet_start"), changes.get("quiet_end")
            if (start is None) != (end is None) or (start is not None and start == end):
                raise QuietHoursInvalid(quiet_start=str(start), quiet_end=str(end))
            preference.quiet_start, preference.quiet_end = _minute(start), _minute(end)
        if changes.get("language") is not None:
            language = changes["language"]
            if language and language not in dict(settings.LANGUAGES):
                raise LanguageUnsupported(language=language)
            preference.language = language
        preference.save()
    return preference


def _minute(at: time | None) -> time | None:
    return at.replace(second=0, microsecond=0) if at else None


def preference_set(*, user: User, marketing_opt_out: bool) -> NotificationPreference:
    """Opt out of (or back into) marketing messages."""
    return preference_update(user=user, changes={"marketing_opt_out": marketing_opt_out})
