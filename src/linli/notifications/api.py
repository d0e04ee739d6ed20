"""/me/messages: the inbox; /me/notification-preferences: the marketing opt-out."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from linli.core.auth import jwt_auth

from . import selectors, services
from .models import Message

router = Router(tags=["notifications"], auth=jwt_auth)


class MessageOut(Schema):
    id: str
    kind: str
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


class PreferenceIn(Schema):
    marketing_opt_out: bool


class PreferenceOut(Schema):
    marketing_opt_out: bool


def message_out(message: Message) -> dict[str, Any]:
    return {"id": message.public_id, "kind": message.kind, "title": message.title, "body": message.body,
            "link": message.link, "marketing": message.marketing, "created_at": message.created_at.isoformat(),
            "read_at": message.read_at.isoformat() if message.read_at else None}


@router.get("/me/messages", response=InboxOut, summary="My messages, newest first")
def my_messages(request: HttpRequest, q: Query[InboxQuery]) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    return {"items": [message_out(m) for m in selectors.inbox(user=user, limit=q.limit, unread_only=q.unread_only)],
            "unread": selectors.unread_count(user=user)}


@router.post("/me/messages/{message_id}/read", response=MessageOut, summary="Mark a message read")
def message_read(request: HttpRequest, message_id: str) -> dict[str, Any]:
    return message_out(services.message_read(user=request.auth, message_id=message_id))  # type: ignore[attr-defined]


@router.post("/me/notification-preferences", response=PreferenceOut,
             summary="Opt out of (or back into) marketing messages")
def preferences_set(request: HttpRequest, body: PreferenceIn) -> dict[str, Any]:
    preference = services.preference_set(user=request.auth, marketing_opt_out=body.marketing_opt_out)  # type: ignore[attr-defined]
    return {"marketing_opt_out": preference.marketing_opt_out}
