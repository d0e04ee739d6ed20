"""Alipay (支付宝) through python-alipay-sdk, RSA2 keys.

Requests are signed with the app's private key by the SDK; Alipay's answers and
asynchronous notifications are verified with Alipay's public key. The SDK's own HTTP
call is replaced by our `Transport` (tests stand in for Alipay). Amounts are yuan
strings on Alipay's side ("12.34") and integer fen on ours, converted exactly.

Channels: web → alipay.trade.page.pay URL, h5 → alipay.trade.wap.pay URL, app → the
signed order string for the Alipay app SDK, qr → alipay.trade.precreate (qr_code).
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import functools
import io
import json
import logging
import urllib.parse
import zipfile
from typing import Any, Literal
from zoneinfo import ZoneInfo

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from django.conf import settings

from . import (
    Channel,
    GatewayUnavailable,
    Notification,
    NotificationAck,
    RefundResult,
    SignatureInvalid,
    StatementLine,
    TradeOpened,
    TradeState,
    TradeStatus,
)
from .support import Transport, TransportError, UrllibTransport, fen_to_yuan, key_text, yuan_to_fen

logger = logging.getLogger("linli.payments.alipay")

BEIJING = ZoneInfo("Asia/Shanghai")  # Alipay's times carry no zone: they are Beijing time
TRADE_STATES: dict[str, TradeState] = {
    "WAIT_BUYER_PAY": "pending", "TRADE_SUCCESS": "succeeded",
    "TRADE_FINISHED": "succeeded", "TRADE_CLOSED": "closed",
}
PAID = {"TRADE_SUCCESS", "TRADE_FINISHED"}
OK = "10000"


# --- keys and settings --------------------------------------------------------------------

def _key_material(value: str) -> str | bytes:
    """PEM text (or a file of it) as it is; the bare base64 body Alipay's console shows
    decoded to DER, which the SDK's RSA.importKey reads too."""
    text = key_text(value)
    return text if text.startswith("-----BEGIN") else base64.b64decode(text)


@functools.lru_cache(maxsize=8)
def _keys_load(private_key: str, public_key: str) -> tuple[Any, Any] | None:
    from Cryptodome.PublicKey import RSA

    try:
        return RSA.importKey(_key_material(private_key)), RSA.importKey(_key_material(public_key))
    except (ValueError, IndexError, TypeError, binascii.Error, OSError):
        logger.error("LINLI_ALIPAY_PRIVATE_KEY or LINLI_ALIPAY_PUBLIC_KEY cannot be loaded")
        return None


class _Client(AliPay):  # type: ignore[misc]
    """The SDK with its HTTP call going through our transport."""

    def __init__(self, *, transport: Transport, **kwargs: Any) -> None:
        self._transport = transport
        super().__init__(**kwargs)

    def _load_key(self) -> None:
        keys = _keys_load(self._app_private_key_string, self._alipay_public_key_string)
        if keys is None:
            raise ValueError("Alipay keys cannot be loaded")
        self._app_private_key, self._alipay_public_key = keys

    def verified_sync_response(self, data: dict[str, Any], response_type: str) -> dict[str, Any]:
        url = self._gateway + "?" + self.sign_data(data)
        try:
            answer = self._transport.request("GET", url)
        except TransportError as exc:
            raise GatewayUnavailable(provider="alipay", reason="network", error=str(exc)) from exc
        raw = answer.body.decode("utf-8", errors="replace")
        try:
            document = json.loads(raw)
            node = document.get(response_type) or document.get("error_response") or {}
        except (ValueError, AttributeError) as exc:
            raise GatewayUnavailable(provider="alipay", reason="unreadable_answer",
                                     http_status=answer.status) from exc
        if "sign" not in document or "error_response" in document:
            raise GatewayUnavailable(provider="alipay", code=str(node.get("code", "")),
                                     sub_code=str(node.get("sub_code", "")),
                                     sub_msg=str(node.get("sub_msg", "")))
        try:
            verified: dict[str, Any] = self._verify_and_return_sync_response(raw, response_type)
        except (AliPayValidationError, AliPayException, ValueError, binascii.Error) as exc:
            raise GatewayUnavailable(provider="alipay", reason="answer_signature_invalid") from exc
        verified["_raw"] = raw
        return verified


class AlipayGateway:
    name = "alipay"
    # Tests stand in for the provider here (it is the provider's network, not ours).
    transport_default: Transport | None = None

    @classmethod
    def configured(cls) -> bool:
        private_key = getattr(settings, "LINLI_ALIPAY_PRIVATE_KEY", "")
        public_key = getattr(settings, "LINLI_ALIPAY_PUBLIC_KEY", "")
        return bool(getattr(settings, "LINLI_ALIPAY_APP_ID", "") and private_key and public_key
                    and _keys_load(private_key, public_key) is not None)

    def __init__(self, *, transport: Transport | None = None) -> None:
        self.app_id = str(settings.LINLI_ALIPAY_APP_ID)
        self.notify_url = settings.LINLI_ALIPAY_NOTIFY_URL
        self.transport = transport or self.transport_default or UrllibTransport()
        self.client = _Client(
            transport=self.transport, appid=self.app_id, app_notify_url=self.notify_url or None,
            app_private_key_string=settings.LINLI_ALIPAY_PRIVATE_KEY,
            alipay_public_key_string=settings.LINLI_ALIPAY_PUBLIC_KEY,
            sign_type="RSA2", debug=bool(settings.LINLI_ALIPAY_SANDBOX),
        )

    # --- trades -------------------------------------------------------------------------

    def trade_open(self, *, out_trade_no: str, amount_fen: int, subject: str,
                   channel: Channel = "web", return_url: str = "",
                   client_ip: str = "") -> TradeOpened:
        if amount_fen <= 0:
            raise ValueError("an Alipay trade needs a positive amount")
        # An absolute expiry: the pay link cannot be used after our order's pay deadline.
        expire = dt.datetime.now(BEIJING) + settings.LINLI_UNPAID_ORDER_TTL
        fields: dict[str, Any] = {"subject": subject[:256], "out_trade_no": out_trade_no,
                                  "total_amount": fen_to_yuan(amount_fen),
                                  "time_expire": expire.strftime("%Y-%m-%d %H:%M:%S")}
        if channel == "web":
            signed = self.client.api_alipay_trade_page_pay(return_url=return_url or None, **fields)
            return TradeOpened(trade_no="", pay_url=f"{self.client._gateway}?{signed}", raw=signed)
        if channel == "h5":
            signed = self.client.api_alipay_trade_wap_pay(return_url=return_url or None, **fields)
            return TradeOpened(trade_no="", pay_url=f"{self.client._gateway}?{signed}", raw=signed)
        if channel == "app":
            signed = self.client.api_alipay_trade_app_pay(**fields)
            return TradeOpened(trade_no="", app_params={"order_string": signed}, raw=signed)
        if channel == "qr":
            answer = self._ok(self.client.api_alipay_trade_precreate(**fields))
            return TradeOpened(trade_no=str(answer.get("trade_no", "")),
                               qr_code=str(answer["qr_code"]), raw=answer["_raw"])
        raise ValueError(f"unknown channel {channel!r}")

    def trade_query(self, *, out_trade_no: str) -> TradeStatus:
        answer = self.client.api_alipay_trade_query(out_trade_no=out_trade_no)
        if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            # The buyer never opened the pay page: Alipay has no trade (yet).
            return TradeStatus(out_trade_no=out_trade_no, trade_no="", state="unknown",
                               amount_fen=0, raw=answer["_raw"])
        answer = self._ok(answer)
        paid_at = answer.get("send_pay_date")
        return TradeStatus(
            out_trade_no=out_trade_no, trade_no=str(answer.get("trade_no", "")),
            state=TRADE_STATES.get(str(answer.get("trade_status")), "unknown"),
            amount_fen=self._fen(answer.get("total_amount", "0")),
            paid_at=_beijing(paid_at) if paid_at else None, raw=answer["_raw"],
        )

    def trade_close(self, *, out_trade_no: str) -> None:
        answer = self.client.api_alipay_trade_close(out_trade_no=out_trade_no)
        if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return  # nothing was ever opened at Alipay; the pay link expires by time_expire
        self._ok(answer)

    # --- refunds ------------------------------------------------------------------------

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int,
               total_fen: int, reason: str = "") -> RefundResult:
        answer = self._ok(self.client.api_alipay_trade_refund(
            refund_amount=fen_to_yuan(amount_fen), out_trade_no=out_trade_no,
            out_request_no=out_refund_no, **({"refund_reason": reason[:256]} if reason else {}),
        ))
        # fund_change "N" also answers a repeated request: the refund query tells for sure.
        return RefundResult(out_refund_no=out_refund_no, refund_no=str(answer.get("trade_no", "")),
                            state="succeeded" if answer.get("fund_change") == "Y" else "pending",
                            amount_fen=amount_fen, raw=answer["_raw"])

    def refund_query(self, *, out_trade_no: str, out_refund_no: str) -> RefundResult:
        answer = self._ok(self.client.api_alipay_trade_fastpay_refund_query(
            out_request_no=out_refund_no, out_trade_no=out_trade_no))
        if answer.get("refund_status") == "REFUND_SUCCESS":
            state = "succeeded"
        elif answer.get("out_request_no"):
            state = "pending"
        else:  # Alipay has no such refund: never received, or refused
            state = "failed"
        return RefundResult(out_refund_no=out_refund_no, refund_no=str(answer.get("trade_no", "")),
                            state=state,  # type: ignore[arg-type]
                            amount_fen=self._fen(answer.get("refund_amount", "0")),
                            raw=answer["_raw"])

    # --- notifications ------------------------------------------------------------------

    def notification_parse(self, *, body: bytes, headers: dict[str, str]) -> Notification:
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                           strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise SignatureInvalid(reason="malformed") from exc
        data = dict(pairs)
        signature = data.pop("sign", "")
        if len(data) + 1 != len(pairs) or not signature:
            raise SignatureInvalid(reason="malformed")  # a field twice, or no signature
        try:
            verified = self.client.verify(dict(data), signature)
        except (AliPayException, ValueError, binascii.Error) as exc:
            raise SignatureInvalid() from exc
        if not verified:
            raise SignatureInvalid()
        if data.get("app_id") != self.app_id:
            raise SignatureInvalid(reason="other_app")  # signed by Alipay, but not for us
        try:
            common = {"notify_id": data["notify_id"], "out_trade_no": data["out_trade_no"],
                      "trade_no": data.get("trade_no", ""), "state": data.get("trade_status", ""),
                      "raw": body.decode("utf-8")}
            if data.get("out_biz_no") or data.get("refund_fee") or data.get("gmt_refund"):
                # Alipay's refund_fee is the trade's total refunded so far.
                return Notification(kind="refund", out_refund_no=data["out_biz_no"],
                                    amount_fen=yuan_to_fen(data["refund_fee"]), succeeded=True,
                                    **common)
            return Notification(kind="payment", amount_fen=yuan_to_fen(data["total_amount"]),
                                succeeded=data.get("trade_status") in PAID, **common)
        except (KeyError, ValueError) as exc:
            raise SignatureInvalid(reason="malformed") from exc

    def notification_ack(self, *, ok: bool) -> NotificationAck:
        # Alipay wants the bare word; anything else makes it retry (up to 25 hours).
        if ok:
            return NotificationAck(status=200, body="success", content_type="text/plain")
        return NotificationAck(status=400, body="fail", content_type="text/plain")

    # --- statement ----------------------------------------------------------------------

    def statement(self, *, day: dt.date) -> list[StatementLine]:
        answer = self.client.server_api("alipay.data.dataservice.bill.downloadurl.query",
                                        biz_content={"bill_type": "trade",
                                                     "bill_date": day.isoformat()})
        if answer.get("sub_code") == "isp.bill_not_exist":
            return []  # no trade that day
        url = str(self._ok(answer).get("bill_download_url", ""))
        try:
            download = self.transport.request("GET", url)
        except TransportError as exc:
            raise GatewayUnavailable(provider="alipay", reason="network", error=str(exc)) from exc
        if download.status != 200:
            raise GatewayUnavailable(provider="alipay", reason="bill_download",
                                     http_status=download.status)
        try:
            return statement_parse(download.body)
        except (ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise GatewayUnavailable(provider="alipay", reason="bill_unreadable") from exc

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _ok(answer: dict[str, Any]) -> dict[str, Any]:
        if str(answer.get("code")) != OK:
            raise GatewayUnavailable(provider="alipay", code=str(answer.get("code", "")),
                                     sub_code=str(answer.get("sub_code", "")),
                                     sub_msg=str(answer.get("sub_msg", "")))
        return answer

    @staticmethod
    def _fen(amount_yuan: Any) -> int:
        try:
            return yuan_to_fen(str(amount_yuan))
        except ValueError as exc:
            raise GatewayUnavailable(provider="alipay", reason="unreadable_amount") from exc


def _beijing(text: str) -> dt.datetime:
    return (dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
            .replace(tzinfo=BEIJING).astimezone(dt.UTC))


def statement_parse(content: bytes) -> list[StatementLine]:
    """Alipay's trade bill: a zip of GBK CSV files (details and a summary), or one such
    CSV. Reads the details file: the one whose header has 支付宝交易号 and 业务类型."""
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            texts = [_decode(archive.read(member)) for member in archive.namelist()
                     if member.lower().endswith(".csv")]
    else:
        texts = [_decode(content)]
    for text in texts:
        lines = _details(text)
        if lines is not None:
            return lines
    raise ValueError("no details table in the Alipay bill")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _details(text: str) -> list[StatementLine] | None:
    rows = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    lines: list[StatementLine] = []
    for row in rows:
        cells = [cell.strip() for cell in row]
        if not cells or not any(cells):
            continue
        if cells[0].startswith("#"):
            if header is not None:
                break  # "#----- 业务明细列表结束 -----"
            continue
        if header is None:
            if "支付宝交易号" in cells and "业务类型" in cells:
                header = cells
            continue
        record = dict(zip(header, cells, strict=False))
        amount = next(v for k, v in record.items() if k.startswith("订单金额"))
        kind: Literal["payment", "refund"] = "refund" if record["业务类型"] == "退款" else "payment"
        at = record.get("完成时间") or record["创建时间"]
        lines.append(StatementLine(
            kind=kind, out_trade_no=record["商户订单号"], trade_no=record["支付宝交易号"],
            amount_fen=abs(yuan_to_fen(amount, signed=True)), at=_beijing(at),
            out_refund_no=record.get("退款批次号/请求号", "") if kind == "refund" else "",
        ))
    return None if header is None else lines
