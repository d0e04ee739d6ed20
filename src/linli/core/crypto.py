"""Field-level encryption of personal data at rest (issue 14). Pure: no Django; keys come in.

A stored value is ``enc1:<kid>:<base64url(nonce || ciphertext+tag)>``: AES-256-GCM with a
random 96-bit nonce, and the header (``enc1:<kid>``) bound as associated data so a kid cannot
be swapped on a ciphertext. The key id says which key of the ring opens it, so keys rotate:
new writes use the ring's current (first) key, old values keep opening while their key stays
in the ring, and ``linli rotate-field-keys`` rewrites them until the old key can go.

Lookups never touch ciphertext (a random nonce makes equal values differ): a keyed hash
(``lookup_hash``, HMAC-SHA256 with a separate key) of the normalised value is what is indexed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "enc1"
PREFIX = VERSION + ":"
NONCE_BYTES = 12
KEY_BYTES = 32
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class FieldKeyError(ValueError):
    """A key ring that cannot be used (bad spec) or a value that no key of it opens."""


@dataclass(frozen=True)
class KeyRing:
    """Keys by id; `current` encrypts, every key decrypts."""

    keys: dict[str, bytes]
    current: str

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise FieldKeyError(f"current key {self.current!r} is not in the ring")
        for kid, key in self.keys.items():
            if not KID_PATTERN.match(kid):
                raise FieldKeyError(f"bad key id {kid!r}: letters, digits, _ or -, at most 16")
            if len(key) != KEY_BYTES:
                raise FieldKeyError(f"key {kid!r} must be {KEY_BYTES} bytes, not {len(key)}")


def keyring_parse(spec: str) -> KeyRing:
    """'k2:<base64 key>,k1:<base64 key>' -> KeyRing with k2 current (the first one)."""
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        kid, sep, encoded = item.partition(":")
        if not sep:
            raise FieldKeyError("each key is 'kid:base64key'")
        encoded = encoded.strip().replace("-", "+").replace("_", "/")  # url-safe accepted too
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise FieldKeyError(f"key {kid!r} is not base64") from exc
        kid = kid.strip()
        if kid in keys:
            raise FieldKeyError(f"key id {kid!r} appears twice")
        keys[kid] = key
        order.append(kid)
    if not order:
        raise FieldKeyError("the key ring is empty")
    return KeyRing(keys=keys, current=order[0])


def key_derive(secret: str, purpose: str) -> bytes:
    """A 32-byte key from a secret for one purpose (development defaults only)."""
    return hmac.new(secret.encode(), b"linli:" + purpose.encode(), hashlib.sha256).digest()


def key_generate() -> str:
    """A fresh key, base64 (for `LINLI_FIELD_KEYS`)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def is_encrypted(value: str) -> bool:
    return value.startswith(PREFIX)


def token_kid(token: str) -> str | None:
    """The key id of a stored value, None for plaintext."""
    if not is_encrypted(token):
        return None
    return token.split(":", 2)[1]


def encrypt(plaintext: str, ring: KeyRing) -> str:
    header = f"{VERSION}:{ring.current}"
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current]).encrypt(nonce, plaintext.encode(), header.encode())
    return f"{header}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def decrypt(token: str, ring: KeyRing) -> str:
    """The plaintext of a stored value. Values without the prefix are plaintext written
    before encryption (or before their data migration ran) and come back as they are."""
    if not is_encrypted(token):
        return token
    try:
        _, kid, body = token.split(":", 2)
    except ValueError as exc:
        raise FieldKeyError("malformed ciphertext") from exc
    key = ring.keys.get(kid)
    if key is None:
        raise FieldKeyError(f"no key {kid!r} in the ring: was it removed before rotating?")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        opened = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"{VERSION}:{kid}".encode())
    except (binascii.Error, ValueError, InvalidTag) as exc:
        raise FieldKeyError(f"ciphertext with key {kid!r} does not open") from exc
    return opened.decode()


def lookup_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 hex of a normalised value: equal inputs give equal hashes (so it can be
    indexed and unique), but without the key nobody can test guesses against it."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
