"""Merchant console, stock history of one product (`/m/stock/<product id>`): its ledger
rows a page at a time, with the available, held and in-transit counts. One read
(`inventory.history.stock_history`), which checks the member's role."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from linli.core.errors import DomainError
from linli.inventory.history import stock_history
from linli.merchants.selectors import StoreNotFound

from .common import merchant_required, refused
from .views_merchant import console_frame

BASE = "web/merchant/base.html"


@merchant_required
@require_GET
def stock_page(request: HttpRequest, product_id: str) -> HttpResponse:
    try:
        frame = console_frame(request, "menu")
        found = stock_history(actor=request.user, product_id=product_id,  # type: ignore[arg-type]
                              page=request.GET.get("page", 1))
    except (StoreNotFound, DomainError) as exc:
        return refused(request, exc, base=BASE)
    return render(request, "web/merchant/stock.html", {**frame, "h": found})
