"""The sandbox gateway: behaves like a real one, with its own books (`SandboxTrade`,
`SandboxRefund`), a hosted pay page, queries, refunds (at once, later, or refused),
asynchronous HMAC-signed notifications to our callback, and a daily statement.

Signature: hex HMAC-SHA256 over `<timestamp>.<body>` with LINLI_SANDBOX_SECRET, sent in
`Linli-Sandbox-Signature` with `Linli-Sandbox-Timestamp` (unix seconds); notifications
older than five minutes are refused, so a captured one cannot be replayed later.

Knobs (settings, so tests and a demo can exercise the unhappy paths):
- LINLI_SANDBOX_NOTIFY_DELAY_S: seconds before the payment notification is sent;
- LINLI_SANDBOX_DROP_NOTIFICATIONS: never notify (only a query finds the payment);
- LINLI_SANDBOX_FAIL_CALLS: names of calls that fail as if the gateway were down
  ("trade_open", "trade_query", "trade_close", "refund", "refund_query", "statement");
- LINLI_SANDBOX_TIMEOUT_CALLS: the same names; those calls time out (`gateway_unavailable`
  with reason "timeout", as the real adapters report a read timeout; docs/reliability.md);
- LINLI_SANDBOX_REFUND_MODE: "sync" (refunds succeed at once), "async" (processing,
  then a refund notification from a background task), "hold" (processing until
  `sandbox_refund_finish` is called: tests and demos of a slow bank), "fail" (refused).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.request
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from linli.core.outbox import enqueue

from ..models import SandboxRefund, SandboxTrade
from . import (
    Channel,
    GatewayUnavailable,
    Notification,
    NotificationAck,
    RefundResult,
    SignatureInvalid,
    StatementLine,
    TradeOpened,
    TradeStatus,
)

logger = logging.getLogger("linli.payments.sandbox")

TIMESTAMP_HEADER = "Linli-Sandbox-Timestamp"
SIGNATURE_HEADER = "Linli-Sandbox-Signature"
MAX_AGE_S = 300
IN_PROCESS = "inprocess:"
STATEMENT_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")  # gateways in China cut their days there

_TRADE_STATE = {SandboxTrade.Status.WAIT_PAY: "pending", SandboxTrade.Status.SUCCESS: "succeeded",
                SandboxTrade.Status.CLOSED: "closed"}
_REFUND_STATE = {SandboxRefund.Status.PROCESSING: "pending", SandboxRefund.Status.SUCCESS: "succeeded",
                 SandboxRefund.Status.FAILED: "failed"}


def sign(body: bytes, timestamp: str) -> str:
    key = settings.LINLI_SANDBOX_SECRET.encode()
    return hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _header(headers: dict[str, str], name: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(name.lower(), "")


def _maybe_down(call: str) -> None:
    if call in getattr(settings, "LINLI_SANDBOX_FAIL_CALLS", ()):
        raise GatewayUnavailable(provider="sandbox", call=call)
    if call in getattr(settings, "LINLI_SANDBOX_TIMEOUT_CALLS", ()):
        # what the real adapters raise when the provider does not answer in time
        # (support.TransportError -> GatewayUnavailable), without the wait
        raise GatewayUnavailable(provider="sandbox", call=call, reason="timeout")


def _raw(**fields: object) -> str:
    return json.dumps(fields, default=str, separators=(",", ":"))


class SandboxGateway:
    name = "sandbox"

    @classmethod
    def configured(cls) -> bool:
        return bool(getattr(settings, "LINLI_SANDBOX_ENABLED", True))

    def trade_open(self, *, out_trade_no: str, amount_fen: int, subject: str,
                   channel: Channel = "web", return_url: str = "",
                   client_ip: str = "") -> TradeOpened:
        _maybe_down("trade_open")
        trade = SandboxTrade.objects.create(
            trade_no=f"sbx{timezone.now():%Y%m%d}{secrets.token_hex(8)}",
            out_trade_no=out_trade_no, amount_fen=amount_fen, subject=subject[:128],
            notify_url=settings.LINLI_SANDBOX_NOTIFY_URL or IN_PROCESS,
        )
        pay_url = reverse("sandbox-pay", args=[trade.trade_no])
        raw = _raw(trade_no=trade.trade_no, out_trade_no=out_trade_no, amount_fen=amount_fen,
                   channel=channel)
        if channel == "qr":  # the buyer scans it with the "gateway's app": our hosted page
            return TradeOpened(trade_no=trade.trade_no, qr_code=pay_url, pay_url=pay_url, raw=raw)
        if channel == "app":
            return TradeOpened(trade_no=trade.trade_no, app_params={"trade_no": trade.trade_no},
                               raw=raw)
        return TradeOpened(trade_no=trade.trade_no, pay_url=pay_url, raw=raw)

    def trade_query(self, *, out_trade_no: str) -> TradeStatus:
        _maybe_down("trade_query")
        trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
        if trade is None:
            return TradeStatus(out_trade_no=out_trade_no, trade_no="", state="unknown", amount_fen=0,
                               raw=_raw(error="TRADE_NOT_EXIST"))
        return TradeStatus(out_trade_no=out_trade_no, trade_no=trade.trade_no,
                           state=_TRADE_STATE[trade.status], amount_fen=trade.amount_fen,  # type: ignore[arg-type]
                           paid_at=trade.paid_at,
                           raw=_raw(trade_no=trade.trade_no, status=trade.status,
                                    amount_fen=trade.amount_fen))

    def trade_close(self, *, out_trade_no: str) -> None:
        """Closes a trade still waiting for the buyer; a paid trade stays paid (its
        notification tells the merchant, who then refunds)."""
        _maybe_down("trade_close")
        SandboxTrade.objects.filter(out_trade_no=out_trade_no,
                                    status=SandboxTrade.Status.WAIT_PAY).update(
            status=SandboxTrade.Status.CLOSED)

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int,
               reason: str = "") -> RefundResult:
        """Idempotent by `out_refund_no`, like Alipay's out_request_no and WeChat's
        out_refund_no: asking again answers the first refund's state."""
        _maybe_down("refund")
        mode = getattr(settings, "LINLI_SANDBOX_REFUND_MODE", "sync")
        with transaction.atomic():
            existing = SandboxRefund.objects.filter(out_refund_no=out_refund_no).first()
            if existing is not None:
                return self._refund_result(existing)
            trade = SandboxTrade.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
            if trade is None or trade.status != SandboxTrade.Status.SUCCESS \
                    or trade.refunded_fen + amount_fen > trade.amount_fen or amount_fen <= 0:
                return RefundResult(out_refund_no=out_refund_no, refund_no="", state="failed",
                                    amount_fen=amount_fen, raw=_raw(error="REFUND_AMT_INVALID"))
            status = {"fail": SandboxRefund.Status.FAILED, "async": SandboxRefund.Status.PROCESSING,
                      "hold": SandboxRefund.Status.PROCESSING}.get(mode, SandboxRefund.Status.SUCCESS)
            refund = SandboxRefund.objects.create(
                refund_no=f"sbr{timezone.now():%Y%m%d}{secrets.token_hex(8)}",
                out_refund_no=out_refund_no, trade=trade, amount_fen=amount_fen, status=status,
                finished_at=None if status == SandboxRefund.Status.PROCESSING else timezone.now())
            if status != SandboxRefund.Status.FAILED:
                SandboxTrade.objects.filter(pk=trade.pk).update(refunded_fen=F("refunded_fen") + amount_fen)
            if mode == "async":
                enqueue("linli.payments.tasks.sandbox_refund_finish", refund.refund_no)
        return self._refund_result(refund)

    def refund_query(self, *, out_trade_no: str, out_refund_no: str) -> RefundResult:
        _maybe_down("refund_query")
        refund = SandboxRefund.objects.filter(out_refund_no=out_refund_no,
                                              trade__out_trade_no=out_trade_no).first()
        if refund is None:
            return RefundResult(out_refund_no=out_refund_no, refund_no="", state="pending",
                                amount_fen=0, raw=_raw(error="REFUND_NOT_EXIST"))
        return self._refund_result(refund)

    @staticmethod
    def _refund_result(refund: SandboxRefund) -> RefundResult:
        return RefundResult(out_refund_no=refund.out_refund_no, refund_no=refund.refund_no,
                            state=_REFUND_STATE[refund.status], amount_fen=refund.amount_fen,  # type: ignore[arg-type]
                            raw=_raw(refund_no=refund.refund_no, status=refund.status,
                                     amount_fen=refund.amount_fen))

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
            if "out_refund_no" in data:
                return Notification(
                    notify_id=str(data["notify_id"]), out_trade_no=str(data["out_trade_no"]),
                    trade_no=str(data["trade_no"]), amount_fen=int(data["refund_fen"]),
                    succeeded=data["refund_status"] == SandboxRefund.Status.SUCCESS,
                    kind="refund", state=str(data["refund_status"]),
                    out_refund_no=str(data["out_refund_no"]), raw=body.decode())
            return Notification(
                notify_id=str(data["notify_id"]), out_trade_no=str(data["out_trade_no"]),
                trade_no=str(data["trade_no"]), amount_fen=int(data["amount_fen"]),
                succeeded=data["trade_status"] == SandboxTrade.Status.SUCCESS,
                state=str(data["trade_status"]), raw=body.decode(),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise SignatureInvalid(reason="malformed") from exc

    def notification_ack(self, *, ok: bool) -> NotificationAck:
        return NotificationAck(status=200 if ok else 400,
                               body=json.dumps({"code": "SUCCESS" if ok else "FAIL"}))

    def statement(self, *, day: dt.date) -> list[StatementLine]:
        """Every trade paid and every refund finished on `day` (China time)."""
        _maybe_down("statement")
        start = dt.datetime.combine(day, dt.time.min, tzinfo=STATEMENT_TZ)
        end = start + dt.timedelta(days=1)
        lines = [StatementLine(kind="payment", out_trade_no=t.out_trade_no, trade_no=t.trade_no,
                               amount_fen=t.amount_fen, at=t.paid_at)
                 for t in SandboxTrade.objects.filter(paid_at__gte=start, paid_at__lt=end)
                 if t.paid_at is not None]
        lines += [StatementLine(kind="refund", out_trade_no=r.trade.out_trade_no,
                                trade_no=r.trade.trade_no, amount_fen=r.amount_fen,
                                at=r.finished_at, out_refund_no=r.out_refund_no)
                  for r in SandboxRefund.objects.filter(
                      status=SandboxRefund.Status.SUCCESS, finished_at__gte=start,
                      finished_at__lt=end).select_related("trade")
                  if r.finished_at is not None]
        return lines


# --- the gateway's side: the buyer pays on the hosted page, the gateway notifies --------

def sandbox_trade_pay(*, trade_no: str) -> SandboxTrade:
    """The buyer confirms on the hosted page. Notifies our callback after commit."""
    with transaction.atomic():
        trade = SandboxTrade.objects.select_for_update().get(trade_no=trade_no)
        if trade.status == SandboxTrade.Status.WAIT_PAY:
            trade.status = SandboxTrade.Status.SUCCESS
            trade.paid_at = timezone.now()
            trade.save(update_fields=["status", "paid_at"])
            if not getattr(settings, "LINLI_SANDBOX_DROP_NOTIFICATIONS", False):
                delay = float(getattr(settings, "LINLI_SANDBOX_NOTIFY_DELAY_S", 0))
                enqueue("linli.payments.tasks.sandbox_notify", trade_no, countdown=delay or None)  # sent after commit
    return trade


def _signed(payload: dict[str, object]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    return body, {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(body, timestamp),
                  "Content-Type": "application/json"}


def sandbox_notification_build(trade: SandboxTrade) -> tuple[bytes, dict[str, str]]:
    return _signed({
        "notify_id": secrets.token_hex(12),
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "amount_fen": trade.amount_fen,
        "trade_status": trade.status,
        "paid_at": trade.paid_at.isoformat() if trade.paid_at else None,
    })


def sandbox_refund_notification_build(refund: SandboxRefund) -> tuple[bytes, dict[str, str]]:
    return _signed({
        "notify_id": secrets.token_hex(12),
        "trade_no": refund.trade.trade_no,
        "out_trade_no": refund.trade.out_trade_no,
        "refund_no": refund.refund_no,
        "out_refund_no": refund.out_refund_no,
        "refund_fen": refund.amount_fen,
        "refund_status": refund.status,
    })


def _deliver(notify_url: str, body: bytes, headers: dict[str, str]) -> str:
    if notify_url == IN_PROCESS:
        from ..services import payment_notification_handle

        return payment_notification_handle(provider="sandbox", body=body, headers=headers)
    request = urllib.request.Request(notify_url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (configured URL)
        return response.read().decode()


def sandbox_notification_send(*, trade_no: str) -> str:
    """Deliver one payment notification; raises on failure so the task retries."""
    trade = SandboxTrade.objects.get(trade_no=trade_no)
    body, headers = sandbox_notification_build(trade)
    return _deliver(trade.notify_url, body, headers)


def sandbox_refund_finish(*, refund_no: str) -> str:
    """An asynchronous refund completes at the gateway, which then notifies us."""
    with transaction.atomic():
        refund = SandboxRefund.objects.select_for_update().select_related("trade").get(refund_no=refund_no)
        if refund.status == SandboxRefund.Status.PROCESSING:
            refund.status = SandboxRefund.Status.SUCCESS
            refund.finished_at = timezone.now()
            refund.save(update_fields=["status", "finished_at"])
    if getattr(settings, "LINLI_SANDBOX_DROP_NOTIFICATIONS", False):
        return "not notified"
    body, headers = sandbox_refund_notification_build(refund)
    return _deliver(refund.trade.notify_url, body, headers)
