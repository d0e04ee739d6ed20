"""SMS providers. The default writes the message to the log, for development and demos."""

from __future__ import annotations

import logging
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from .phone import phone_mask

logger = logging.getLogger("linli.sms")


class SmsProvider(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class LogSmsProvider:
    def send(self, *, phone: str, text: str) -> None:
        logger.warning("SMS to %s: %s", phone_mask(phone), text)


class OutboxSmsProvider:
    """Keeps sent messages in memory: for tests that read the code like a phone would."""

    outbox: list[tuple[str, str]] = []

    def send(self, *, phone: str, text: str) -> None:
        self.outbox.append((phone, text))


@cache
def get_sms_provider() -> SmsProvider:
    return import_string(settings.LINLI_SMS_PROVIDER)()
