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


def require_operator(request: HttpRequest) -> Any:
    """For anonymous endpoints with an operator-only extra (e.g. ranking debug output):
    the bearer token must belong to an operator or support agent."""
    from linli.core.errors import NotAuthenticated, PermissionDenied

    user = optional_user(request)
    if user is None:
        raise NotAuthenticated()
    if user.platform_role not in ("operator", "support"):
        raise PermissionDenied()
    return user


def optional_user(request: HttpRequest) -> Any:
    """For anonymous endpoints that personalise when they can (recommendations): the
    bearer's user, or None without an Authorization header; a bad token is still a 401."""
    from linli.accounts.services import user_from_token

    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return user_from_token(token=header.removeprefix("Bearer ").strip())
