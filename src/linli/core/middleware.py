"""Request guards that every endpoint needs, written once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import sync_and_async_middleware
from django.utils.translation import gettext as _

_TEXT_BODIES = ("application/json", "application/x-www-form-urlencoded", "text/")


def _has_nul(request: HttpRequest) -> bool:
    """PostgreSQL text cannot hold NUL: a NUL anywhere in a query would become a 500."""
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if request.content_type.startswith(_TEXT_BODIES):  # never inspect uploaded files
        body = request.body
        return b"\x00" in body or b"\\u0000" in body or b"%00" in body
    return False


def _refuse() -> HttpResponse:
    return JsonResponse({"code": "invalid_input", "details": {},
                         "message": _("The request contains a NUL character.")}, status=422)


@sync_and_async_middleware
def reject_nul_characters(get_response: Callable) -> Callable:  # type: ignore[type-arg]
    """Answer 422 invalid_input to any request carrying a NUL character in its path, query or text
    body. Async-capable, so it adds no thread hop under ASGI."""
    if iscoroutinefunction(get_response):
        async def middleware(request: HttpRequest) -> HttpResponse:
            if _has_nul(request):
                return _refuse()
            response: Awaitable[HttpResponse] = get_response(request)
            return await response
    else:
        def middleware(request: HttpRequest) -> HttpResponse:  # type: ignore[misc]
            if _has_nul(request):
                return _refuse()
            return get_response(request)
    return middleware
