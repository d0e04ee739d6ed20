"""Payment gateway adapters: one protocol, one module per provider.

An adapter turns our payment into the provider's trade, asks about it (query, close),
asks for refunds and about them, reads the provider's signed notifications, and
downloads the provider's statement for reconciliation. It never touches our models:
the services in `payments.services` decide what a gateway's answer means for an
order, a refund or the ledger. Every adapter keeps the provider's raw text (`raw`)
so the services can store it for audit.

Amounts are integer fen everywhere in this protocol; an adapter converts to the
provider's unit (Alipay: yuan strings "12.34"; WeChat Pay: integer fen).

Providers: `sandbox` (default, our own stand-in), `alipay` (python-alipay-sdk) and
`wechatpay` (wechatpayv3). A provider whose keys are not configured is not offered
(`available_providers`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from django.utils.translation import gettext_lazy as _

from linli.core.errors import DomainError


class SignatureInvalid(DomainError):
    code = "signature_invalid"
    status = 400
    message = _("The notification signature is invalid.")


class GatewayUnavailable(DomainError):
    """The provider could not be reached or answered an error we cannot act on; the
    caller keeps its own state unchanged and tries again later."""

    code = "gateway_unavailable"
    status = 503
    message = _("The payment provider is not answering, please try again shortly.")


Channel = Literal["web", "h5", "app", "qr"]
TradeState = Literal["pending", "succeeded", "closed", "failed", "unknown"]
RefundState = Literal["pending", "succeeded", "failed"]


@dataclass(frozen=True)
class TradeOpened:
    trade_no: str  # the provider's id if it gives one at once, else ""
    pay_url: str = ""  # web / h5: where to send the buyer
    qr_code: str = ""  # qr: the text to render as a QR code
    app_params: dict[str, str] = field(default_factory=dict)  # app: what the SDK needs
    raw: str = ""


@dataclass(frozen=True)
class TradeStatus:
    out_trade_no: str  # our payment's public id
    trade_no: str
    state: TradeState
    amount_fen: int
    paid_at: dt.datetime | None = None
    raw: str = ""


@dataclass(frozen=True)
class RefundResult:
    out_refund_no: str  # our refund's public id
    refund_no: str
    state: RefundState
    amount_fen: int
    raw: str = ""


@dataclass(frozen=True)
class Notification:
    """A verified notification. `kind` says whether it is about a payment or a refund."""

    notify_id: str
    out_trade_no: str  # our payment's public id
    trade_no: str
    amount_fen: int  # payment: amount paid; refund: amount refunded
    succeeded: bool  # payment succeeded / refund succeeded
    kind: Literal["payment", "refund"] = "payment"
    state: str = ""  # the provider's own state word (TRADE_SUCCESS, REFUND.SUCCESS, ...)
    out_refund_no: str = ""  # refund notifications: our refund's public id
    raw: str = ""


@dataclass(frozen=True)
class StatementLine:
    """One line of the provider's daily statement (bill)."""

    kind: Literal["payment", "refund"]
    out_trade_no: str
    trade_no: str
    amount_fen: int
    at: dt.datetime
    out_refund_no: str = ""


@dataclass(frozen=True)
class NotificationAck:
    """What the provider expects back once we have taken (or refused) a notification."""

    status: int
    body: str
    content_type: str = "application/json"


class Gateway(Protocol):
    """`client_ip` is the buyer's address as our edge saw it (WeChat Pay's H5 payments
    check it against the device that pays)."""

    name: str

    def trade_open(self, *, out_trade_no: str, amount_fen: int, subject: str,
                   channel: Channel = "web", return_url: str = "",
                   client_ip: str = "") -> TradeOpened: ...

    def trade_query(self, *, out_trade_no: str) -> TradeStatus: ...

    def trade_close(self, *, out_trade_no: str) -> None: ...

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int,
               total_fen: int, reason: str = "") -> RefundResult: ...

    def refund_query(self, *, out_trade_no: str, out_refund_no: str) -> RefundResult: ...

    def notification_parse(self, *, body: bytes, headers: dict[str, str]) -> Notification: ...

    def notification_ack(self, *, ok: bool) -> NotificationAck: ...

    def statement(self, *, day: dt.date) -> list[StatementLine]: ...


def _registry() -> dict[str, Any]:
    from .alipay import AlipayGateway
    from .sandbox import SandboxGateway
    from .wechatpay import WechatPayGateway

    return {"sandbox": SandboxGateway, "alipay": AlipayGateway, "wechatpay": WechatPayGateway}


def available_providers() -> list[str]:
    """Providers the consumer may choose: the sandbox unless disabled, and every real
    provider whose keys are configured."""
    return [name for name, cls in _registry().items() if cls.configured()]


def get_gateway(name: str) -> Gateway:
    """The adapter for `name`; KeyError if unknown or not configured."""
    cls = _registry().get(name)
    if cls is None or not cls.configured():
        raise KeyError(name)
    return cls()  # type: ignore[no-any-return]
