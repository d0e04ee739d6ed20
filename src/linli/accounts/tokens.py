"""JWT access and refresh tokens for the API (HS256, signed with LINLI_SECRET_KEY)."""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import lru_cache
from typing import Any

import jwt
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.errors import NotAuthenticated

ALGORITHM = "HS256"


class InvalidToken(NotAuthenticated):
    code = "invalid_token"
    message = _("The token is invalid or has expired.")


def _encode(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, settings.SECRET_KEY, algorithm=ALGORITHM)


def token_pair_issue(*, user_public_id: str, token_version: int) -> dict[str, Any]:
    now: datetime = timezone.now()
    base = {"sub": user_public_id, "tv": token_version, "iat": int(now.timestamp())}
    access_exp = now + settings.LINLI_JWT_ACCESS_TTL
    refresh_exp = now + settings.LINLI_JWT_REFRESH_TTL
    return {
        "access_token": _encode({**base, "typ": "access", "exp": int(access_exp.timestamp())}),
        "refresh_token": _encode(
            {**base, "typ": "refresh", "jti": secrets.token_hex(8), "exp": int(refresh_exp.timestamp())}
        ),
        "token_type": "Bearer",
        "expires_in": int(settings.LINLI_JWT_ACCESS_TTL.total_seconds()),
    }


def token_decode(token: str, *, expected_type: str) -> dict[str, Any]:
    claims = _verified(token, settings.SECRET_KEY)
    # checked on every use: the signature was verified once, the expiry never stops moving
    if claims["exp"] <= timezone.now().timestamp() or claims.get("typ") != expected_type:
        raise InvalidToken()
    return dict(claims)


@lru_cache(maxsize=2048)
def _verified(token: str, key: str) -> dict[str, Any]:
    """A token's claims once its signature is verified, remembered (PyJWT's decode was ~6 %
    of an order's CPU, every request of a client presents the same token for its hour).
    Keyed by the signing key too, so a token signed with a key no longer in use is not
    taken from here. A refused token raises, and what raises is not remembered."""
    try:
        return jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken() from exc
