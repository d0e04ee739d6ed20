"""What the three surfaces share: who may see a page, and how a domain error is shown."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from linli.accounts.models import User
from linli.accounts.services import auth_login_password
from linli.core.errors import DomainError, PermissionDenied
from linli.core.ratelimit import client_address
from linli.delivery.models import Rider
from linli.merchants.models import MerchantMember

View = Callable[..., HttpResponse]


def not_merchant_staff() -> PermissionDenied:
    """Refusal for accounts that work for no store (a consumer, a rider) on `/m/`."""
    return PermissionDenied(surface="merchant")


def error_context(exc: DomainError) -> dict[str, Any]:
    return {"code": exc.code, "message": str(exc.message), "details": exc.details,
            "status": exc.status}


def status_of(error: dict[str, Any] | None) -> int:
    """The HTTP status of a page that shows this error (200 when there is none)."""
    return int(error["status"]) if error else 200


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def session_login(request: HttpRequest, user: User) -> None:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")


def _login_redirect(request: HttpRequest, login_url: str) -> HttpResponse:
    return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")


def consumer_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _login_redirect(request, "/login")
        return view(request, *args, **kwargs)
    return wrapper


def is_merchant_staff(user: Any) -> bool:
    return bool(user.is_authenticated and MerchantMember.objects.filter(user=user).exists())


def merchant_required(view: View) -> View:
    """Logged in and a member of some merchant; anyone else is refused with 403."""
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _login_redirect(request, "/m/login")
        if not is_merchant_staff(request.user):
            return refused(request, not_merchant_staff(), base="web/merchant/base.html")
        return view(request, *args, **kwargs)
    return wrapper


def rider_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from linli.delivery.selectors import NotARider

        if not request.user.is_authenticated:
            return _login_redirect(request, "/r/login")
        if not Rider.objects.filter(user=request.user).exists():
            return refused(request, NotARider(), base="web/rider/base.html")
        return view(request, *args, **kwargs)
    return wrapper


def refused(request: HttpRequest, exc: DomainError, *, base: str) -> HttpResponse:
    return render(request, "web/refused.html", {"error": error_context(exc), "base": base},
                  status=exc.status)


def password_login(request: HttpRequest, *, surface: str, allowed: Any, refusal: DomainError,
                   home: str) -> HttpResponse:
    """The staff and rider login form: password login, then a check of the surface's role."""
    login = request.POST.get("login", "").strip()
    context: dict[str, Any] = {"login": login, "error": None, "next": safe_next(request, home),
                               "surface": surface}
    if request.method == "POST":
        try:
            user = auth_login_password(login=login, password=request.POST.get("password", ""),
                                       address=client_address(request))["user"]
            if not allowed(user):
                raise refusal
        except DomainError as exc:
            context["error"] = error_context(exc)
        else:
            session_login(request, user)
            return redirect(context["next"])
    return render(request, f"web/{surface}/login.html", context, status=status_of(context["error"]))
