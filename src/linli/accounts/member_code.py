"""The dynamic member code (动态会员码 / 付款码), pure Python (no Django).

An 18-digit number the counter scans, TOTP-like: it changes every 30-second step and
only the current and the previous step are accepted.

    "66" | member field (8) | authenticator (7) | Luhn check (1)

- The prefix `66` tells a Linli member code from the gateways' pay codes (WeChat
  10-15, Alipay 25-30), so a counter can route a scan without asking anybody.
- The member field is the member's key index (a small integer, < 10^8) plus a pad that
  depends on the step and a server key, mod 10^8: the counter finds the member with one
  indexed lookup per candidate step, and two codes of one member do not show the same
  number (nobody can track a member by it).
- The authenticator is HMAC-SHA256 over (version, index, step) with the member's own
  random secret, truncated TOTP-style to 7 digits. Changing the member field (to
  another member's index) needs that other member's secret: a code cannot be turned
  into another member's, and a guess is right with probability 10^-7 per step.
- The Luhn digit catches mistyped codes before any lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

PREFIX = "66"
LENGTH = 18
STEP_SECONDS = 30
INDEX_DIGITS = 8
MAC_DIGITS = 7
INDEX_SPACE = 10**INDEX_DIGITS
VERSION = b"lmc1"


def step_of(unix_seconds: float, *, period: int = STEP_SECONDS) -> int:
    return int(unix_seconds // period)


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to `digits`."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _pad(pad_key: bytes, step: int) -> int:
    digest = hmac.new(pad_key, b"pad" + struct.pack(">q", step), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % INDEX_SPACE


def _mac(secret: bytes, index: int, step: int, generation: int) -> str:
    msg = VERSION + struct.pack(">qqq", index, step, generation)
    digest = hmac.new(secret, msg, hashlib.sha256).digest()
    offset = digest[-1] & 0x0F  # RFC 4226 dynamic truncation
    value = int.from_bytes(digest[offset:offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**MAC_DIGITS:0{MAC_DIGITS}d}"


def code_render(*, index: int, secret: bytes, step: int, pad_key: bytes, generation: int = 0) -> str:
    """The member's code for `step`. `generation` moves on each time a code is used, so
    the next code shown differs even within the same step."""
    if not 0 <= index < INDEX_SPACE:
        raise ValueError("member index out of range")
    field = (index + _pad(pad_key, step)) % INDEX_SPACE
    body = f"{PREFIX}{field:0{INDEX_DIGITS}d}{_mac(secret, index, step, generation)}"
    return body + luhn_digit(body)


def code_well_formed(code: str) -> bool:
    """18 ASCII digits, our prefix, a correct Luhn digit."""
    return (len(code) == LENGTH and code.isascii() and code.isdigit()
            and code.startswith(PREFIX) and luhn_digit(code[:-1]) == code[-1])


def code_index_for_step(code: str, *, step: int, pad_key: bytes) -> int:
    """The member index the code would name if it was made in `step` (well-formed codes)."""
    field = int(code[len(PREFIX):len(PREFIX) + INDEX_DIGITS])
    return (field - _pad(pad_key, step)) % INDEX_SPACE


def code_matches(code: str, *, index: int, secret: bytes, step: int, generation: int,
                 pad_key: bytes) -> bool:
    """Constant-time: is `code` exactly the member's code for this step and generation?"""
    expected = code_render(index=index, secret=secret, step=step, pad_key=pad_key,
                           generation=generation)
    return hmac.compare_digest(expected, code)


@dataclass(frozen=True)
class Candidate:
    step: int
    index: int
    fresh: bool  # current or previous step (accepted); else only recognised as expired


def code_candidates(code: str, *, now_step: int, pad_key: bytes, recognise_steps: int = 20) -> list[Candidate]:
    """Where the code could come from: the current and previous step (fresh), then
    `recognise_steps` older steps, so an old screenshot is answered "expired" rather than
    "invalid". One lookup of all the indices finds every candidate member."""
    out = []
    for back in range(recognise_steps + 2):
        step = now_step - back
        out.append(Candidate(step, code_index_for_step(code, step=step, pad_key=pad_key), back <= 1))
    return out
