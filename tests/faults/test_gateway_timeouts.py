"""The payment gateway times out (issue 14, docs/reliability.md), simulated by the sandbox's
LINLI_SANDBOX_TIMEOUT_CALLS: opening a trade answers 503 `gateway_unavailable` (reason
`timeout`) and leaves nothing half open; a payment whose notification was lost and whose
queries time out stays pending, and the periodic query job settles it once the gateway
answers again: paid if the buyer paid, closed if not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from linli.orders.models import Order
from linli.orders.services import orders_cancel_unpaid
from linli.payments.gateways.sandbox import sandbox_trade_pay
from linli.payments.models import Payment, SandboxTrade
from linli.payments.services import payments_sync, topup_create, wallet_balance
from tests.fixtures import delivery_address, make_product, make_store, next_phone, token_api

from .invariants import orders_problems, payments_problems

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkout(django_user_model):
    store = make_store(delivery_radius_m=10_000)
    product = make_product(store, price_fen=2500)
    consumer = django_user_model.objects.create_user(username=next_phone(), phone=next_phone())
    api = token_api(consumer)

    def place(key: str) -> str:
        answer = api.post("/orders", {"store_id": store.public_id, "fulfilment": "delivery",
                                      "address": delivery_address(),
                                      "items": [{"product_id": product.public_id, "quantity": 1}]},
                          headers={"Idempotency-Key": key})
        assert answer.status_code == 201, answer.content
        return answer.json()["id"]

    return consumer, api, place


def test_a_timeout_opening_the_trade_answers_503_and_leaves_nothing_half_open(
        settings, checkout, django_capture_on_commit_callbacks):
    consumer, api, place = checkout
    topup = topup_create(user=consumer, amount_fen=1000)
    with django_capture_on_commit_callbacks(execute=True):  # the gateway's notification
        sandbox_trade_pay(trade_no=topup.payment.provider_trade_no)
    before = wallet_balance(consumer)
    assert before.cash_fen == 1000
    order_id = place("gw-timeout-open")
    settings.LINLI_SANDBOX_TIMEOUT_CALLS = ("trade_open",)
    answer = api.post(f"/orders/{order_id}/payments", {"provider": "sandbox", "use_wallet": True})
    assert answer.status_code == 503, answer.content
    assert answer.json()["code"] == "gateway_unavailable"
    assert answer.json()["details"] == {"provider": "sandbox", "call": "trade_open", "reason": "timeout"}
    assert not Payment.objects.filter(order__public_id=order_id).exists()  # no hold, no trade
    assert wallet_balance(consumer) == before
    assert Order.objects.get(public_id=order_id).status == "pending_payment"
    settings.LINLI_SANDBOX_TIMEOUT_CALLS = ()
    retry = api.post(f"/orders/{order_id}/payments", {"provider": "sandbox", "use_wallet": True})
    assert retry.status_code == 201, retry.content
    assert Client().post(retry.json()["pay_url"]).status_code == 302
    assert Order.objects.get(public_id=order_id).status == "paid"
    assert payments_problems() == [] and orders_problems() == []


def test_a_paid_trade_whose_notification_is_lost_and_queries_time_out_is_found_later(settings, checkout):
    _consumer, api, place = checkout
    order_id = place("gw-timeout-query")
    payment = api.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}).json()
    settings.LINLI_SANDBOX_DROP_NOTIFICATIONS = True  # the gateway's notification never arrives
    settings.LINLI_SANDBOX_TIMEOUT_CALLS = ("trade_query",)
    assert Client().post(payment["pay_url"]).status_code == 302  # the buyer paid at the gateway
    seen = api.get(f"/payments/{payment['id']}")  # the cashier page asks: the query times out
    assert seen.status_code == 200 and seen.json()["status"] == "pending"
    assert payments_sync(older_than_s=0) == {"payments": 0, "refunds": 0, "errors": 1}
    assert Order.objects.get(public_id=order_id).status == "pending_payment"
    settings.LINLI_SANDBOX_TIMEOUT_CALLS = ()  # the gateway answers again
    later = timezone.now() + timedelta(minutes=2)
    assert payments_sync(now=later, older_than_s=60) == {"payments": 1, "refunds": 0, "errors": 0}
    assert Payment.objects.get(public_id=payment["id"]).status == "succeeded"
    assert Order.objects.get(public_id=order_id).status == "paid"
    assert payments_problems() == [] and orders_problems() == []


def test_an_unpaid_trade_whose_queries_and_close_time_out_is_closed_later(
        settings, checkout, django_capture_on_commit_callbacks):
    _consumer, api, place = checkout
    order_id = place("gw-timeout-close")
    payment = api.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}).json()
    settings.LINLI_SANDBOX_TIMEOUT_CALLS = ("trade_query", "trade_close")
    Order.objects.filter(public_id=order_id).update(pay_deadline=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_cancel_unpaid() == 1  # closing its payment times out: logged, retried later
    assert Order.objects.get(public_id=order_id).status == "cancelled"
    assert Payment.objects.get(public_id=payment["id"]).status == "pending"
    assert payments_sync(older_than_s=0)["errors"] == 1
    settings.LINLI_SANDBOX_TIMEOUT_CALLS = ()
    assert payments_sync(now=timezone.now() + timedelta(minutes=2), older_than_s=60)["payments"] == 1
    assert Payment.objects.get(public_id=payment["id"]).status == "closed"
    assert SandboxTrade.objects.get(out_trade_no=payment["id"]).status == "CLOSED"  # cannot be paid now
    assert payments_problems() == [] and orders_problems() == []
