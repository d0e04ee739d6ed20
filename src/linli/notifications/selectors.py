"""Reads: a user's inbox and unread count, a message's delivery log."""

from __future__ import annotations

from linli.accounts.models import User

from .models import ChannelDelivery, Message, NotificationPreference


def inbox(*, user: User, limit: int = 50, unread_only: bool = False, category: str = "") -> list[Message]:
    """The user's newest messages first (of one category when given)."""
    messages = Message.objects.filter(user=user)
    if category:
        messages = messages.filter(category=category)
    if unread_only:
        messages = messages.filter(read_at__isnull=True)
    return list(messages.order_by("-created_at", "-pk")[:limit])


def unread_count(*, user: User) -> int:
    return Message.objects.filter(user=user, read_at__isnull=True).count()


def marketing_opted_out(*, user: User) -> bool:
    return NotificationPreference.objects.filter(user=user, marketing_opt_out=True).exists()


def deliveries_of(*, message: Message) -> list[ChannelDelivery]:
    """The message's SMS and push deliveries with their attempts (the delivery log)."""
    return list(ChannelDelivery.objects.filter(message=message).prefetch_related("log").order_by("channel"))
