"""Payment gateway adapters. Each turns our payment into the provider's trade, reads
the provider's signed notifications, and asks for refunds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.utils.translation import gettext_lazy as _

from linli.core.errors import DomainError


class SignatureInvalid(DomainError):
    code = "signature_invalid"
    status = 400
    message = _("The notification signature is invalid.")


@dataclass(frozen=True)
class TradeOpened:
    trade_no: str
    pay_url: str


@dataclass(frozen=True)
class Notification:
    notify_id: str
    out_trade_no: str  # our payment's public id
    trade_no: str
    amount_fen: int
    succeeded: bool


class Gateway(Protocol):
    name: str

    def trade_open(self, *, out_trade_no: str, amount_fen: int, subject: str) -> TradeOpened: ...

    def notification_parse(self, *, body: bytes, headers: dict[str, str]) -> Notification: ...

    def refund(self, *, out_trade_no: str, amount_fen: int) -> None: ...


def get_gateway(name: str) -> Gateway:
    from .sandbox import SandboxGateway

    gateways: dict[str, type] = {"sandbox": SandboxGateway}
    if name not in gateways:
        raise KeyError(name)
    return gateways[name]()
