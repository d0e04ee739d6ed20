"""Rider app (`/r/`): go online with a location, assigned tasks, pick up and deliver."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core.errors import DomainError
from linli.delivery.models import Rider
from linli.delivery.selectors import NotARider, rider_for_user, tasks_for_rider
from linli.delivery.services import (
    InvalidLocation,
    delivery_complete,
    delivery_pickup,
    rider_shift_set,
)

from .common import error_context, password_login, rider_required, status_of
from .events import rider_channel, sse_response
from .selectors import rider_delivered_today


def _is_rider(user: Any) -> bool:
    return Rider.objects.filter(user=user).exists()


def _dashboard(request: HttpRequest, error: dict[str, Any] | None = None) -> HttpResponse:
    rider = rider_for_user(request.user)  # type: ignore[arg-type]
    template = "web/rider/_tasks.html" if request.GET.get("part") == "tasks" \
        else "web/rider/dashboard.html"
    return render(request, template, {
        "rider": rider, "tasks": tasks_for_rider(user=request.user),  # type: ignore[arg-type]
        "delivered_today": rider_delivered_today(rider=rider), "error": error,
    }, status=status_of(error))


@rider_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return _dashboard(request)


def _coordinate(raw: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise InvalidLocation(value=raw) from exc


@rider_required
@require_GET
def rider_events(request: HttpRequest) -> HttpResponse:
    return sse_response(request, rider_channel(rider_for_user(request.user).public_id))  # type: ignore[arg-type]


@rider_required
@require_POST
def shift(request: HttpRequest) -> HttpResponse:
    try:
        rider_shift_set(user=request.user, online=request.POST.get("online") == "1",  # type: ignore[arg-type]
                        lat=_coordinate(request.POST.get("lat", "")),
                        lng=_coordinate(request.POST.get("lng", "")))
    except DomainError as exc:
        return _dashboard(request, error_context(exc))
    return redirect("/r/")


@rider_required
@require_POST
def task_action(request: HttpRequest, task_id: str, action: str) -> HttpResponse:
    services = {"pickup": delivery_pickup, "deliver": delivery_complete}
    if action not in services:
        raise Http404
    try:
        services[action](user=request.user, task_id=task_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return _dashboard(request, error_context(exc))
    return redirect("/r/")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    return password_login(request, surface="rider", allowed=_is_rider, refusal=NotARider(), home="/r/")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("/r/login")
