"""Rider app (`/r/`): go online with a location, assigned tasks with their deadlines,
arrive / pick up / deliver (against the consumer's code), and today's earnings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core.errors import DomainError
from linli.delivery.deadlines import seconds_left
from linli.delivery.dispatching import delivery_reject
from linli.delivery.models import DeliveryTask, Rider
from linli.delivery.selectors import (
    NotARider,
    rider_earnings_today,
    rider_for_user,
    tasks_for_rider,
)
from linli.delivery.services import (
    CODE_MAX_ATTEMPTS,
    InvalidLocation,
    delivery_accept,
    delivery_arrive,
    delivery_complete,
    delivery_fail,
    delivery_pickup,
    delivery_return,
    rider_shift_set,
)

from .common import error_context, password_login, rider_required, status_of
from .events import rider_channel, sse_response


def _is_rider(user: Any) -> bool:
    return Rider.objects.filter(user=user).exists()


def _clock(seconds: int) -> str:
    """1234 -> "20:34"; 4000 -> "1:06:40" (the sign is shown by the label, not here)."""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def _countdown(deadline: Any, now: Any) -> dict[str, Any] | None:
    left = seconds_left(deadline, now)
    if left is None:
        return None
    return {"at": deadline, "iso": deadline.isoformat(), "late": left < 0, "text": _clock(left)}


def _card(task: DeliveryTask, now: Any) -> dict[str, Any]:
    """What one task card shows; countdowns are rendered here and kept ticking by the page's JS."""
    return {
        "task": task, "order": task.order, "store": task.order.store,
        "pickup": _countdown(task.pickup_deadline, now),
        "deliver": _countdown(task.deliver_deadline, now),
        "attempts_left": max(0, CODE_MAX_ATTEMPTS - task.code_attempts),
        "locked": task.code_locked_at is not None,
    }


def _dashboard(request: HttpRequest, error: dict[str, Any] | None = None,
               error_task: str | None = None) -> HttpResponse:
    rider = rider_for_user(request.user)  # type: ignore[arg-type]
    template = "web/rider/_tasks.html" if request.GET.get("part") == "tasks" \
        else "web/rider/dashboard.html"
    now = timezone.now()
    earnings = rider_earnings_today(rider=rider, now=now)
    cards = [_card(t, now) for t in tasks_for_rider(user=request.user)]  # type: ignore[arg-type]
    # An error about a task still on the list is shown on its card, next to its buttons.
    inline = bool(error and error_task and any(c["task"].public_id == error_task for c in cards))
    return render(request, template, {
        "rider": rider, "cards": cards, "earnings": earnings, "delivered_today": earnings.count,
        "error": error, "error_task": error_task if inline else None, "now": now,
        "city_tz": settings.LINLI_DEFAULT_CITY_TZ, "fail_reasons": DeliveryTask.FailReason.choices,
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
    user = request.user
    services = {
        "arrive": lambda: delivery_arrive(user=user, task_id=task_id),  # type: ignore[arg-type]
        "pickup": lambda: delivery_pickup(user=user, task_id=task_id),  # type: ignore[arg-type]
        "deliver": lambda: delivery_complete(user=user, task_id=task_id,  # type: ignore[arg-type]
                                             code=request.POST.get("code", "")[:12]),
        "reject": lambda: delivery_reject(user=user, task_id=task_id,  # type: ignore[arg-type]
                                          reason=request.POST.get("reason", "")[:400]),
        "accept": lambda: delivery_accept(user=user, task_id=task_id),  # type: ignore[arg-type]
        "fail": lambda: delivery_fail(user=user, task_id=task_id,  # type: ignore[arg-type]
                                      reason=request.POST.get("reason", "")[:20],
                                      note=request.POST.get("note", "")[:400]),
        "return": lambda: delivery_return(user=user, task_id=task_id),  # type: ignore[arg-type]
    }
    if action not in services:
        raise Http404
    try:
        services[action]()
    except DomainError as exc:
        return _dashboard(request, error_context(exc), error_task=task_id)
    return redirect("/r/")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    return password_login(request, surface="rider", allowed=_is_rider, refusal=NotARider(), home="/r/")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("/r/login")
