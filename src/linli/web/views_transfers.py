"""Merchant console, stock transfers between the chain's stores (`/m/transfers`, owner and
manager): the current store's transfers in and out, a request form, and per transfer the
steps its state allows (ship, receive with a shortfall reason, cancel). Every write is
`inventory.transfers`, which checks the role again (docs/inventory.md)."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import DomainError, InvalidInput, PermissionDenied
from linli.inventory import selectors as stock_selectors
from linli.inventory import transfers
from linli.merchants import roles
from linli.merchants.selectors import StoreNotFound

from .common import error_context, merchant_required, refused, status_of
from .views_merchant import console_frame

BASE = "web/merchant/base.html"
FORM_LINES = 4  # product rows on the request form


def _frame(request: HttpRequest) -> dict[str, Any]:
    frame = console_frame(request, "transfers")
    if not frame["can"]["stock"]:
        raise PermissionDenied(permission=roles.STOCK_SET)
    return frame


def _context(request: HttpRequest, *, error: dict[str, Any] | None = None, failed: str = "") -> dict[str, Any]:
    frame = _frame(request)
    store = frame["store"]
    choices = stock_selectors.transfer_choices(actor=request.user, store_id=store.public_id)  # type: ignore[arg-type]
    rows = transfers.transfer_list(actor=request.user, store_id=store.public_id, limit=100)  # type: ignore[arg-type]
    open_ = [t for t in rows if t.state in (transfers.REQUESTED, transfers.SHIPPED)]
    if not any(t.public_id == failed for t in open_):
        failed = ""  # not listed as open (finished meanwhile, unknown): the error shows at the top
    return {**frame, "choices": choices, "line_rows": range(1, FORM_LINES + 1), "open": open_,
            "done": [t for t in rows if t.state not in (transfers.REQUESTED, transfers.SHIPPED)][:30],
            "request_key": secrets.token_urlsafe(12), "error": error, "failed": failed,
            }


def _page(request: HttpRequest, *, error: dict[str, Any] | None = None, failed: str = "") -> HttpResponse:
    try:
        context = _context(request, error=error, failed=failed)
    except (StoreNotFound, DomainError) as exc:
        return refused(request, exc, base=BASE)
    return render(request, "web/merchant/transfers.html", context, status=status_of(error))


@merchant_required
@require_GET
def transfers_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _quantity(raw: str, field: str) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 7:
        raise InvalidInput(field=field, value=text[:10])
    return int(text)


@merchant_required
@require_POST
def transfer_create(request: HttpRequest) -> HttpResponse:
    """`to_store`, `product-N` / `qty-N` rows (empty rows skipped), `note`, `request_key`
    (made when the form was drawn: a double submit creates one transfer)."""
    try:
        store = _frame(request)["store"]
        lines = []
        for n in range(1, FORM_LINES + 1):
            product, qty = request.POST.get(f"product-{n}", ""), request.POST.get(f"qty-{n}", "").strip()
            if product and qty:
                lines.append(transfers.LineIn(product_id=product[:40], quantity=_quantity(qty, f"qty-{n}")))
        transfer, _created = transfers.transfer_request(
            actor=request.user, from_store_id=store.public_id,  # type: ignore[arg-type]
            to_store_id=request.POST.get("to_store", "")[:40], lines=lines,
            note=request.POST.get("note", "").strip()[:200], idempotency_key=request.POST.get("request_key", "")[:80])
    except DomainError as exc:
        return _page(request, error=error_context(exc))
    messages.success(request, _("Transfer requested."))
    return redirect(f"/m/transfers#{transfer.public_id}")


@merchant_required
@require_POST
def transfer_step(request: HttpRequest, transfer_id: str, action: str) -> HttpResponse:
    """ship | cancel | receive. Receive: `received-<product>` for lines that differ from
    what was shipped, with `reason-<product>`."""
    note = request.POST.get("note", "").strip()[:200]
    try:
        _frame(request)
        if action == "ship":
            transfers.transfer_ship(actor=request.user, transfer_id=transfer_id, note=note)  # type: ignore[arg-type]
        elif action == "cancel":
            transfers.transfer_cancel(actor=request.user, transfer_id=transfer_id, note=note)  # type: ignore[arg-type]
        elif action == "receive":
            received = []
            for key, raw in request.POST.items():
                if key.startswith("received-") and raw.strip() != "":
                    product_id = key[len("received-"):][:40]
                    received.append(transfers.ReceivedIn(
                        product_id=product_id, received=_quantity(raw, key),
                        loss_reason=request.POST.get(f"reason-{product_id}", "").strip()[:200]))
            transfers.transfer_receive(actor=request.user, transfer_id=transfer_id,  # type: ignore[arg-type]
                                       received=received, note=note)
        else:
            raise InvalidInput(field="action", allowed=["ship", "receive", "cancel"])
    except DomainError as exc:
        return _page(request, error=error_context(exc), failed=transfer_id)
    messages.success(request, _("Transfer updated."))
    return redirect(f"/m/transfers#{transfer_id}")
