"""The WeChat Pay v3 adapter, offline: merchant and platform keys generated here, a fake
WeChat Pay that checks our Authorization signatures and signs its answers, and signed,
AES-GCM-encrypted notifications through our real callback endpoint and database."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import time
import urllib.parse

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.test import Client

from linli.orders.models import Order
from linli.payments.gateways import GatewayUnavailable, SignatureInvalid, get_gateway
from linli.payments.gateways.support import HttpAnswer
from linli.payments.gateways.wechatpay import WechatPayGateway
from linli.payments.models import GatewayNotification, Payment
from tests.fixtures import delivery_address, make_product, make_store, sms_login
from tests.payments.gateway_keys import KeyPair, Unreachable, key_pair

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"  # our merchant certificate's
PUBLIC_KEY_ID = "PUB_KEY_ID_0119000001092025112500000000000001"
APIV3_KEY = "a12d3924fd499edac8a5efc4c2f18c3b"  # 32 characters, made up
CALLBACK = "/api/v1/payments/callbacks/wechatpay"
H5_URL = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx2016121516420242444321ca0631331346&package=1405458241"


def merchant_key() -> KeyPair:
    return key_pair("wechat-merchant")  # ours: signs our requests


def platform_key() -> KeyPair:
    return key_pair("wechat-platform")  # WeChat Pay's: signs answers and notifications


@pytest.fixture(autouse=True)
def wechat_settings(settings):
    settings.LINLI_WECHATPAY_MCHID = MCHID
    settings.LINLI_WECHATPAY_APPID = APPID
    settings.LINLI_WECHATPAY_PRIVATE_KEY = merchant_key().private_pem
    settings.LINLI_WECHATPAY_CERT_SERIAL_NO = SERIAL
    settings.LINLI_WECHATPAY_APIV3_KEY = APIV3_KEY
    settings.LINLI_WECHATPAY_PUBLIC_KEY = platform_key().public_pem
    settings.LINLI_WECHATPAY_PUBLIC_KEY_ID = PUBLIC_KEY_ID
    settings.LINLI_WECHATPAY_NOTIFY_URL = "https://linli.example/api/v1/payments/callbacks/wechatpay"
    return settings


@pytest.fixture(autouse=True)
def no_requests(monkeypatch):
    """wechatpayv3 would reach WeChat through `requests`: make any such call fail loudly."""
    import requests

    def refuse(*args, **kwargs):
        raise AssertionError("the WeChat Pay adapter must not call requests")

    monkeypatch.setattr(requests.Session, "request", refuse)


def signed_headers(body: str, *, key: KeyPair | None = None, timestamp: int | None = None,
                   serial: str = PUBLIC_KEY_ID) -> dict[str, str]:
    """WeChat Pay's signature headers over "timestamp\\nnonce\\nbody\\n"."""
    stamp, nonce = str(int(time.time()) if timestamp is None else timestamp), secrets.token_hex(16)
    return {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": serial,
            "Wechatpay-Signature": (key or platform_key()).sign(f"{stamp}\n{nonce}\n{body}\n"),
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}


def encrypted(resource: dict, *, apiv3_key: str = APIV3_KEY, associated_data: str = "transaction") -> dict:
    nonce = secrets.token_hex(6)  # 12 characters
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), json.dumps(resource).encode(),
                                                    associated_data.encode())
    return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(ciphertext).decode(),
            "associated_data": associated_data, "original_type": "transaction", "nonce": nonce}


def transaction(**fields) -> dict:
    resource = {"mchid": MCHID, "appid": APPID, "out_trade_no": "pay_test",
                "transaction_id": "4200000000202611250000000001", "trade_type": "MWEB",
                "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS",
                "success_time": "2026-11-25T22:30:00+08:00", "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
                "amount": {"total": 2000, "payer_total": 1800, "currency": "CNY", "payer_currency": "CNY"}}
    resource.update(fields)
    return resource


def refund_resource(**fields) -> dict:
    resource = {"mchid": MCHID, "out_trade_no": "pay_test", "transaction_id": "4200000000202611250000000001",
                "out_refund_no": "rfd_1", "refund_id": "50000000382019052709732678859",
                "refund_status": "SUCCESS", "success_time": "2026-11-25T23:00:00+08:00",
                "amount": {"total": 2000, "refund": 500, "payer_total": 2000, "payer_refund": 500}}
    resource.update(fields)
    return resource


def notification(resource: dict, *, event_type: str = "TRANSACTION.SUCCESS", notify_id: str = "",
                 **options) -> tuple[bytes, dict[str, str]]:
    sign_options = {k: options.pop(k) for k in ("key", "timestamp", "serial") if k in options}
    envelope = {"id": notify_id or f"EV-{secrets.token_hex(8)}", "create_time": "2026-11-25T22:30:01+08:00",
                "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
                "resource": encrypted(resource, **options)}
    body = json.dumps(envelope, ensure_ascii=False)
    return body.encode(), signed_headers(body, **sign_options)


AUTH = re.compile(r'WECHATPAY2-SHA256-RSA2048 mchid="(?P<mchid>[^"]+)",nonce_str="(?P<nonce>[^"]+)",'
                  r'signature="(?P<signature>[^"]+)",timestamp="(?P<timestamp>\d+)",serial_no="(?P<serial>[^"]+)"')


def authorization_verifies(method: str, url: str, body: bytes | None, authorization: str) -> bool:
    match = AUTH.fullmatch(authorization)
    assert match and match["mchid"] == MCHID and match["serial"] == SERIAL, authorization
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    message = f"{method}\n{path}\n{match['timestamp']}\n{match['nonce']}\n{(body or b'').decode()}\n"
    return merchant_key().verifies(message, match["signature"])


class FakeWechatPay:
    """WeChat Pay's API: refuses requests our merchant key did not sign, answers
    `answers[(method, path)]` = (status, json) signed with the platform key."""

    def __init__(self, answers: dict | None = None, *, key: KeyPair | None = None):
        self.answers = answers or {}
        self.files: dict[str, bytes] = {}
        self.key = key or platform_key()
        self.requests: list[dict] = []

    def request(self, method, url, *, body=None, headers=None) -> HttpAnswer:
        assert authorization_verifies(method, url, body, headers["Authorization"]), "bad signature"
        if url in self.files:
            return HttpAnswer(200, self.files[url], {"content-type": "application/octet-stream"})
        path = urllib.parse.urlsplit(url).path
        self.requests.append({"method": method, "path": path, "url": url,
                              "body": json.loads(body) if body else None})
        status, answer = self.answers[(method, path)]
        text = json.dumps(answer, ensure_ascii=False) if answer is not None else ""
        signed = {k.lower(): v for k, v in signed_headers(text, key=self.key).items()}
        return HttpAnswer(status, text.encode(), {"content-type": "application/json", **signed})


def h5_fake() -> FakeWechatPay:
    return FakeWechatPay({("POST", "/v3/pay/transactions/h5"): (200, {"h5_url": H5_URL})})


# --- configuration and no network at start-up ---------------------------------------------------

def test_offered_only_when_every_key_is_set_and_readable(settings):
    assert WechatPayGateway.configured() and get_gateway("wechatpay").name == "wechatpay"
    settings.LINLI_WECHATPAY_PUBLIC_KEY_ID = ""
    assert not WechatPayGateway.configured()
    settings.LINLI_WECHATPAY_PUBLIC_KEY_ID = PUBLIC_KEY_ID
    settings.LINLI_WECHATPAY_APIV3_KEY = "too-short"
    assert not WechatPayGateway.configured()
    settings.LINLI_WECHATPAY_APIV3_KEY = APIV3_KEY
    settings.LINLI_WECHATPAY_PRIVATE_KEY = "not a key"
    assert not WechatPayGateway.configured()
    with pytest.raises(KeyError):
        get_gateway("wechatpay")


def test_nothing_is_fetched_at_construction_nor_for_an_unknown_serial():
    unreachable = Unreachable()
    gateway = WechatPayGateway(transport=unreachable)
    body, headers = notification(transaction(), serial="7132D72A03E93CDDF8C03BBD1F37EEDF")
    with pytest.raises(SignatureInvalid) as exc:
        gateway.notification_parse(body=body, headers=headers)
    assert exc.value.details["reason"] == "unknown_serial" and unreachable.calls == []


# --- request signing and channels ---------------------------------------------------------------

def test_h5_order_is_signed_with_the_merchant_key():
    fake = h5_fake()
    opened = WechatPayGateway(transport=fake).trade_open(
        out_trade_no="pay_abc", amount_fen=1230, subject="老王家常菜 ord_1", channel="h5",
        return_url="https://linli.example/orders/ord_1")
    assert opened.pay_url == H5_URL + "&redirect_url=https%3A%2F%2Flinli.example%2Forders%2Ford_1"
    sent = fake.requests[0]["body"]
    assert sent["amount"] == {"total": 1230, "currency": "CNY"} and sent["out_trade_no"] == "pay_abc"
    assert (sent["appid"], sent["mchid"], sent["description"]) == (APPID, MCHID, "老王家常菜 ord_1")
    assert sent["notify_url"].endswith("/callbacks/wechatpay") and "h5_info" in sent["scene_info"]
    assert dt.datetime.fromisoformat(sent["time_expire"]) > dt.datetime.now(dt.UTC)


def test_h5_order_carries_the_buyers_ip_when_known():
    fake = h5_fake()
    WechatPayGateway(transport=fake).trade_open(out_trade_no="pay_ip", amount_fen=100, subject="s",
                                                channel="h5", client_ip="203.0.113.7")
    assert fake.requests[0]["body"]["scene_info"]["payer_client_ip"] == "203.0.113.7"


def test_authorization_signature_covers_method_path_and_body():
    recorded = []

    class Recorder(FakeWechatPay):
        def request(self, method, url, *, body=None, headers=None):
            recorded.append((method, url, body, headers["Authorization"]))
            return super().request(method, url, body=body, headers=headers)

    WechatPayGateway(transport=Recorder({("POST", "/v3/pay/transactions/native"): (
        200, {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"})})).trade_open(
        out_trade_no="pay_qr", amount_fen=1, subject="s", channel="qr")
    method, url, body, authorization = recorded[0]
    assert authorization_verifies(method, url, body, authorization)
    cheaper = body.replace(b'"total":1,', b'"total":0,')
    assert cheaper != body and not authorization_verifies(method, url, cheaper, authorization)
    assert not authorization_verifies("POST", url.replace("native", "h5"), body, authorization)


def test_web_is_h5_qr_is_native_and_app_gets_signed_params():
    fake = FakeWechatPay({
        ("POST", "/v3/pay/transactions/h5"): (200, {"h5_url": H5_URL}),
        ("POST", "/v3/pay/transactions/native"): (200, {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}),
        ("POST", "/v3/pay/transactions/app"): (200, {"prepay_id": "wx201410272009395522657a690389285100"}),
    })
    gateway = WechatPayGateway(transport=fake)
    assert gateway.trade_open(out_trade_no="p1", amount_fen=1, subject="s").pay_url == H5_URL
    qr = gateway.trade_open(out_trade_no="p2", amount_fen=9_999_999, subject="s", channel="qr")
    assert qr.qr_code == "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"
    app = gateway.trade_open(out_trade_no="p3", amount_fen=1230, subject="s", channel="app").app_params
    assert (app["prepayid"], app["partnerid"], app["package"]) == (
        "wx201410272009395522657a690389285100", MCHID, "Sign=WXPay")
    message = f"{APPID}\n{app['timestamp']}\n{app['noncestr']}\n{app['prepayid']}\n"
    assert merchant_key().verifies(message, app["sign"])
    assert [r["body"]["amount"]["total"] for r in fake.requests] == [1, 9_999_999, 1230]


# --- notifications ------------------------------------------------------------------------------

def test_signed_payment_notification_decrypts_and_parses():
    body, headers = notification(transaction(out_trade_no="pay_1"), notify_id="EV-1")
    note = WechatPayGateway().notification_parse(body=body, headers=headers)
    assert (note.kind, note.out_trade_no, note.amount_fen, note.succeeded) == ("payment", "pay_1",
                                                                               2000, True)
    assert (note.notify_id, note.trade_no, note.state) == ("EV-1", "4200000000202611250000000001",
                                                           "TRANSACTION.SUCCESS")
    assert json.loads(note.raw)["amount"]["payer_total"] == 1800  # the decrypted resource, kept


def test_django_style_lowercase_headers_are_read_too():
    body, headers = notification(transaction())
    lowered = {k.lower(): v for k, v in headers.items()}
    assert WechatPayGateway().notification_parse(body=body, headers=lowered).succeeded


@pytest.mark.parametrize("total", [1, 1230, 9_999_999])
def test_amount_is_what_we_asked_not_what_the_payer_paid(total):
    body, headers = notification(transaction(amount={"total": total, "payer_total": 0,
                                                     "currency": "CNY"}))
    assert WechatPayGateway().notification_parse(body=body, headers=headers).amount_fen == total


@pytest.mark.parametrize("event, status, succeeded", [("REFUND.SUCCESS", "SUCCESS", True),
                                                      ("REFUND.ABNORMAL", "ABNORMAL", False),
                                                      ("REFUND.CLOSED", "CLOSED", False)])
def test_refund_notifications_are_refunds(event, status, succeeded):
    body, headers = notification(refund_resource(refund_status=status), event_type=event,
                                 associated_data="refund")
    note = WechatPayGateway().notification_parse(body=body, headers=headers)
    assert (note.kind, note.out_refund_no, note.amount_fen, note.succeeded, note.state) == (
        "refund", "rfd_1", 500, succeeded, event)


def test_forged_signature_is_refused():
    body, headers = notification(transaction(), key=key_pair("someone-else"))
    with pytest.raises(SignatureInvalid):
        WechatPayGateway().notification_parse(body=body, headers=headers)


def test_amount_tampered_after_signing_is_refused():
    body, headers = notification(transaction())
    cheaper, _ = notification(transaction(amount={"total": 1, "currency": "CNY"}))
    with pytest.raises(SignatureInvalid):
        WechatPayGateway().notification_parse(body=cheaper, headers=headers)
    envelope = json.loads(body)
    envelope["resource"]["ciphertext"] = base64.b64encode(
        bytes([base64.b64decode(envelope["resource"]["ciphertext"])[0] ^ 1])
        + base64.b64decode(envelope["resource"]["ciphertext"])[1:]).decode()
    flipped = json.dumps(envelope, ensure_ascii=False)
    with pytest.raises(SignatureInvalid):  # re-signed, but the GCM tag catches the flip
        WechatPayGateway().notification_parse(body=flipped.encode(), headers=signed_headers(flipped))


@pytest.mark.parametrize("age_s", [301, 3600, -400])
def test_stale_or_future_timestamps_are_refused(age_s):
    body, headers = notification(transaction(), timestamp=int(time.time()) - age_s)
    with pytest.raises(SignatureInvalid) as exc:
        WechatPayGateway().notification_parse(body=body, headers=headers)
    assert exc.value.details["reason"] == "stale"


def test_a_four_minute_old_notification_is_still_taken():
    body, headers = notification(transaction(), timestamp=int(time.time()) - 240)
    assert WechatPayGateway().notification_parse(body=body, headers=headers).succeeded


@pytest.mark.parametrize("text", ["not json", "{}", '{"event_type":"TRANSACTION.SUCCESS"}',
                                  '{"event_type":"TRANSACTION.SUCCESS","id":"x","resource":{"algorithm":"AEAD_AES_256_GCM"}}',
                                  '{"event_type":"TRANSACTION.SUCCESS","id":"x","resource":[1]}'])
def test_malformed_signed_bodies_are_refused(text):
    with pytest.raises(SignatureInvalid):
        WechatPayGateway().notification_parse(body=text.encode(), headers=signed_headers(text))


def test_missing_headers_bad_encoding_or_other_algorithm_are_refused():
    body, headers = notification(transaction())
    gateway = WechatPayGateway()
    for name in ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial"):
        with pytest.raises(SignatureInvalid):
            gateway.notification_parse(body=body, headers={k: v for k, v in headers.items() if k != name})
    with pytest.raises(SignatureInvalid):
        gateway.notification_parse(body=body, headers={**headers, "Wechatpay-Signature-Type": "SM2"})
    with pytest.raises(SignatureInvalid):
        gateway.notification_parse(body=b"\xff" + body, headers=headers)


def test_encrypted_with_another_key_for_another_merchant_or_bad_amounts_are_refused():
    cases = [notification(transaction(), apiv3_key="b" * 32),
             notification(transaction(mchid="1900000999")),
             notification(transaction(appid="wx_other")),
             notification(transaction(amount={"total": "20.00"})),
             notification(transaction(amount={"total": -1})),
             notification(transaction(amount={"total": 20.0})),
             notification(transaction(), event_type="MARKETING.COUPON")]
    for body, headers in cases:
        with pytest.raises(SignatureInvalid):
            WechatPayGateway().notification_parse(body=body, headers=headers)


def test_ack_is_wechats_json():
    gateway = WechatPayGateway()
    ok, fail = gateway.notification_ack(ok=True), gateway.notification_ack(ok=False)
    assert ok.status == 200 and json.loads(ok.body) == {"code": "SUCCESS", "message": "成功"}
    assert 400 <= fail.status < 500 and json.loads(fail.body)["code"] == "FAIL"


# --- queries, close, refunds through the fake WeChat Pay ------------------------------------------

QUERY = "/v3/pay/transactions/out-trade-no/pay_test"


def test_trade_query_reads_a_signed_answer():
    fake = FakeWechatPay({("GET", QUERY): (200, transaction())})
    status = WechatPayGateway(transport=fake).trade_query(out_trade_no="pay_test")
    assert (status.state, status.amount_fen, status.trade_no) == ("succeeded", 2000,
                                                                  "4200000000202611250000000001")
    assert status.paid_at == dt.datetime(2026, 11, 25, 14, 30, tzinfo=dt.UTC)
    assert fake.requests[0]["url"].endswith(f"{QUERY}?mchid={MCHID}")


@pytest.mark.parametrize("trade_state, state", [("NOTPAY", "pending"), ("CLOSED", "closed"),
                                                ("REFUND", "succeeded"), ("PAYERROR", "failed")])
def test_trade_states_map(trade_state, state):
    fake = FakeWechatPay({("GET", QUERY): (200, transaction(trade_state=trade_state))})
    assert WechatPayGateway(transport=fake).trade_query(out_trade_no="pay_test").state == state


def test_unknown_trade_is_unknown_and_other_errors_are_unavailable_with_wechats_code():
    missing = FakeWechatPay({("GET", QUERY): (404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})})
    assert WechatPayGateway(transport=missing).trade_query(out_trade_no="pay_test").state == "unknown"
    busy = FakeWechatPay({("POST", "/v3/refund/domestic/refunds"): (
        500, {"code": "SYSTEM_ERROR", "message": "系统错误"})})
    with pytest.raises(GatewayUnavailable) as exc:
        WechatPayGateway(transport=busy).refund(out_trade_no="pay_test", out_refund_no="rfd_1",
                                                amount_fen=500, total_fen=2000)
    assert exc.value.details["code"] == "SYSTEM_ERROR" and exc.value.status == 503


def test_answer_not_signed_by_the_platform_key_is_unavailable():
    forged = FakeWechatPay({("GET", QUERY): (200, transaction())}, key=key_pair("someone-else"))
    with pytest.raises(GatewayUnavailable) as exc:
        WechatPayGateway(transport=forged).trade_query(out_trade_no="pay_test")
    assert exc.value.details["reason"] == "answer_signature_invalid"


def test_network_failure_is_gateway_unavailable_for_every_call():
    gateway = WechatPayGateway(transport=Unreachable())
    calls = [lambda: gateway.trade_open(out_trade_no="p", amount_fen=1, subject="s"),
             lambda: gateway.trade_query(out_trade_no="p"), lambda: gateway.trade_close(out_trade_no="p"),
             lambda: gateway.refund(out_trade_no="p", out_refund_no="r", amount_fen=1, total_fen=1),
             lambda: gateway.refund_query(out_trade_no="p", out_refund_no="r"),
             lambda: gateway.statement(day=dt.date(2026, 11, 24))]
    for call in calls:
        with pytest.raises(GatewayUnavailable) as exc:
            call()
        assert exc.value.details["reason"] == "network"


def test_close_refund_and_refund_query():
    refund_answer = {"refund_id": "50000000382019052709732678859", "out_refund_no": "rfd_1",
                     "status": "PROCESSING", "amount": {"refund": 500, "total": 2000, "currency": "CNY"}}
    fake = FakeWechatPay({
        ("POST", f"{QUERY}/close"): (204, None),
        ("POST", "/v3/refund/domestic/refunds"): (200, refund_answer),
        ("GET", "/v3/refund/domestic/refunds/rfd_1"): (200, {**refund_answer, "status": "SUCCESS"}),
    })
    gateway = WechatPayGateway(transport=fake)
    gateway.trade_close(out_trade_no="pay_test")
    assert fake.requests[0]["body"] == {"mchid": MCHID}
    result = gateway.refund(out_trade_no="pay_test", out_refund_no="rfd_1", amount_fen=500,
                            total_fen=2000, reason="不想要了")
    assert (result.state, result.amount_fen, result.refund_no) == ("pending", 500,
                                                                   "50000000382019052709732678859")
    assert fake.requests[1]["body"]["amount"] == {"refund": 500, "total": 2000, "currency": "CNY"}
    assert gateway.refund_query(out_trade_no="pay_test", out_refund_no="rfd_1").state == "succeeded"


# --- statement ------------------------------------------------------------------------------------

BILL = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
    "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n"
    f"`2026-11-24 12:00:00,`{APPID},`{MCHID},`0,`,`4200000000202611240000000001,`pay_a,`oUpF8u,`MWEB,"
    "`SUCCESS,`OTHERS,`CNY,`12.30,`0.00,`0,`0,`0.00,`0.00,`,`,`老王家常菜,`,`0.07000,`0.60%,`12.30,`0.00,`\r\n"
    f"`2026-11-24 18:00:05,`{APPID},`{MCHID},`0,`,`4200000000202611240000000002,`pay_b,`oUpF8v,`NATIVE,"
    "`SUCCESS,`OTHERS,`CNY,`99999.99,`0.00,`0,`0,`0.00,`0.00,`,`,`老王家常菜,`,`600.00000,`0.60%,`99999.99,`0.00,`\r\n"
    f"`2026-11-24 20:00:00,`{APPID},`{MCHID},`0,`,`4200000000202611240000000001,`pay_a,`oUpF8u,`MWEB,"
    "`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50000000382019052709732678859,`rfd_a1,`0.01,`0.00,`ORIGINAL,"
    "`SUCCESS,`老王家常菜,`,`-0.00000,`0.60%,`0.00,`0.01,`\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    "`3,`100012.29,`0.01,`0.00,`600.07000,`100012.29,`0.01\r\n"
).encode()


def bill_fake(content: bytes = BILL, *, hash_of: bytes = BILL) -> FakeWechatPay:
    url = "https://api.mch.weixin.qq.com/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO"
    fake = FakeWechatPay({("GET", "/v3/bill/tradebill"): (200, {
        "hash_type": "SHA1", "hash_value": hashlib.sha1(hash_of).hexdigest(), "download_url": url})})
    fake.files[url] = content
    return fake


def test_statement_downloads_checks_and_parses_the_bill():
    fake = bill_fake()
    lines = WechatPayGateway(transport=fake).statement(day=dt.date(2026, 11, 24))
    assert fake.requests[0]["url"].endswith("/v3/bill/tradebill?bill_date=2026-11-24&bill_type=ALL")
    assert [(ln.kind, ln.out_trade_no, ln.amount_fen, ln.out_refund_no) for ln in lines] == [
        ("payment", "pay_a", 1230, ""), ("payment", "pay_b", 9_999_999, ""), ("refund", "pay_a", 1, "rfd_a1")]
    assert lines[0].at == dt.datetime(2026, 11, 24, 4, 0, tzinfo=dt.UTC)


def test_statement_whose_hash_does_not_match_is_unavailable_and_no_bill_is_empty():
    with pytest.raises(GatewayUnavailable) as exc:
        WechatPayGateway(transport=bill_fake(BILL.replace(b"12.30", b"1.30"))).statement(
            day=dt.date(2026, 11, 24))
    assert exc.value.details["reason"] == "bill_hash_mismatch"
    none = FakeWechatPay({("GET", "/v3/bill/tradebill"): (400, {"code": "NO_STATEMENT_EXIST",
                                                               "message": "账单文件不存在"})})
    assert WechatPayGateway(transport=none).statement(day=dt.date(2026, 11, 24)) == []


# --- end to end: our callback endpoint, our database ----------------------------------------------
# On PostgreSQL these fail today in services.payment_notification_handle (not the adapter):
# select_for_update().select_related("order") with Payment.order now nullable raises
# "FOR UPDATE cannot be applied to the nullable side of an outer join" (needs of=("self",)).

@pytest.fixture
def unpaid(db, monkeypatch):
    monkeypatch.setattr(WechatPayGateway, "transport_default", h5_fake())
    store = make_store()
    product = make_product(store, price_fen=2000, stock=10)
    consumer, _ = sms_login("13800138000")
    order = consumer.post("/orders", {
        "store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
        "items": [{"product_id": product.public_id, "quantity": 1}]},
        headers={"Idempotency-Key": "o1"}).json()
    answer = consumer.post(f"/orders/{order['id']}/payments", {"provider": "wechatpay"})
    assert answer.status_code == 201, answer.content
    return consumer, order, answer.json()


def deliver(body: bytes, headers: dict[str, str]):
    return Client().post(CALLBACK, body, content_type="application/json", headers=headers)


def paid(payment: dict, **fields) -> dict:
    return transaction(out_trade_no=payment["id"],
                       amount={"total": payment["amount_fen"], "payer_total": payment["amount_fen"],
                               "currency": "CNY"}, **fields)


def test_payment_opens_an_h5_trade(unpaid):
    _, order, payment = unpaid
    assert payment["provider"] == "wechatpay" and payment["pay_url"] == H5_URL
    sent = WechatPayGateway.transport_default.requests[0]["body"]
    assert (sent["out_trade_no"], sent["amount"]["total"]) == (payment["id"], order["total_fen"])


def test_unreachable_wechat_pay_is_a_503_not_a_500(db, monkeypatch):
    monkeypatch.setattr(WechatPayGateway, "transport_default", Unreachable())
    store = make_store()
    product = make_product(store, price_fen=2000, stock=10)
    consumer, _ = sms_login("13800138001")
    order = consumer.post("/orders", {
        "store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
        "items": [{"product_id": product.public_id, "quantity": 1}]},
        headers={"Idempotency-Key": "o2"}).json()
    answer = consumer.post(f"/orders/{order['id']}/payments", {"provider": "wechatpay"})
    assert answer.status_code == 503 and answer.json()["code"] == "gateway_unavailable"
    assert Order.objects.get(public_id=order["id"]).status == "pending_payment"


def test_signed_notification_pays_the_order_once_however_often_it_comes(unpaid):
    consumer, order, payment = unpaid
    body, headers = notification(paid(payment), notify_id="EV-once")
    answers = [deliver(body, headers) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert json.loads(answers[0].content) == {"code": "SUCCESS", "message": "成功"}
    detail = consumer.get(f"/orders/{order['id']}").json()
    assert detail["status"] == "paid" and [e["action"] for e in detail["events"]] == ["place", "pay"]
    assert Payment.objects.filter(status="succeeded").count() == 1
    assert GatewayNotification.objects.filter(verified=True).count() == 5


def test_late_not_paid_or_closed_states_do_not_unpay(unpaid):
    _, order, payment = unpaid
    assert deliver(*notification(paid(payment))).status_code == 200
    for state in ("NOTPAY", "CLOSED"):
        deliver(*notification(paid(payment, trade_state=state)))
    assert Order.objects.get(public_id=order["id"]).status == "paid"
    assert Payment.objects.get().status == "succeeded"


def test_wrong_amount_is_refused_and_the_order_stays_unpaid(unpaid):
    _, order, payment = unpaid
    wrong = transaction(out_trade_no=payment["id"], amount={"total": 1, "currency": "CNY"})
    assert deliver(*notification(wrong)).status_code >= 400
    assert Order.objects.get(public_id=order["id"]).status == "pending_payment"
    assert GatewayNotification.objects.get().outcome == "amount_mismatch"


def test_forged_stale_or_replayed_notifications_are_refused_and_recorded(unpaid):
    _, order, payment = unpaid
    assert deliver(*notification(paid(payment), key=key_pair("someone-else"))).status_code >= 400
    stale = notification(paid(payment), timestamp=int(time.time()) - 3600)
    assert deliver(*stale).status_code >= 400
    assert Order.objects.get(public_id=order["id"]).status == "pending_payment"
    assert GatewayNotification.objects.filter(verified=False).count() == 2


def test_notification_for_an_unknown_trade_is_refused_and_recorded(unpaid):
    assert deliver(*notification(transaction(out_trade_no="pay_unknown"))).status_code >= 400
    recorded = GatewayNotification.objects.get()
    assert (recorded.outcome, recorded.verified, recorded.provider) == ("payment_not_found", True,
                                                                       "wechatpay")


def test_refund_notification_never_pays_an_order(unpaid):
    _, order, payment = unpaid
    body, headers = notification(refund_resource(out_trade_no=payment["id"], out_refund_no="rfd_x",
                                                 amount={"total": payment["amount_fen"],
                                                         "refund": payment["amount_fen"]}),
                                 event_type="REFUND.SUCCESS", associated_data="refund")
    assert deliver(body, headers).status_code >= 400  # no such refund of ours
    assert Order.objects.get(public_id=order["id"]).status == "pending_payment"
