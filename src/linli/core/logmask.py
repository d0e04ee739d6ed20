"""A logging filter that masks phone numbers in every log line (issue 14): whatever a
message interpolates (a phone typed into a form, an exception text), the console shows
``+86138****8000``. Pure standard library; installed on the console handler in settings."""

from __future__ import annotations

import logging
import re

# E.164 (+ and 10-14 digits) or a bare mainland mobile (1[3-9] and 9 digits), not inside a
# longer run of digits or letters (trade numbers, public ids).
PHONE_IN_TEXT = re.compile(r"(?<![\w+])(?:\+\d{10,14}|1[3-9]\d{9})(?!\d)")


def digits_mask(digits: str) -> str:
    """'+8613800138000' -> '+86138****8000': the middle four of the last eight hidden (the
    log filter here and the audit log's details both mask this way)."""
    return digits[:-8] + "****" + digits[-4:]


def phones_mask(text: str) -> str:
    """'SMS to +8613800138000' -> 'SMS to +86138****8000'."""
    return PHONE_IN_TEXT.sub(lambda m: digits_mask(m.group()), text)


class PhoneMaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = phones_mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
