"""Reads: a user's inbox and unread count."""

from __future__ import annotations

from linli.accounts.models import User

from .models import Message, NotificationPreference


def inbox(*, user: User, limit: int = 50, unread_only: bool = False) -> list[Message]:
    """The user's newest messages first."""
    messages = Message.objects.filter(user=user)
    if unread_only:
        messages = messages.filter(read_at__isnull=True)
    return list(messages.order_by("-created_at", "-pk")[:limit])


def unread_count(*, user: User) -> int:
    return Message.objects.filter(user=user, read_at__isnull=True).count()


def marketing_opted_out(*, user: User) -> bool:
    return NotificationPreference.objects.filter(user=user, marketing_opt_out=True).exists()
