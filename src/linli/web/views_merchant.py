"""Merchant console (`/m/`): live order queue, order actions, today's numbers; the frame
every console page shares (store switcher, the member's role, what the header links to).
Menu, store and staff pages: `views_merchant_menu`, `views_merchant_store`,
`views_merchant_staff`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core.errors import DomainError, InvalidInput
from linli.delivery.tracking import riders_coming
from linli.merchants import roles
from linli.merchants.models import Store
from linli.merchants.selectors import StoreNotFound, merchant_role_for_store, stores_for_member
from linli.orders.models import Order
from linli.orders.selectors import order_queue_for_merchant
from linli.orders.services import order_act

from .common import (
    error_context,
    is_merchant_staff,
    merchant_required,
    not_merchant_staff,
    password_login,
    refused,
    status_of,
)
from .events import sse_response, store_channel
from .selectors import store_today
from .views_fulfilment import console_fulfilment

ACTIONS = ("accept", "reject", "prepare", "ready", "collect", "serve",  # serve: dine-in
           "approve_cancel", "decline_cancel")  # the consumer asked to cancel after accept


def _stores(request: HttpRequest) -> list[Store]:
    return list(stores_for_member(user=request.user).order_by("name"))  # type: ignore[arg-type]


def _current_store(request: HttpRequest, stores: list[Store]) -> Store:
    """The store picked with ?store= (remembered in the session), else the first one."""
    wanted = request.GET.get("store") or request.session.get("web_store")
    store = next((s for s in stores if s.public_id == wanted), stores[0])
    request.session["web_store"] = store.public_id
    return store


def can_flags(role: str) -> dict[str, bool]:
    """What the member's role may use, for showing links and buttons only: the services
    check the same table (`merchants.roles`) again on every write."""
    allowed = roles.permissions_of(role)
    flags = {
        "orders": roles.ORDERS_ACT in allowed, "sold_out": roles.MENU_SOLD_OUT in allowed,
        "menu_edit": roles.MENU_EDIT in allowed, "stock": roles.STOCK_SET in allowed,
        "store_edit": roles.STORE_EDIT in allowed, "pause": roles.STORE_PAUSE in allowed,
        "staff": roles.STAFF_MANAGE in allowed,
    }
    flags["store"] = flags["store_edit"] or flags["pause"]
    return flags


def console_frame(request: HttpRequest, section: str) -> dict[str, Any]:
    """The stores the user works for, the current one, the user's role there and the
    header's links. StoreNotFound when the merchant has no store yet."""
    stores = _stores(request)
    if not stores:  # a merchant whose first store is not set up yet
        raise StoreNotFound()
    store = _current_store(request, stores)
    role = merchant_role_for_store(user=request.user, store=store)  # type: ignore[arg-type]
    return {"stores": stores, "store": store, "role": roles.canonical(role) or role,
            "can": can_flags(role), "section": section}


def field_errors(exc: DomainError, by_field: dict[str, str],
                 by_code: dict[str, str] | None = None) -> dict[str, str]:
    """{form field: message} for an error that names one of the form's fields (the
    service's `details.field`, or the error code for errors about one field)."""
    name = by_field.get(str(exc.details.get("field", ""))) or (by_code or {}).get(exc.code)
    return {name: str(exc.message)} if name else {}


def _queue(request: HttpRequest, store: Store) -> list[Order]:
    return [o for o in order_queue_for_merchant(user=request.user, limit=200)  # type: ignore[arg-type]
            if o.store_id == store.pk]


def hour_bars(per_hour: list[int], *, width: int = 480, height: int = 120) -> dict[str, Any]:
    """Geometry of a 24-bar SVG chart (the template only draws what this returns)."""
    top = max(per_hour) or 1
    slot = width / 24
    bars = []
    for hour, count in enumerate(per_hour):
        h = round(count / top * (height - 20), 1)
        bars.append({"hour": hour, "count": count, "x": round(hour * slot + 2, 1),
                     "y": round(height - 14 - h, 1), "w": round(slot - 4, 1), "h": h,
                     "label": hour % 3 == 0, "tx": round(hour * slot + slot / 2, 1)})
    return {"width": width, "height": height, "bars": bars, "axis_y": height - 14}


def _console_context(request: HttpRequest, error: dict[str, Any] | None = None) -> dict[str, Any]:
    frame = console_frame(request, "orders")
    store = frame["store"]
    today = store_today(store=store)
    queue = _queue(request, store)
    coming = riders_coming(queue)
    for order in queue:  # the card shows where the delivery's rider is
        order.rider_coming = coming.get(order.public_id)  # type: ignore[attr-defined]
    return {**frame, "orders": queue, "today": today,
            "chart": hour_bars(today.per_hour), "error": error,
            **console_fulfilment(store, queue)}  # fulfilment modes: "orders" due now, scheduled, tabs


@merchant_required
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    try:
        context = _console_context(request)
    except StoreNotFound as exc:
        return refused(request, exc, base="web/merchant/base.html")
    template = "web/merchant/_queue.html" if request.GET.get("part") == "queue" \
        else "web/merchant/console.html"
    return render(request, template, context)


@merchant_required
@require_POST
def order_action(request: HttpRequest, order_id: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    note = request.POST.get("reason", "").strip()[:200]
    try:
        if action == "reject" and not note:
            raise InvalidInput(field="reason", problem="required")
        order_act(order_id=order_id, actor=request.user, action=action, note=note,  # type: ignore[arg-type]
                  pickup_code=request.POST.get("pickup_code", "").strip() or None)
    except DomainError as exc:
        error = error_context(exc)
        return render(request, "web/merchant/console.html", _console_context(request, error),
                      status=status_of(error))
    return redirect("/m/")


@merchant_required
@require_GET
def store_events(request: HttpRequest, store_id: str) -> HttpResponse:
    if not any(s.public_id == store_id for s in _stores(request)):
        raise Http404
    return sse_response(request, store_channel(store_id))


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    return password_login(request, surface="merchant", allowed=is_merchant_staff,
                          refusal=not_merchant_staff(), home="/m/")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("/m/login")
