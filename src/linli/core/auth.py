"""API authentication: `Authorization: Bearer <JWT access token>`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer


class JWTAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from linli.accounts.services import user_from_token

        user = user_from_token(token=token)
        request.user = user  # type: ignore[assignment]
        return user


jwt_auth = JWTAuth()
