"""Where a delivered message goes besides the inbox. `settings.LINLI_NOTIFICATION_CHANNELS`
lists the channel classes (dotted paths); each gets every delivered message after commit.
Only the in-app channel exists now (the Message row is the inbox, so it has nothing more to
do); SMS and push providers (issue 10) are further classes with the same `send`."""

from __future__ import annotations

from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from .models import Message


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


class InAppChannel:
    name = "in_app"

    def send(self, message: Message) -> None:
        """The row is the inbox: nothing to send."""


@cache
def channels() -> tuple[Channel, ...]:
    return tuple(import_string(path)() for path in settings.LINLI_NOTIFICATION_CHANNELS)
