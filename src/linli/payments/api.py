"""Paying for orders, the wallet, refunds, and the gateways' callbacks."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Header, Query, Router, Schema, Status

from linli.core.auth import jwt_auth
from linli.core.security import client_ip
from linli.orders.errors import OrderNotFound
from linli.orders.models import Order

from . import services
from .gateways import available_providers, get_gateway
from .models import Payment, Refund, TopupBonusRule, WalletTopup, WalletWithdrawal

router = Router(tags=["payments"])

ProviderName = Literal["sandbox", "alipay", "wechatpay", "wallet"]
ChannelName = Literal["web", "h5", "app", "qr"]


class PaymentIn(Schema):
    provider: ProviderName = "sandbox"
    use_wallet: bool = Field(False, description="Wallet balance first, the rest through the provider")
    channel: ChannelName = "web"
    return_url: str = Field("", max_length=300, description="A local path to come back to")


class PaymentOut(Schema):
    id: str
    order_id: str | None
    purpose: str
    provider: str
    channel: str
    amount_fen: int
    wallet_fen: int
    refunded_fen: int
    status: str
    pay_url: str
    qr_code: str
    app_params: dict[str, str]


def payment_out(payment: Payment) -> dict[str, Any]:
    wallet_part = payment.wallet_part if payment.wallet_part_id else None
    return {"id": payment.public_id,
            "order_id": payment.order.public_id if payment.order_id else None,
            "purpose": payment.purpose, "provider": payment.provider, "channel": payment.channel,
            "amount_fen": payment.amount_fen,
            "wallet_fen": wallet_part.amount_fen if wallet_part else
            (payment.amount_fen if payment.is_wallet else 0),
            "refunded_fen": payment.refunded_fen, "status": payment.status,
            "pay_url": payment.pay_url, "qr_code": payment.qr_code, "app_params": payment.app_params}


def _local_path(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else ""


@router.get("/payments/providers", auth=None, summary="Payment methods a consumer may choose")
def providers(request: HttpRequest) -> dict[str, list[str]]:
    return {"providers": [*available_providers(), Payment.WALLET]}


@router.post("/orders/{order_id}/payments", response={201: PaymentOut}, auth=jwt_auth,
             summary="Open the payment for an unpaid order; answers where to pay")
def payment_create(request: HttpRequest, order_id: str, payload: PaymentIn) -> Status[dict[str, Any]]:
    payment = services.payment_create(order_id=order_id, consumer=request.auth,  # type: ignore[arg-type]
                                      provider=payload.provider, use_wallet=payload.use_wallet,
                                      channel=payload.channel,
                                      return_url=_local_path(payload.return_url),
                                      client_ip=client_ip(request))
    return Status(201, payment_out(payment))


@router.get("/payments/{payment_id}", response=PaymentOut, auth=jwt_auth,
            summary="A payment of mine; an open one is checked with the gateway first")
def payment_get(request: HttpRequest, payment_id: str) -> dict[str, Any]:
    return payment_out(services.payment_get(payment_id=payment_id, actor=request.auth))  # type: ignore[arg-type]


@router.post("/payments/{payment_id}/close", response=PaymentOut, auth=jwt_auth,
             summary="Give up an open payment (its wallet part goes back to the wallet)")
def payment_close(request: HttpRequest, payment_id: str) -> dict[str, Any]:
    return payment_out(services.payment_close(payment_id=payment_id, actor=request.auth))  # type: ignore[arg-type]


@router.post("/payments/callbacks/{provider}", auth=None, include_in_schema=True,
             summary="Gateway notification (signed); answered the way the gateway expects")
def gateway_callback(request: HttpRequest, provider: str) -> HttpResponse:
    outcome = services.payment_notification_handle(
        provider=provider, body=request.body, headers=dict(request.headers)
    )
    ack = get_gateway(provider).notification_ack(ok=True)
    response = HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)
    response["Linli-Outcome"] = outcome
    return response


# --- refunds --------------------------------------------------------------------------------

class RefundItemIn(Schema):
    line: int = Field(ge=1, le=1000, description="1-based position of the item on the order")
    quantity: int = Field(ge=1, le=999)


class RefundIn(Schema):
    amount_fen: int | None = Field(None, ge=1, le=100_000_000)
    items: list[RefundItemIn] = Field(default_factory=list, max_length=100)
    reason: str = Field(min_length=1, max_length=200)


class RefundOut(Schema):
    id: str
    payment_id: str
    provider: str
    batch: str
    amount_fen: int
    status: str
    source: str
    reason: str
    created_at: str
    succeeded_at: str | None


def refund_out(refund: Refund) -> dict[str, Any]:
    return {"id": refund.public_id, "payment_id": refund.payment.public_id,
            "provider": refund.payment.provider, "batch": refund.batch,
            "amount_fen": refund.amount_fen, "status": refund.status, "source": refund.source,
            "reason": refund.reason, "created_at": refund.created_at.isoformat(),
            "succeeded_at": refund.succeeded_at.isoformat() if refund.succeeded_at else None}


def _platform_role(request: HttpRequest) -> str:
    return request.auth.platform_role or "consumer"  # type: ignore[attr-defined]


@router.post("/orders/{order_id}/refunds", response={201: list[RefundOut], 200: list[RefundOut]},
             auth=jwt_auth,
             summary="Operators: refund part or all of a paid order, by amount or by items "
                     "(retry-safe with an Idempotency-Key header)")
def refund_create(request: HttpRequest, order_id: str, payload: RefundIn,
                  idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[list[dict[str, Any]]]:
    refunds = services.refund_create(
        order_id=order_id, actor=request.auth, role=_platform_role(request),  # type: ignore[arg-type]
        reason=payload.reason, amount_fen=payload.amount_fen,
        items=[services.RefundPick(line=i.line, quantity=i.quantity) for i in payload.items] or None,
        idempotency_key=idempotency_key[:100])
    return Status(201, [refund_out(r) for r in refunds])


@router.get("/orders/{order_id}/refunds", response=list[RefundOut], auth=jwt_auth,
            summary="Refunds of an order: for its consumer and for operators")
def refund_list(request: HttpRequest, order_id: str) -> list[dict[str, Any]]:
    order = Order.objects.filter(public_id=order_id).first()
    user = request.auth  # type: ignore[attr-defined]
    if order is None or (order.consumer_id != user.pk and _platform_role(request) not in
                         services.REFUND_ROLES):
        raise OrderNotFound(order_id=order_id)
    return [refund_out(r) for r in Refund.objects.filter(payment__order=order)
            .select_related("payment").order_by("id")]


# --- the wallet -------------------------------------------------------------------------------

class WalletOut(Schema):
    cash_fen: int
    bonus_fen: int
    total_fen: int
    bonus_rules: list[dict[str, int]]


@router.get("/me/wallet", response=WalletOut, auth=jwt_auth, summary="My wallet balance")
def wallet(request: HttpRequest) -> dict[str, Any]:
    balance = services.wallet_balance(request.auth)  # type: ignore[arg-type]
    rules = TopupBonusRule.objects.filter(is_active=True).values("threshold_fen", "bonus_fen")
    return {"cash_fen": balance.cash_fen, "bonus_fen": balance.bonus_fen,
            "total_fen": balance.total_fen, "bonus_rules": list(rules)}


class WalletEntryOut(Schema):
    id: str
    kind: str
    cash_fen: int
    bonus_fen: int
    at: str
    cursor: int


@router.get("/me/wallet/entries", response=list[WalletEntryOut], auth=jwt_auth,
            summary="My wallet history, newest first (pass `before` = last cursor for more)")
def wallet_entries(request: HttpRequest, before: int | None = Query(None, ge=1),
                   limit: int = Query(30, ge=1, le=100)) -> list[dict[str, Any]]:
    rows = services.wallet_entries(user=request.auth, limit=limit, before_id=before)  # type: ignore[arg-type]
    return [{**row, "at": row["at"].isoformat()} for row in rows]


class TopupIn(Schema):
    amount_fen: int = Field(ge=1, le=services.MAX_TOPUP_FEN)
    provider: Literal["sandbox", "alipay", "wechatpay"] = "sandbox"
    channel: ChannelName = "web"
    return_url: str = Field("", max_length=300)


class TopupOut(Schema):
    id: str
    amount_fen: int
    bonus_fen: int
    status: str
    payment: PaymentOut


def topup_out(topup: WalletTopup) -> dict[str, Any]:
    return {"id": topup.public_id, "amount_fen": topup.amount_fen, "bonus_fen": topup.bonus_fen,
            "status": topup.status, "payment": payment_out(topup.payment)}


@router.post("/me/wallet/topups", response={201: TopupOut}, auth=jwt_auth,
             summary="Top up my wallet through a gateway (bonus by the active rules)")
def topup_create(request: HttpRequest, payload: TopupIn) -> Status[dict[str, Any]]:
    topup = services.topup_create(user=request.auth, amount_fen=payload.amount_fen,  # type: ignore[arg-type]
                                  provider=payload.provider, channel=payload.channel,
                                  return_url=_local_path(payload.return_url),
                                  client_ip=client_ip(request))
    return Status(201, topup_out(topup))


@router.get("/me/wallet/topups/{topup_id}", response=TopupOut, auth=jwt_auth,
            summary="One of my top-ups (an open one is checked with the gateway first)")
def topup_get(request: HttpRequest, topup_id: str) -> dict[str, Any]:
    topup = WalletTopup.objects.select_related("payment").filter(
        public_id=topup_id, user=request.auth).first()  # type: ignore[misc]
    if topup is None:
        raise services.TopupNotFound(topup_id=topup_id)
    if topup.status == WalletTopup.Status.PENDING:
        services.payment_get(payment_id=topup.payment.public_id, actor=request.auth)  # type: ignore[arg-type]
        topup.refresh_from_db()
        topup.payment.refresh_from_db()
    return topup_out(topup)


class WithdrawalIn(Schema):
    amount_fen: int = Field(ge=1, le=services.MAX_WALLET_FEN)


class WithdrawalOut(Schema):
    id: str
    amount_fen: int
    bonus_forfeited_fen: int
    refunds: list[RefundOut]


@router.post("/me/wallet/withdrawals", response={201: WithdrawalOut}, auth=jwt_auth,
             summary="Withdraw principal back along the top-ups' payment paths "
                     "(retry-safe with an Idempotency-Key header)")
def withdrawal_create(request: HttpRequest, payload: WithdrawalIn,
                      idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[dict[str, Any]]:
    withdrawal: WalletWithdrawal = services.withdrawal_create(
        user=request.auth, amount_fen=payload.amount_fen,  # type: ignore[arg-type]
        idempotency_key=idempotency_key)
    refunds = Refund.objects.filter(batch=withdrawal.batch).select_related("payment").order_by("id")
    return Status(201, {"id": withdrawal.public_id, "amount_fen": withdrawal.amount_fen,
                        "bonus_forfeited_fen": withdrawal.bonus_forfeited_fen,
                        "refunds": [refund_out(r) for r in refunds]})
