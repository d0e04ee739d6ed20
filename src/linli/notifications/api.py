"""/me/messages: the inbox; /me/notification-preferences: marketing opt-out, SMS and push per
category, quiet hours and the language of messages."""

from __future__ import annotations

from datetime import time
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from linli.core.auth import jwt_auth

from . import selectors, services
from .models import Message, NotificationPreference

router = Router(tags=["notifications"], auth=jwt_auth)


class MessageOut(Schema):
    id: str
    kind: str
    category: str
    title: str
    body: str
    link: str
    marketing: bool
    created_at: str
    read_at: str | None


class InboxOut(Schema):
    items: list[MessageOut]
    unread: int


class InboxQuery(Schema):
    unread_only: bool = False
    limit: int = Field(50, ge=1, le=100)
    category: Literal["order", "promotion", "system"] | None = None


class PreferenceIn(Schema):
    """Only what is given changes. Quiet hours: both times (HH:MM, local time of the city)
    or both null to switch them off."""

    marketing_opt_out: bool | None = None
    order_sms: bool | None = None
    order_push: bool | None = None
    promotion_sms: bool | None = None
    promotion_push: bool | None = None
    system_sms: bool | None = None
    system_push: bool | None = None
    quiet_start: time | None = None
    quiet_end: time | None = None
    language: str | None = Field(None, max_length=10)


class PreferenceOut(Schema):
    marketing_opt_out: bool
    order_sms: bool
    order_push: bool
    promotion_sms: bool
    promotion_push: bool
    system_sms: bool
    system_push: bool
    quiet_start: str | None
    quiet_end: str | None
    language: str


class ReadAllOut(Schema):
    marked: int


def message_out(message: Message) -> dict[str, Any]:
    return {"id": message.public_id, "kind": message.kind, "category": message.category, "title": message.title,
            "body": message.body, "link": message.link, "marketing": message.marketing,
            "created_at": message.created_at.isoformat(),
            "read_at": message.read_at.isoformat() if message.read_at else None}


def preference_out(preference: NotificationPreference) -> dict[str, Any]:
    out: dict[str, Any] = {flag: getattr(preference, flag) for flag in services.PREFERENCE_FLAGS}
    out["quiet_start"] = preference.quiet_start.strftime("%H:%M") if preference.quiet_start else None
    out["quiet_end"] = preference.quiet_end.strftime("%H:%M") if preference.quiet_end else None
    out["language"] = preference.language
    return out


@router.get("/me/messages", response=InboxOut, summary="My messages, newest first")
def my_messages(request: HttpRequest, q: Query[InboxQuery]) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    items = selectors.inbox(user=user, limit=q.limit, unread_only=q.unread_only, category=q.category or "")
    return {"items": [message_out(m) for m in items], "unread": selectors.unread_count(user=user)}


@router.post("/me/messages/read-all", response=ReadAllOut, summary="Mark all my messages read")
def messages_read_all(request: HttpRequest) -> dict[str, Any]:
    return {"marked": services.messages_read_all(user=request.auth)}  # type: ignore[attr-defined]


@router.post("/me/messages/{message_id}/read", response=MessageOut, summary="Mark a message read")
def message_read(request: HttpRequest, message_id: str) -> dict[str, Any]:
    return message_out(services.message_read(user=request.auth, message_id=message_id))  # type: ignore[attr-defined]


@router.get("/me/notification-preferences", response=PreferenceOut, summary="My notification preferences")
def preferences_get(request: HttpRequest) -> dict[str, Any]:
    return preference_out(services.preference_of(request.auth))  # type: ignore[attr-defined]


@router.post("/me/notification-preferences", response=PreferenceOut,
             summary="Change my notification preferences (only the fields given)")
def preferences_set(request: HttpRequest, body: PreferenceIn) -> dict[str, Any]:
    changes = body.dict(exclude_unset=True)
    preference = services.preference_update(user=request.auth, changes=changes)  # type: ignore[attr-defined]
    return preference_out(preference)
