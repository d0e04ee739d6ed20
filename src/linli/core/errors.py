"""Domain errors: one class per error, each with a stable machine-readable code.

Services raise them; `linli.api` maps every one to a 4xx JSON answer
`{"code", "message", "details"}`. Messages are translatable (zh-Hans and en).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code: str = "error"
    status: int = 400
    message: Any = _("The request could not be processed.")

    def __init__(self, message: Any | None = None, **details: Any) -> None:
        if message is not None:
            self.message = message
        self.details = details
        super().__init__(str(self.message))


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422
    message = _("The request is invalid.")


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    message = _("Please log in first.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    message = _("You are not allowed to do this.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = _("The requested resource does not exist.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message = _("The request conflicts with the current state.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    message = _("Too many requests, please try again later.")


class IllegalTransition(Conflict):
    code = "illegal_transition"
    message = _("This action is not allowed in the current state.")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = _("This idempotency key was already used for a different request.")


class InvalidCursor(InvalidInput):
    """A page cursor that was not issued by us (or for another query): start over."""

    code = "invalid_cursor"
    message = _("The page cursor is not valid; start again from the first page.")
