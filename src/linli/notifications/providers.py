"""Providers behind the outside channels.

SMS shares the seam of the login codes (`linli.accounts.sms`: `LINLI_SMS_PROVIDER`, a class
with `send(*, phone, text)`); `AliyunSmsProvider` below is a real vendor's adapter for that
seam. Push has its own seam (`LINLI_PUSH_PROVIDER`: `send(*, alias, title, body, link)`),
addressed by the user's public id as the alias the apps register with the push vendor (so no
device tokens are stored here). The default push provider logs and keeps an outbox.

A provider raises `ProviderError` when the vendor refuses or cannot be reached; the channel
records the attempt and the delivery is retried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol
from urllib.parse import quote, urlencode
from urllib.request import urlopen

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("linli.notifications")


class ProviderError(Exception):
    """The provider did not take the message (the text says why, for the delivery log)."""


class PushProvider(Protocol):
    def send(self, *, alias: str, title: str, body: str, link: str) -> None: ...


class ConsolePushProvider:
    """Writes each push to the log and keeps it in `outbox` (what a phone would show)."""

    outbox: list[dict[str, str]] = []

    def send(self, *, alias: str, title: str, body: str, link: str) -> None:
        logger.info("push to %s: %s %s %s", alias, title, body, link)
        self.outbox.append({"alias": alias, "title": title, "body": body, "link": link})


@cache
def get_push_provider() -> PushProvider:
    return import_string(settings.LINLI_PUSH_PROVIDER)()  # type: ignore[no-any-return]


def provider_name(provider: object) -> str:
    return type(provider).__name__[:80]


# --- Aliyun SMS (dysmsapi SendSms, RPC style, HMAC-SHA1 signature) -----------------------------

ALIYUN_SMS_ENDPOINT = "https://dysmsapi.aliyuncs.com/"


def _percent(text: str) -> str:
    """Aliyun's POP encoding: RFC 3986 (space %20, * %2A, ~ kept)."""
    return quote(text, safe="~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "GET") -> str:
    """The `Signature` of an Aliyun RPC request: HMAC-SHA1 over the method and the sorted,
    encoded query, keyed with the secret and "&" (Aliyun's documented algorithm)."""
    canonical = "&".join(f"{_percent(k)}={_percent(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{_percent('/')}&{_percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def aliyun_sms_request(*, access_key_id: str, secret: str, phone: str, sign_name: str, template_code: str,
                       template_param: dict[str, Any], timestamp: datetime | None = None,
                       nonce: str | None = None) -> str:
    """The signed SendSms URL (GET). Pure: builds, never sends."""
    at = (timestamp or datetime.now(UTC)).astimezone(UTC)
    params = {
        "AccessKeyId": access_key_id, "Action": "SendSms", "Format": "JSON",
        "PhoneNumbers": phone.removeprefix("+86"), "RegionId": "cn-hangzhou", "SignName": sign_name,
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": nonce or uuid.uuid4().hex,
        "SignatureVersion": "1.0", "TemplateCode": template_code,
        "TemplateParam": json.dumps(template_param, ensure_ascii=False, separators=(",", ":")),
        "Timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2017-05-25",
    }
    signature = aliyun_signature(params, secret)
    return f"{ALIYUN_SMS_ENDPOINT}?Signature={_percent(signature)}&{urlencode(params, quote_via=quote)}"


class AliyunSmsProvider:
    """Aliyun SMS for the SMS seam (`LINLI_SMS_PROVIDER=linli.notifications.providers.
    AliyunSmsProvider`). Chinese carriers only deliver approved templates, so the text is
    passed as the `${content}` parameter of one approved notice template
    (`LINLI_ALIYUN_SMS_TEMPLATE`), under the approved signature (`LINLI_ALIYUN_SMS_SIGN`).
    Refuses (ProviderError) unless the access key, secret, sign and template are all set:
    nothing leaves the machine otherwise."""

    timeout_seconds = 5.0

    def send(self, *, phone: str, text: str) -> None:
        key, secret = settings.LINLI_ALIYUN_SMS_ACCESS_KEY_ID, settings.LINLI_ALIYUN_SMS_ACCESS_KEY_SECRET
        sign, template = settings.LINLI_ALIYUN_SMS_SIGN, settings.LINLI_ALIYUN_SMS_TEMPLATE
        if not (key and secret and sign and template):
            raise ProviderError("aliyun sms is not configured")
        url = aliyun_sms_request(access_key_id=key, secret=secret, phone=phone, sign_name=sign,
                                 template_code=template, template_param={"content": text})
        try:
            with urlopen(url, timeout=self.timeout_seconds) as answer:  # noqa: S310 (https, fixed host)
                body = json.loads(answer.read().decode())
        except (OSError, ValueError) as exc:
            raise ProviderError(f"aliyun sms unreachable: {exc}") from exc
        if body.get("Code") != "OK":
            raise ProviderError(f"aliyun sms refused: {body.get('Code')} {body.get('Message', '')}"[:300])
