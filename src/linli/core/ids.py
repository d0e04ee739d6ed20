"""Opaque public identifiers: `<prefix>_<26 chars>`, time-ordered, unguessable.

48 bits of milliseconds then 80 random bits, Crockford base32 (the ULID layout),
so ids sort by creation time and keyset pagination can use them directly.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_public_id(prefix: str) -> str:
    millis = int(time.time() * 1000) & ((1 << 48) - 1)
    value = (millis << 80) | secrets.randbits(80)
    return f"{prefix}_{_encode(value, 26)}"
