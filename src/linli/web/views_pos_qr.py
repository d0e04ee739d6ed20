"""Merchant console, the counter's gateway QR (`/m/pos`): the QR the customer scans, the
sale's status the page polls (each poll may ask the gateway: a verified query, never the
till's word) and giving up on a QR. JSON counterparts of `GET /pos/sales/{id}` and
`POST /pos/sales/{id}/cancel-qr` with the console's session (docs/pos.md "Gateway QR at
the counter")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import DomainError
from linli.core.qrcode import qr_svg
from linli.pos import gateway_sales
from linli.pos import services as pos
from linli.pos.models import Sale

from .common import merchant_required


def json_error(exc: DomainError) -> JsonResponse:
    """A domain error as the counter page's scripts read it (also used by views_pos)."""
    return JsonResponse({"code": exc.code, "message": str(exc.message), "details": exc.details},
                        status=exc.status, json_dumps_params={"ensure_ascii": False, "default": str})


def sale_status_payload(sale: Sale, request: HttpRequest) -> dict[str, Any]:
    """What the page needs about a sale: its status, and while it waits the QR as SVG."""
    body: dict[str, Any] = {"id": sale.public_id, "status": sale.status, "paid_fen": sale.paid_fen,
                            "total_fen": sale.total_fen, "points_earned": sale.points_earned,
                            "payment_method": sale.payment_method, "payment_id": sale.payment_id,
                            "receipt_url": f"/m/pos/sales/{sale.public_id}/receipt",
                            "status_url": f"/m/pos/sales/{sale.public_id}/status",
                            "cancel_url": f"/m/pos/sales/{sale.public_id}/cancel-qr", "qr": None}
    qr = gateway_sales.sale_qr(sale)
    if qr is not None:
        content = request.build_absolute_uri(qr["qr_code"]) if qr["qr_code"].startswith("/") else qr["qr_code"]
        body["qr"] = {"svg": qr_svg(content, scale=5, border=2, title=None), "content": content, "expires_at": qr["expires_at"].isoformat()}
    return body


@merchant_required
@require_GET
def pos_sale_status(request: HttpRequest, sale_id: str) -> JsonResponse:
    """Polled while a QR sale waits: `awaiting_payment`, then `completed` or `voided`."""
    try:
        sale = pos.sale_get(actor=request.user, sale_id=sale_id)  # type: ignore[arg-type]
        sale = gateway_sales.sale_payment_check(sale=sale)
    except DomainError as exc:
        return json_error(exc)
    return JsonResponse(sale_status_payload(sale, request))


@merchant_required
@require_POST
def pos_sale_cancel_qr(request: HttpRequest, sale_id: str) -> JsonResponse:
    """The cashier gives up on the QR: the trade is closed and the sale voided (or, if the
    gateway says it was paid meanwhile, the sale completes)."""
    try:
        sale = pos.sale_get(actor=request.user, sale_id=sale_id)  # type: ignore[arg-type]
        sale = gateway_sales.sale_qr_cancel(sale=sale, actor=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        return json_error(exc)
    return JsonResponse(sale_status_payload(sale, request))
