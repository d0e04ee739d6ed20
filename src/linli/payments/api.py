"""Paying for an order, and the gateways' callbacks."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from linli.core.auth import jwt_auth

from . import services
from .models import Payment

router = Router(tags=["payments"])


class PaymentIn(Schema):
    provider: str = "sandbox"


class PaymentOut(Schema):
    id: str
    order_id: str
    provider: str
    amount_fen: int
    status: str
    pay_url: str


def payment_out(payment: Payment) -> dict[str, Any]:
    return {"id": payment.public_id, "order_id": payment.order.public_id,
            "provider": payment.provider, "amount_fen": payment.amount_fen,
            "status": payment.status, "pay_url": payment.pay_url}


@router.post("/orders/{order_id}/payments", response={201: PaymentOut}, auth=jwt_auth,
             summary="Open the payment for an unpaid order; answers where to pay")
def payment_create(request: HttpRequest, order_id: str, payload: PaymentIn) -> Status[dict[str, Any]]:
    payment = services.payment_create(order_id=order_id, consumer=request.auth,  # type: ignore[attr-defined]
                                      provider=payload.provider)
    return Status(201, payment_out(payment))


@router.post("/payments/callbacks/{provider}", auth=None, include_in_schema=True,
             summary="Gateway notification (signed); answers SUCCESS once applied or already applied")
def gateway_callback(request: HttpRequest, provider: str) -> HttpResponse:
    outcome = services.payment_notification_handle(
        provider=provider, body=request.body, headers=dict(request.headers)
    )
    return HttpResponse(f'{{"code":"SUCCESS","outcome":"{outcome}"}}', content_type="application/json")
