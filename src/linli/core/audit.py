"""The audit log of sensitive actions: who (user and role) did what (an action code) to
which target (kind and public id), when, from which address, with a few details.

`audit()` is one line at each sensitive place (refunds by staff, finance adjustments,
merchant approvals, role changes, suspensions, arbitration, data exports and account
deletions). Call it inside the action's transaction so that the entry and the action
commit or roll back together. Entries are append-only (`accounts.audit_models`).
Details never carry secrets or full phone numbers: keys that look secret are dropped,
values that look like phone numbers are masked.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from .logmask import digits_mask

_address: ContextVar[str] = ContextVar("linli_audit_address", default="")

SECRET_KEYS = re.compile(r"pass|secret|token|key|code_hash|otp|cvv|card|bank_account|licence_number",
                         re.IGNORECASE)
PHONE = re.compile(r"\+?\d{11,15}")
MAX_TEXT = 500


def details_clean(value: Any) -> Any:
    """What may be stored: plain JSON, secrets dropped, phone numbers masked, text cut."""
    if isinstance(value, dict):
        return {str(k): details_clean(v) for k, v in value.items() if not SECRET_KEYS.search(str(k))}
    if isinstance(value, (list, tuple, set)):
        return [details_clean(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return PHONE.sub(lambda m: digits_mask(m.group()), text)[:MAX_TEXT]


def actor_role(actor: Any) -> str:
    """The role an actor most likely acted in, when the caller does not say."""
    if actor is None:
        return "system"
    if getattr(actor, "platform_role", ""):
        return str(actor.platform_role)
    if getattr(actor, "is_staff", False):
        return "operator"
    return "user"


def audit(actor: Any, action: str, target_kind: str, target_id: str, *, role: str = "",
          **details: Any) -> Any:
    """Record one audit entry and return it. `role` defaults to the actor's platform role."""
    from linli.accounts.audit_models import AuditEntry

    return AuditEntry.objects.create(
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_public_id=getattr(actor, "public_id", "") or "",
        role=(role or actor_role(actor))[:16], action=action[:64],
        target_kind=target_kind[:32], target_id=str(target_id)[:64],
        details=details_clean(details), address=_address.get()[:64])


@sync_and_async_middleware
def request_address_middleware(get_response: Callable[..., Any]) -> Callable[..., Any]:
    """Remembers the request's address for the audit entries written while it is served
    (sync and async, so it adds no thread hop under ASGI)."""
    from linli.core.ratelimit import client_address

    if iscoroutinefunction(get_response):
        async def amiddleware(request: HttpRequest) -> HttpResponse:
            token = _address.set(client_address(request))
            try:
                response: Awaitable[HttpResponse] = get_response(request)
                return await response
            finally:
                _address.reset(token)
        return amiddleware

    def middleware(request: HttpRequest) -> HttpResponse:
        token = _address.set(client_address(request))
        try:
            return get_response(request)  # type: ignore[no-any-return]
        finally:
            _address.reset(token)
    return middleware


class address_as:  # noqa: N801 - used like a function: `with address_as("10.0.0.1"):`
    """Sets the request address outside a request (management commands, tests)."""

    def __init__(self, address: str) -> None:
        self.address = address

    def __enter__(self) -> None:
        self._token = _address.set(self.address)

    def __exit__(self, *exc: object) -> None:
        _address.reset(self._token)
