"""The sandbox gateway's notifications: verified, idempotent, and money-safe."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from linli.inventory.models import StockItem
from linli.orders.models import Order
from linli.orders.services import orders_cancel_unpaid
from linli.payments.gateways.sandbox import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sandbox_notification_build,
    sign,
)
from linli.payments.models import GatewayNotification, Payment, Refund, SandboxTrade
from tests.fixtures import delivery_address, make_product, make_store, sms_login

pytestmark = pytest.mark.django_db

CALLBACK = "/api/v1/payments/callbacks/sandbox"


@pytest.fixture
def unpaid():
    store = make_store()
    product = make_product(store, price_fen=2000, stock=10)
    consumer, _ = sms_login("13800138000")
    order = consumer.post("/orders", {
        "store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
        "items": [{"product_id": product.public_id, "quantity": 1}]},
        headers={"Idempotency-Key": "o1"}).json()
    payment = consumer.post(f"/orders/{order['id']}/payments", {}).json()
    return consumer, order, payment, product


def _trade_paid(payment_id: str) -> SandboxTrade:
    """The buyer paid at the gateway (its books), before any notification reached us."""
    trade = SandboxTrade.objects.get(out_trade_no=payment_id)
    trade.status = SandboxTrade.Status.SUCCESS
    trade.save()
    return trade


def _notify(body: bytes, headers: dict[str, str]):
    return Client().post(CALLBACK, body, content_type="application/json", headers=headers)


def test_opening_a_payment_twice_reuses_the_open_one(unpaid):
    consumer, order, payment, _ = unpaid
    again = consumer.post(f"/orders/{order['id']}/payments", {}).json()
    assert again["id"] == payment["id"] and Payment.objects.count() == 1
    assert payment["pay_url"].startswith("/pay/sandbox/")


def test_notification_marks_paid_once_and_duplicates_change_nothing(unpaid):
    consumer, order, payment, _ = unpaid
    body, headers = sandbox_notification_build(_trade_paid(payment["id"]))
    first = _notify(body, headers)
    assert first.status_code == 200 and first["Linli-Outcome"] == "paid"
    for _ in range(3):
        assert _notify(body, headers)["Linli-Outcome"] == "duplicate"
    detail = consumer.get(f"/orders/{order['id']}").json()
    assert detail["status"] == "paid"
    assert [e["action"] for e in detail["events"]] == ["place", "pay"]
    assert Payment.objects.get().status == "succeeded" and Refund.objects.count() == 0


def test_forged_signature_is_rejected_and_recorded(unpaid):
    _, order, payment, _ = unpaid
    body, headers = sandbox_notification_build(_trade_paid(payment["id"]))
    headers[SIGNATURE_HEADER] = "0" * 64
    answer = _notify(body, headers)
    assert answer.status_code == 400 and answer.json()["code"] == "signature_invalid"
    tampered = json.loads(body)
    tampered["amount_fen"] = 1
    _, good_headers = sandbox_notification_build(_trade_paid(payment["id"]))
    assert _notify(json.dumps(tampered).encode(), good_headers).status_code == 400
    assert Order.objects.get().status == "pending_payment"
    assert GatewayNotification.objects.filter(verified=False).count() == 2


def test_stale_or_unsigned_notifications_are_rejected(unpaid):
    _, _, payment, _ = unpaid
    body, _ = sandbox_notification_build(_trade_paid(payment["id"]))
    old = str(int(time.time()) - 3600)
    assert _notify(body, {TIMESTAMP_HEADER: old, SIGNATURE_HEADER: sign(body, old)}).status_code == 400
    assert _notify(body, {}).status_code == 400
    assert Order.objects.get().status == "pending_payment"


def test_signed_notification_with_the_wrong_amount_is_refused(unpaid):
    _, _, payment, _ = unpaid
    trade = _trade_paid(payment["id"])
    trade.amount_fen = 1
    body, headers = sandbox_notification_build(trade)
    answer = _notify(body, headers)
    assert answer.status_code == 400 and answer.json()["code"] == "amount_mismatch"
    assert Order.objects.get().status == "pending_payment"
    assert GatewayNotification.objects.get().outcome == "amount_mismatch"


def test_unknown_payment_and_provider_are_404(unpaid):
    trade = SandboxTrade(trade_no="x", out_trade_no="pay_unknown", amount_fen=1, status="SUCCESS")
    body, headers = sandbox_notification_build(trade)
    assert _notify(body, headers).json()["code"] == "payment_not_found"
    other = Client().post("/api/v1/payments/callbacks/paypal", b"{}", content_type="application/json")
    assert other.status_code == 404 and other.json()["code"] == "unknown_provider"


def test_payment_after_timeout_cancellation_is_refunded_in_full(unpaid, settings):
    _, order, payment, product = unpaid
    Order.objects.filter(public_id=order["id"]).update(pay_deadline="2000-01-01T00:00:00Z")
    assert orders_cancel_unpaid() == 1
    assert StockItem.objects.get(product=product).quantity == 10
    body, headers = sandbox_notification_build(_trade_paid(payment["id"]))
    assert _notify(body, headers)["Linli-Outcome"] == "refunded_late"
    refund = Refund.objects.get()
    assert (refund.amount_fen, refund.status) == (payment["amount_fen"], "succeeded")
    assert SandboxTrade.objects.get().refunded_fen == payment["amount_fen"]
    assert Order.objects.get().status == "cancelled"


def test_cancelling_a_paid_order_refunds_it_and_returns_stock(unpaid):
    consumer, order, payment, product = unpaid
    body, headers = sandbox_notification_build(_trade_paid(payment["id"]))
    _notify(body, headers)
    answer = consumer.post(f"/orders/{order['id']}/cancel", {"note": "不想要了"})
    # issue 5: a paid order cancels through refunding to refunded: the answer is written
    # before the refund is sent (after commit); the sandbox refunds at once, so then it is.
    assert answer.status_code == 200 and answer.json()["status"] == "refunding"
    assert Order.objects.get(public_id=order["id"]).status == "refunded"
    assert Refund.objects.get().amount_fen == order["total_fen"]
    assert StockItem.objects.get(product=product).quantity == 10
    paid_in = SandboxTrade.objects.get()
    assert paid_in.amount_fen - paid_in.refunded_fen == 0  # no money kept, none created


def test_paying_a_cancelled_order_is_refused(unpaid):
    consumer, order, _, _ = unpaid
    consumer.post(f"/orders/{order['id']}/cancel", {})
    answer = consumer.post(f"/orders/{order['id']}/payments", {})
    assert answer.status_code == 409 and answer.json()["code"] == "order_not_payable"


def test_hosted_page_for_unknown_trade_is_404():
    assert Client().get("/pay/sandbox/nope").status_code == 404
