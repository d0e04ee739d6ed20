"""WeChat Pay API v3 (微信支付), "WeChat Pay public key" mode, through wechatpayv3's
signing and verification utilities.

We do not construct `wechatpayv3.WeChatPay`: its request path calls `requests` directly,
and its signature check fetches platform certificates from the network whenever a
message names a serial it does not know — a forged notification could make us call
out. Here a message is verified only against the configured WeChat Pay public key
(LINLI_WECHATPAY_PUBLIC_KEY_ID must match Wechatpay-Serial), nothing is downloaded at
construction or import, and every call goes through our `Transport`.

Channels: web and h5 → H5 pay (h5_url), qr → Native (code_url), app → APP prepay
(prepay_id plus the signed parameters the app SDK needs). Amounts are fen on both sides.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import logging
import secrets
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from wechatpayv3.utils import (
    aes_decrypt,
    build_authorization,
    load_private_key,
    load_public_key,
    rsa_sign,
    rsa_verify,
)

from . import (
    Channel,
    GatewayUnavailable,
    Notification,
    NotificationAck,
    RefundResult,
    RefundState,
    SignatureInvalid,
    StatementLine,
    TradeOpened,
    TradeState,
    TradeStatus,
)
from .support import HttpAnswer, Transport, TransportError, UrllibTransport, key_text, yuan_to_fen

logger = logging.getLogger("linli.payments.wechatpay")

API = "https://api.mch.weixin.qq.com"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
MAX_AGE_S = 300  # a notification older (or newer) than this is refused: replay
BEIJING = ZoneInfo("Asia/Shanghai")
TRADE_STATES: dict[str, TradeState] = {
    "SUCCESS": "succeeded", "REFUND": "succeeded",  # REFUND: paid, then (partly) refunded
    "NOTPAY": "pending", "USERPAYING": "pending", "ACCEPT": "pending",
    "CLOSED": "closed", "REVOKED": "closed", "PAYERROR": "failed",
}
REFUND_STATES: dict[str, RefundState] = {
    "SUCCESS": "succeeded", "PROCESSING": "pending", "CLOSED": "failed", "ABNORMAL": "failed",
}
REFUND_EVENTS = {"REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED"}
# The H5 API wants the payer's IP; the gateway protocol does not carry it yet.
PAYER_IP_UNKNOWN = "127.0.0.1"


@functools.lru_cache(maxsize=8)
def _keys_load(private_key: str, public_key: str) -> tuple[Any, Any] | None:
    try:
        return load_private_key(key_text(private_key)), load_public_key(key_text(public_key))
    except Exception:  # wechatpayv3 raises a bare Exception for an unreadable key
        logger.error("LINLI_WECHATPAY_PRIVATE_KEY or LINLI_WECHATPAY_PUBLIC_KEY cannot be loaded")
        return None


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""


class WechatPayGateway:
    name = "wechatpay"
    # Tests stand in for the provider here (it is the provider's network, not ours).
    transport_default: Transport | None = None

    @classmethod
    def configured(cls) -> bool:
        values = [getattr(settings, f"LINLI_WECHATPAY_{name}", "") for name in (
            "MCHID", "APPID", "PRIVATE_KEY", "CERT_SERIAL_NO", "APIV3_KEY",
            "PUBLIC_KEY", "PUBLIC_KEY_ID")]
        if not all(values):
            return False
        if len(str(settings.LINLI_WECHATPAY_APIV3_KEY).encode()) != 32:
            logger.error("LINLI_WECHATPAY_APIV3_KEY must be the 32-character APIv3 key")
            return False
        return _keys_load(settings.LINLI_WECHATPAY_PRIVATE_KEY,
                          settings.LINLI_WECHATPAY_PUBLIC_KEY) is not None

    def __init__(self, *, transport: Transport | None = None) -> None:
        keys = _keys_load(settings.LINLI_WECHATPAY_PRIVATE_KEY, settings.LINLI_WECHATPAY_PUBLIC_KEY)
        if keys is None:
            raise ValueError("WeChat Pay keys cannot be loaded")
        self.private_key, self.public_key = keys
        self.mchid = str(settings.LINLI_WECHATPAY_MCHID)
        self.appid = str(settings.LINLI_WECHATPAY_APPID)
        self.cert_serial_no = str(settings.LINLI_WECHATPAY_CERT_SERIAL_NO)
        self.apiv3_key = str(settings.LINLI_WECHATPAY_APIV3_KEY)
        self.public_key_id = str(settings.LINLI_WECHATPAY_PUBLIC_KEY_ID)
        self.notify_url = settings.LINLI_WECHATPAY_NOTIFY_URL
        self.transport = transport or self.transport_default or UrllibTransport()

    # --- trades -------------------------------------------------------------------------

    def trade_open(self, *, out_trade_no: str, amount_fen: int, subject: str,
                   channel: Channel = "web", return_url: str = "",
                   client_ip: str = "") -> TradeOpened:
        if amount_fen <= 0:
            raise ValueError("a WeChat Pay trade needs a positive amount")
        expire = dt.datetime.now(BEIJING) + settings.LINLI_UNPAID_ORDER_TTL
        order: dict[str, Any] = {
            "appid": self.appid, "mchid": self.mchid, "description": subject[:127],
            "out_trade_no": out_trade_no, "notify_url": self.notify_url,
            "time_expire": expire.isoformat(timespec="seconds"),
            "amount": {"total": amount_fen, "currency": "CNY"},
        }
        if channel in ("web", "h5"):
            order["scene_info"] = {"payer_client_ip": client_ip or PAYER_IP_UNKNOWN,
                                  "h5_info": {"type": "Wap"}}
            answer, raw = self._call("POST", "/v3/pay/transactions/h5", order)
            h5_url = str(answer["h5_url"])
            if return_url:  # WeChat sends the buyer back here after paying
                h5_url += "&redirect_url=" + urllib.parse.quote(return_url, safe="")
            return TradeOpened(trade_no="", pay_url=h5_url, raw=raw)
        if channel == "qr":
            answer, raw = self._call("POST", "/v3/pay/transactions/native", order)
            return TradeOpened(trade_no="", qr_code=str(answer["code_url"]), raw=raw)
        if channel == "app":
            answer, raw = self._call("POST", "/v3/pay/transactions/app", order)
            return TradeOpened(trade_no="", app_params=self._app_params(str(answer["prepay_id"])),
                               raw=raw)
        raise ValueError(f"unknown channel {channel!r}")

    def _app_params(self, prepay_id: str) -> dict[str, str]:
        """What the WeChat app SDK (PayReq) needs, signed with the merchant key."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        message = f"{self.appid}\n{timestamp}\n{nonce}\n{prepay_id}\n"
        return {"appid": self.appid, "partnerid": self.mchid, "prepayid": prepay_id,
                "package": "Sign=WXPay", "noncestr": nonce, "timestamp": timestamp,
                "sign": rsa_sign(self.private_key, message)}

    def trade_query(self, *, out_trade_no: str) -> TradeStatus:
        path = (f"/v3/pay/transactions/out-trade-no/{urllib.parse.quote(out_trade_no)}"
                f"?mchid={self.mchid}")
        try:
            answer, raw = self._call("GET", path)
        except GatewayUnavailable as exc:
            if exc.details.get("code") != "ORDER_NOT_EXIST":
                raise
            return TradeStatus(out_trade_no=out_trade_no, trade_no="", state="unknown",
                               amount_fen=0, raw=str(exc.details.get("message", "")))
        success_time = answer.get("success_time")
        return TradeStatus(
            out_trade_no=out_trade_no, trade_no=str(answer.get("transaction_id", "")),
            state=TRADE_STATES.get(str(answer.get("trade_state")), "unknown"),
            amount_fen=int((answer.get("amount") or {}).get("total", 0)),
            paid_at=dt.datetime.fromisoformat(success_time).astimezone(dt.UTC)
            if success_time else None, raw=raw,
        )

    def trade_close(self, *, out_trade_no: str) -> None:
        self._call("POST", f"/v3/pay/transactions/out-trade-no/{urllib.parse.quote(out_trade_no)}"
                   "/close", {"mchid": self.mchid})

    # --- refunds ------------------------------------------------------------------------

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int,
               total_fen: int, reason: str = "") -> RefundResult:
        request: dict[str, Any] = {
            "out_trade_no": out_trade_no, "out_refund_no": out_refund_no,
            "notify_url": self.notify_url,
            "amount": {"refund": amount_fen, "total": total_fen, "currency": "CNY"},
        }
        if reason:
            request["reason"] = reason[:80]
        answer, raw = self._call("POST", "/v3/refund/domestic/refunds", request)
        return self._refund_result(answer, raw)

    def refund_query(self, *, out_trade_no: str, out_refund_no: str) -> RefundResult:
        answer, raw = self._call(
            "GET", f"/v3/refund/domestic/refunds/{urllib.parse.quote(out_refund_no)}")
        return self._refund_result(answer, raw)

    @staticmethod
    def _refund_result(answer: dict[str, Any], raw: str) -> RefundResult:
        return RefundResult(out_refund_no=str(answer.get("out_refund_no", "")),
                            refund_no=str(answer.get("refund_id", "")),
                            state=REFUND_STATES.get(str(answer.get("status")), "pending"),
                            amount_fen=int((answer.get("amount") or {}).get("refund", 0)), raw=raw)

    # --- notifications ------------------------------------------------------------------

    def notification_parse(self, *, body: bytes, headers: dict[str, str]) -> Notification:
        self._verify(body, headers, fresh=True)
        try:
            envelope = json.loads(body)
            event_type = str(envelope["event_type"])
            resource = envelope["resource"]
            if resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise ValueError("unknown resource algorithm")
            plain = aes_decrypt(nonce=str(resource["nonce"]), ciphertext=str(resource["ciphertext"]),
                                associated_data=str(resource.get("associated_data") or ""),
                                apiv3_key=self.apiv3_key)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SignatureInvalid(reason="malformed") from exc
        if plain is None:  # the GCM tag does not match: not encrypted with our APIv3 key
            raise SignatureInvalid(reason="undecryptable")
        try:
            data = json.loads(plain)
            if data.get("mchid") != self.mchid:
                raise SignatureInvalid(reason="other_merchant")
            common = {"notify_id": str(envelope["id"]), "out_trade_no": str(data["out_trade_no"]),
                      "trade_no": str(data.get("transaction_id", "")), "state": event_type,
                      "raw": plain}
            if event_type in REFUND_EVENTS:
                return Notification(kind="refund", out_refund_no=str(data["out_refund_no"]),
                                    amount_fen=_fen(data["amount"]["refund"]),
                                    succeeded=data.get("refund_status") == "SUCCESS", **common)
            if event_type.startswith("TRANSACTION."):
                if data.get("appid") != self.appid:
                    raise SignatureInvalid(reason="other_app")
                return Notification(kind="payment", amount_fen=_fen(data["amount"]["total"]),
                                    succeeded=(event_type == "TRANSACTION.SUCCESS"
                                               and data.get("trade_state") == "SUCCESS"),
                                    **common)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SignatureInvalid(reason="malformed") from exc
        raise SignatureInvalid(reason="unknown_event", event_type=event_type)

    def notification_ack(self, *, ok: bool) -> NotificationAck:
        if ok:
            return NotificationAck(status=200, body=json.dumps(
                {"code": "SUCCESS", "message": "成功"}, ensure_ascii=False))
        return NotificationAck(status=400, body=json.dumps(
            {"code": "FAIL", "message": "失败"}, ensure_ascii=False))

    # --- statement ----------------------------------------------------------------------

    def statement(self, *, day: dt.date) -> list[StatementLine]:
        try:
            answer, _ = self._call("GET", f"/v3/bill/tradebill?bill_date={day.isoformat()}"
                                          "&bill_type=ALL")
        except GatewayUnavailable as exc:
            if exc.details.get("code") == "NO_STATEMENT_EXIST":
                return []
            raise
        url = str(answer.get("download_url", ""))
        parsed = urllib.parse.urlsplit(url)
        path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        download = self._send("GET", url, path, "")  # the file itself is not signed...
        if download.status != 200:
            raise GatewayUnavailable(provider="wechatpay", reason="bill_download",
                                     http_status=download.status)
        expected = str(answer.get("hash_value", "")).lower()
        if answer.get("hash_type", "SHA1") != "SHA1" or (
                hashlib.sha1(download.body).hexdigest() != expected):  # noqa: S324 (WeChat's)
            raise GatewayUnavailable(provider="wechatpay", reason="bill_hash_mismatch")
        try:  # ...but its hash came in the signed answer
            return statement_parse(download.body)
        except (ValueError, KeyError) as exc:
            raise GatewayUnavailable(provider="wechatpay", reason="bill_unreadable") from exc

    # --- signing, sending, verifying ------------------------------------------------------

    def authorization(self, method: str, path: str, body: str) -> str:
        return str(build_authorization(path, method, self.mchid, self.cert_serial_no,
                                       self.private_key, data=body))

    def _send(self, method: str, url: str, path: str, body: str) -> HttpAnswer:
        headers = {"Authorization": self.authorization(method, path, body),
                   "Accept": "application/json", "Content-Type": "application/json",
                   "Wechatpay-Serial": self.public_key_id, "User-Agent": "linli"}
        try:
            return self.transport.request(method, url, headers=headers,
                                          body=body.encode() if body else None)
        except TransportError as exc:
            raise GatewayUnavailable(provider="wechatpay", reason="network", error=str(exc)) from exc

    def _call(self, method: str, path: str,
              payload: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
        """One API call: signed request, verified answer. Non-2xx → GatewayUnavailable
        with WeChat's error code in the details."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")) if payload else ""
        answer = self._send(method, API + path, path, body)
        raw = answer.body.decode("utf-8", errors="replace")
        if not 200 <= answer.status < 300:
            try:
                error = json.loads(raw)
                code, message = str(error.get("code", "")), str(error.get("message", ""))
            except (ValueError, AttributeError):
                code, message = "", raw[:200]
            raise GatewayUnavailable(provider="wechatpay", http_status=answer.status,
                                     code=code, message=message)
        try:
            self._verify(answer.body, answer.headers, fresh=False)
        except SignatureInvalid as exc:
            raise GatewayUnavailable(provider="wechatpay",
                                     reason="answer_signature_invalid") from exc
        if not raw:
            return {}, ""  # 204 No Content (close)
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise GatewayUnavailable(provider="wechatpay", reason="unreadable_answer") from exc
        return (document if isinstance(document, dict) else {}), raw

    def _verify(self, body: bytes, headers: Mapping[str, str], *, fresh: bool) -> None:
        """WeChat Pay's signature over "timestamp\\nnonce\\nbody\\n", with the configured
        public key only; a notification must also be fresh."""
        signature = _header(headers, "Wechatpay-Signature")
        timestamp = _header(headers, "Wechatpay-Timestamp")
        nonce = _header(headers, "Wechatpay-Nonce")
        serial = _header(headers, "Wechatpay-Serial")
        kind = _header(headers, "Wechatpay-Signature-Type") or SIGNATURE_TYPE
        if not (signature and timestamp.isdigit() and nonce) or kind != SIGNATURE_TYPE:
            raise SignatureInvalid(reason="unsigned")
        if serial != self.public_key_id:
            raise SignatureInvalid(reason="unknown_serial")
        if fresh and abs(time.time() - int(timestamp)) > MAX_AGE_S:
            raise SignatureInvalid(reason="stale")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SignatureInvalid(reason="malformed") from exc
        if not rsa_verify(timestamp, nonce, text, signature, self.public_key):
            raise SignatureInvalid()


def _fen(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"not an amount in fen: {value!r}")
    return value


def statement_parse(content: bytes) -> list[StatementLine]:
    """WeChat Pay's trade bill (bill_type=ALL): a UTF-8 CSV whose every value starts with
    a backquote, rows until the "总交易单数" summary."""
    rows = csv.reader(io.StringIO(content.decode("utf-8-sig")))
    header = [cell.strip() for cell in next(rows)]
    lines: list[StatementLine] = []
    for row in rows:
        cells = [cell.strip().lstrip("`") for cell in row]
        if not any(cells):
            continue
        if cells[0].startswith("总"):
            break
        record = dict(zip(header, cells, strict=False))
        at = (dt.datetime.strptime(record["交易时间"], "%Y-%m-%d %H:%M:%S")
              .replace(tzinfo=BEIJING).astimezone(dt.UTC))
        kind: Literal["payment", "refund"]
        if record["交易状态"] == "REFUND":
            kind, amount, out_refund_no = ("refund", record.get("申请退款金额") or record["退款金额"],
                                           record["商户退款单号"])
        elif record["交易状态"] == "SUCCESS":
            kind, amount, out_refund_no = ("payment", record.get("订单金额") or record["应结订单金额"],
                                           "")
        else:
            continue
        lines.append(StatementLine(kind=kind, out_trade_no=record["商户订单号"],
                                   trade_no=record["微信订单号"], amount_fen=yuan_to_fen(amount),
                                   at=at, out_refund_no=out_refund_no))
    return lines
