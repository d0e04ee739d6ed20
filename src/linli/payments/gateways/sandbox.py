"""The sandbox gateway: behaves like a real one, with its own books (`SandboxTrade`),
a hosted pay page, and asynchronous HMAC-signed notifications to our callback.

Signature: hex HMAC-SHA256 over `<timestamp>.<body>` with LINLI_SANDBOX_SECRET, sent in
`Linli-Sandbox-Signature` with `Linli-Sandbox-Timestamp` (unix seconds); notifications
older than five minutes are refused, so a captured one cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.request

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from ..models import SandboxTrade
from . import Notification, SignatureInvalid, TradeOpened

logger = logging.getLogger("linli.payments.sandbox")

TIMESTAMP_HEADER = "Linli-Sandbox-Timestamp"
SIGNATURE_HEADER = "Linli-Sandbox-Signature"
MAX_AGE_S = 300
IN_PROCESS = "inprocess:"


def sign(body: bytes, timestamp: str) -> str:
    key = settings.LINLI_SANDBOX_SECRET.encode()
    return hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _header(headers: dict[str, str], name: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(name.lower(), "")


class SandboxGateway:
    name = "sandbox"

    def trade_open(self, *, out_trade_no: str, amount_fen: int, subject: str) -> TradeOpened:
        trade = SandboxTrade.objects.create(
            trade_no=f"sbx{timezone.now():%Y%m%d}{secrets.token_hex(8)}",
            out_trade_no=out_trade_no, amount_fen=amount_fen, subject=subject[:128],
            notify_url=settings.LINLI_SANDBOX_NOTIFY_URL or IN_PROCESS,
        )
        return TradeOpened(trade_no=trade.trade_no,
                           pay_url=reverse("sandbox-pay", args=[trade.trade_no]))

    def notification_parse(self, *, body: bytes, headers: dict[str, str]) -> Notification:
        timestamp = _header(headers, TIMESTAMP_HEADER)
        signature = _header(headers, SIGNATURE_HEADER)
        if not timestamp.isdigit() or not signature:
            raise SignatureInvalid()
        if abs(time.time() - int(timestamp)) > MAX_AGE_S:
            raise SignatureInvalid(reason="stale")
        if not hmac.compare_digest(sign(body, timestamp), signature):
            raise SignatureInvalid()
        try:
            data = json.loads(body)
            return Notification(
                notify_id=str(data["notify_id"]), out_trade_no=str(data["out_trade_no"]),
                trade_no=str(data["trade_no"]), amount_fen=int(data["amount_fen"]),
                succeeded=data["trade_status"] == SandboxTrade.Status.SUCCESS,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise SignatureInvalid(reason="malformed") from exc

    def refund(self, *, out_trade_no: str, amount_fen: int) -> None:
        updated = SandboxTrade.objects.filter(
            out_trade_no=out_trade_no, status=SandboxTrade.Status.SUCCESS,
            refunded_fen__lte=F("amount_fen") - amount_fen,
        ).update(refunded_fen=F("refunded_fen") + amount_fen)
        if not updated:
            raise RuntimeError(f"sandbox refused refund of {amount_fen} on {out_trade_no}")


# --- the gateway's side: the buyer pays on the hosted page, the gateway notifies --------

def sandbox_trade_pay(*, trade_no: str) -> SandboxTrade:
    """The buyer confirms on the hosted page. Notifies our callback after commit."""
    with transaction.atomic():
        trade = SandboxTrade.objects.select_for_update().get(trade_no=trade_no)
        if trade.status == SandboxTrade.Status.WAIT_PAY:
            trade.status = SandboxTrade.Status.SUCCESS
            trade.paid_at = timezone.now()
            trade.save(update_fields=["status", "paid_at"])
            from ..tasks import sandbox_notify

            transaction.on_commit(lambda: sandbox_notify.delay(trade_no))
    return trade


def sandbox_notification_build(trade: SandboxTrade) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({
        "notify_id": secrets.token_hex(12),
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "amount_fen": trade.amount_fen,
        "trade_status": trade.status,
        "paid_at": trade.paid_at.isoformat() if trade.paid_at else None,
    }, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    return body, {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(body, timestamp),
                  "Content-Type": "application/json"}


def sandbox_notification_send(*, trade_no: str) -> str:
    """Deliver one notification; raises on failure so the task retries."""
    trade = SandboxTrade.objects.get(trade_no=trade_no)
    body, headers = sandbox_notification_build(trade)
    if trade.notify_url == IN_PROCESS:
        from ..services import payment_notification_handle

        return payment_notification_handle(provider="sandbox", body=body, headers=headers)
    request = urllib.request.Request(trade.notify_url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (configured URL)
        return response.read().decode()
