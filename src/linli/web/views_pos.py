"""Merchant console, the counter (`/m/pos`): a phone/tablet page to ring up sales (product
grid, barcode scanner input, member code or phone, points, cash or wallet), its receipt,
today's sales with returns, the offline queue's upload, and printable shelf QR codes
(scan-to-buy). Every write is the `linli.pos` service the API calls; the JSON endpoints
are the API's counterparts with the console's session instead of a JWT, so the page's
script shows the same error codes (docs/web.md "The counter")."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.phone import phone_mask
from linli.core.errors import DomainError, InvalidInput
from linli.merchants import roles
from linli.merchants.selectors import StoreNotFound
from linli.pos import selectors as pos_selectors
from linli.pos import services as pos
from linli.pos import sync as sync_service
from linli.pos.models import Sale

from .common import error_context, merchant_required, refused, status_of
from .views_merchant import console_frame
from .views_pos_qr import json_error as _json_error
from .views_pos_qr import sale_status_payload

BASE = "web/merchant/base.html"


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(field="body", reason="not_json") from None
    if not isinstance(data, dict):
        raise InvalidInput(field="body", reason="not_an_object")
    return data


def _text(data: dict[str, Any], key: str, limit: int = 400) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(field=key)
    return value.strip()


# --- the counter page ------------------------------------------------------------------------

def _pos_context(request: HttpRequest, *, error: dict[str, Any] | None = None) -> dict[str, Any]:
    frame = console_frame(request, "pos")
    catalog = pos_selectors.counter_catalog(actor=request.user,  # type: ignore[arg-type]
                                            store_id=frame["store"].public_id)
    categories: list[dict[str, Any]] = []
    for product in catalog["products"]:
        if not categories or categories[-1]["name"] != product["category"]:
            categories.append({"name": product["category"] or _("Without a category"), "products": []})
        categories[-1]["products"].append(product)
    config = {"store_id": frame["store"].public_id, "products": catalog["products"],
              "counters": [{"id": c.public_id, "name": c.name} for c in catalog["counters"]],
              "urls": {"identify": "/m/pos/identify", "sales": "/m/pos/sales", "sync": "/m/pos/sync",
                       "receipt": "/m/pos/sales/{id}/receipt"}}
    return {**frame, "categories": categories, "counters": catalog["counters"], "pos_config": config,
            "error": error}


@merchant_required
@require_GET
def pos_page(request: HttpRequest) -> HttpResponse:
    try:
        context = _pos_context(request)
    except StoreNotFound as exc:
        return refused(request, exc, base=BASE)
    return render(request, "web/merchant/pos.html", context)


@merchant_required
@require_POST
def pos_counter_add(request: HttpRequest) -> HttpResponse:
    """Register this device as a counter (owner, manager: `menu.edit`)."""
    try:
        frame = console_frame(request, "pos")
        pos.counter_register(actor=request.user, store_id=frame["store"].public_id,  # type: ignore[arg-type]
                             name=request.POST.get("name", "").strip()[:60])
    except StoreNotFound as exc:
        return refused(request, exc, base=BASE)
    except DomainError as exc:
        error = error_context(exc)
        return render(request, "web/merchant/pos.html", _pos_context(request, error=error),
                      status=status_of(error))
    return redirect("/m/pos")


# --- JSON: identify, ring up, upload ----------------------------------------------------------

@merchant_required
@require_POST
def pos_identify(request: HttpRequest) -> JsonResponse:
    """Scan a member code → masked phone, tier, points, wallet and the ticket the sale carries."""
    try:
        data = _body(request)
        found = pos.member_identify(actor=request.user, store_id=_text(data, "store_id", 40),  # type: ignore[arg-type]
                                    code=_text(data, "code", 40), counter_id=_text(data, "counter_id", 40))
    except DomainError as exc:
        return _json_error(exc)
    return JsonResponse({"id": found.user.public_id,
                         "phone": phone_mask(found.user.phone) if found.user.phone else None,
                         "tier": found.tier, "points": found.points, "wallet_fen": found.wallet_fen,
                         "member_ticket": found.ticket})


def _lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    lines = data.get("lines")
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise InvalidInput(field="lines")
    return [{k: v for k, v in line.items() if k in ("product_id", "barcode", "quantity") and v is not None}
            for line in lines]


def _ring_up(request: HttpRequest) -> JsonResponse:
    try:
        data = _body(request)
        points = data.get("points_to_redeem", 0)
        expected = data.get("expected_total_fen")
        if not isinstance(points, int) or isinstance(points, bool):
            raise InvalidInput(field="points_to_redeem")
        if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
            raise InvalidInput(field="expected_total_fen")
        result = pos.sale_ring_up(
            actor=request.user, store_id=_text(data, "store_id", 40),  # type: ignore[arg-type]
            counter_id=_text(data, "counter_id", 40), client_sale_id=_text(data, "client_sale_id", 64),
            lines=_lines(data), payment_method=_text(data, "payment_method", 20),
            member_ticket=_text(data, "member_ticket"), points_to_redeem=points,
            expected_total_fen=expected, member_phone=_text(data, "member_phone", 32))
    except DomainError as exc:
        return _json_error(exc)
    sale = result.sale
    # status + QR (gateway_qr): views_pos_qr, which the page then polls
    return JsonResponse({**sale_status_payload(sale, request), "client_sale_id": sale.client_sale_id},
                        status=201 if result.created else 200)


@merchant_required
@require_POST
def pos_sync(request: HttpRequest) -> JsonResponse:
    """The offline queue's upload: what became of each sale (accepted, duplicate, conflict,
    rejected). The page drops a sale from its queue only on an answer from here."""
    try:
        data = _body(request)
        sales = data.get("sales")
        if not isinstance(sales, list):
            raise InvalidInput(field="sales")
        batch = sync_service.sync_upload(actor=request.user, counter_id=_text(data, "counter_id", 40),  # type: ignore[arg-type]
                                     sales=sales)
    except DomainError as exc:
        return _json_error(exc)
    return JsonResponse({"batch_id": batch.public_id, "accepted": batch.accepted, "duplicate": batch.duplicate,
                         "conflict": batch.conflict, "rejected": batch.rejected, "results": batch.results})


# --- today's sales, returns, receipts --------------------------------------------------------------

_UNPAID = (Sale.Status.AWAITING_PAYMENT, Sale.Status.VOIDED)  # QR sales not (or never) paid


def _may_return(role: str, sale: Sale, user: Any) -> bool:
    """Mirror of `pos.services._may_return` for today's list (the service checks again)."""
    return roles.allows(role, roles.STOCK_SET) or sale.cashier_id == user.pk


def _sales_context(request: HttpRequest, *, error: dict[str, Any] | None = None,
                   failed_sale: str = "") -> dict[str, Any]:
    frame = console_frame(request, "pos")
    _store, role, sales = pos_selectors.sales_today(actor=request.user,  # type: ignore[arg-type]
                                                    store_id=frame["store"].public_id)
    rows = []
    for sale in sales:
        claim = getattr(sale, "phone_claim", None)
        rows.append({"sale": sale, "lines": list(sale.lines.all()),
                     "member": phone_mask(sale.member.phone) if sale.member and sale.member.phone else "",
                     "pending_phone": phone_mask(claim.phone) if claim and not claim.attached_at else "",
                     "returnable": sale.status in (Sale.Status.COMPLETED, Sale.Status.PARTIALLY_RETURNED)
                     and _may_return(role, sale, request.user),
                     "return_id": secrets.token_urlsafe(12)})
    return {**frame, "rows": rows, "error": error, "failed_sale": failed_sale,
            "total_fen": sum(s.paid_fen - s.refunded_fen for s in sales if s.status not in _UNPAID)}


@merchant_required
@require_http_methods(["GET", "POST"])
def pos_sales(request: HttpRequest) -> HttpResponse:
    """GET: today's sales with a return form per line. POST (JSON, the page's script): ring up."""
    if request.method == "POST":
        return _ring_up(request)
    try:
        context = _sales_context(request)
    except StoreNotFound as exc:
        return refused(request, exc, base=BASE)
    return render(request, "web/merchant/pos_sales.html", context)


@merchant_required
@require_POST
def pos_return(request: HttpRequest, sale_id: str) -> HttpResponse:
    """Return units of a sale: `qty-<line>` fields, `client_return_id` made when the form
    was drawn (a double submit returns once), `reason`."""
    lines = []
    try:
        for key, raw in request.POST.items():
            if key.startswith("qty-") and raw.strip() not in ("", "0"):
                text = raw.strip()
                if not (key[4:].isdigit() and text.isascii() and text.isdigit()):
                    raise pos.InvalidReturn(line=key[4:], quantity=text[:10])
                lines.append({"line": int(key[4:]), "quantity": int(text)})
        pos.sale_return(actor=request.user, sale_id=sale_id,  # type: ignore[arg-type]
                        client_return_id=request.POST.get("client_return_id", "")[:80], lines=lines,
                        reason=request.POST.get("reason", "").strip()[:200])
    except DomainError as exc:
        error = error_context(exc)
        try:
            context = _sales_context(request, error=error, failed_sale=sale_id)
        except StoreNotFound as missing:
            return refused(request, missing, base=BASE)
        return render(request, "web/merchant/pos_sales.html", context, status=status_of(error))
    messages.success(request, _("Return recorded."))
    return redirect(f"/m/pos/sales#{sale_id}")


@xframe_options_sameorigin  # shown in the counter page's frame, printed from there
@merchant_required
@require_GET
def pos_receipt(request: HttpRequest, sale_id: str) -> HttpResponse:
    """The printable receipt (the API's HTML receipt: `pos/receipt.html`)."""
    try:
        _sale, receipt = pos_selectors.receipt_for(actor=request.user, sale_id=sale_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=BASE)
    return HttpResponse(render_to_string("pos/receipt.html", pos_selectors.receipt_html_context(receipt),
                                         request=request))


# --- scan-to-buy: shelf QR codes -------------------------------------------------------------------

@merchant_required
@require_GET
def shelf_codes(request: HttpRequest) -> HttpResponse:
    """Printable shelf QR codes (`/s/<store>/p/<product>`: the product online in this store,
    buy now). `?product=<id>` prints one."""
    try:
        frame = console_frame(request, "pos")
        catalog = pos_selectors.counter_catalog(actor=request.user,  # type: ignore[arg-type]
                                                store_id=frame["store"].public_id)
    except StoreNotFound as exc:
        return refused(request, exc, base=BASE)
    store_id = frame["store"].public_id
    wanted = request.GET.get("product", "")
    products = [p for p in catalog["products"] if not wanted or p["id"] == wanted]
    if wanted and not products:
        return refused(request, pos.UnknownProduct(product_id=wanted[:40]), base=BASE)
    codes = [(p, request.build_absolute_uri(f"/s/{store_id}/p/{p['id']}")) for p in products]
    return render(request, "web/merchant/shelf_codes.html", {**frame, "codes": codes, "one": bool(wanted)})
