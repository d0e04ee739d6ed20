"""Merchant console, low-stock alerts (`/m/alerts`, owner and manager): the store's open
alerts (not yet acknowledged first) with the count now, a link to the product's stock
history (`/m/stock/<product>`), and acknowledge (`inventory.alerts`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import DomainError, PermissionDenied
from linli.inventory import alerts
from linli.inventory import selectors as stock_selectors
from linli.merchants import roles
from linli.merchants.selectors import StoreNotFound

from .common import merchant_required, refused
from .views_merchant import console_frame

BASE = "web/merchant/base.html"


@merchant_required
@require_GET
def alerts_page(request: HttpRequest) -> HttpResponse:
    try:
        frame = console_frame(request, "alerts")
        if not frame["can"]["stock"]:
            raise PermissionDenied(permission=roles.STOCK_SET)
        rows = stock_selectors.alerts_open(actor=request.user, store_id=frame["store"].public_id)  # type: ignore[arg-type]
    except (StoreNotFound, DomainError) as exc:
        return refused(request, exc, base=BASE)
    return render(request, "web/merchant/alerts.html", {**frame, "alerts": rows})


@merchant_required
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: str) -> HttpResponse:
    try:
        alerts.stock_alert_acknowledge(actor=request.user, alert_id=alert_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=BASE)
    messages.success(request, _("Alert acknowledged."))
    return redirect("/m/alerts")
