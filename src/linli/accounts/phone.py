"""Phone numbers: parse what people type, store E.164."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext_lazy as _

from linli.core.errors import InvalidInput


class InvalidPhone(InvalidInput):
    code = "invalid_phone"
    message = _("The phone number is not valid.")


def phone_normalise(raw: str, *, region: str = "CN") -> str:
    """'138 0013 8000' -> '+8613800138000'; raises InvalidPhone."""
    if not raw or len(raw) > 32:
        raise InvalidPhone(phone=raw)
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(phone=raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(phone=raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_for_lookup(raw: str) -> str:
    """E.164 when `raw` is a valid number, else `raw` as given: what a lookup by phone
    hashes (an operator's search "13800138000" finds "+8613800138000")."""
    from django.conf import settings

    try:
        return phone_normalise(raw.strip(), region=settings.LINLI_DEFAULT_REGION)
    except InvalidPhone:
        return raw


def phone_mask(e164: str) -> str:
    """'+8613800138000' -> '+86138****8000' for display to others."""
    if len(e164) < 8:
        return "****"
    return e164[:-8] + "****" + e164[-4:]
