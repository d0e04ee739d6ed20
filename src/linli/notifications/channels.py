"""Where a message goes. `settings.LINLI_NOTIFICATION_CHANNELS` lists the channel classes
(dotted paths). The in-app channel is the inbox itself (the Message row); the outside
channels (SMS, push) get a `ChannelDelivery` per message the user's preferences let through
and hand it to their provider (linli.notifications.providers) from a task
(linli.notifications.dispatch)."""

from __future__ import annotations

from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from linli.accounts.sms import get_sms_provider

from .models import Message
from .providers import get_push_provider, provider_name


class Undeliverable(Exception):  # noqa: N818 (a reason, not a failure to retry)
    """This message cannot go on this channel to this user (no phone number): skipped."""


class Channel(Protocol):
    name: str
    external: bool  # False: the inbox (nothing to send); True: SMS, push

    def provider(self) -> str: ...

    def send(self, message: Message) -> None: ...


class InAppChannel:
    name = "in_app"
    external = False

    def provider(self) -> str:
        return "inbox"

    def send(self, message: Message) -> None:
        """The row is the inbox: nothing to send."""


class SmsChannel:
    """The same provider as the login codes (LINLI_SMS_PROVIDER)."""

    name = "sms"
    external = True

    def provider(self) -> str:
        return provider_name(get_sms_provider())

    def send(self, message: Message) -> None:
        phone = message.user.phone
        if not phone:
            raise Undeliverable("no phone number")
        text = f"{message.title}: {message.body}" if message.body else message.title
        get_sms_provider().send(phone=phone, text=text)


class PushChannel:
    name = "push"
    external = True

    def provider(self) -> str:
        return provider_name(get_push_provider())

    def send(self, message: Message) -> None:
        get_push_provider().send(alias=message.user.public_id, title=message.title, body=message.body,
                                 link=message.link)


@cache
def channels() -> tuple[Channel, ...]:
    return tuple(import_string(path)() for path in settings.LINLI_NOTIFICATION_CHANNELS)


def external_channels() -> dict[str, Channel]:
    return {channel.name: channel for channel in channels() if channel.external}
