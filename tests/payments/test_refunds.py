"""Refunds: partial by amount and by items, back along the original path (gateway first,
then wallet), never above what was paid, idempotent, following the gateway's word."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.orders.models import Order
from linli.payments.gateways.sandbox import sandbox_refund_finish, sandbox_refund_notification_build
from linli.payments.ledger import CLEARING
from linli.payments.models import Payment, Refund, RefundItem, SandboxRefund
from linli.payments.services import payments_sync
from tests.payments.helpers import (
    balance,
    books_hold,
    buyer_pays_at_sandbox,
    consumer,
    operator,
    place,
    shop,
    top_up,
    wallet,
)

pytestmark = pytest.mark.django_db


def paid(api, store, product, *, key: str, quantity: int = 1, use_wallet: bool = False):
    order = place(api, store, product, key=key, quantity=quantity)
    payment = api.post(f"/orders/{order['id']}/payments", {"use_wallet": use_wallet}).json()
    buyer_pays_at_sandbox(payment["pay_url"])
    assert Order.objects.get(public_id=order["id"]).status == "paid"
    return order


def test_operator_refunds_part_by_amount_then_the_rest_and_no_more():
    api, _ = consumer()
    store, product = shop(price_fen=3000)
    order = paid(api, store, product, key="r1")
    ops = operator()
    first = ops.post(f"/orders/{order['id']}/refunds", {"amount_fen": 1000, "reason": "少送一份米饭"})
    assert first.status_code == 201, first.content
    assert [(r["amount_fen"], r["provider"], r["source"]) for r in first.json()] == [(1000, "sandbox", "operator")]
    assert Refund.objects.get().status == "succeeded"  # sent after commit; the sandbox refunds at once
    rest = order["total_fen"] - 1000
    over = ops.post(f"/orders/{order['id']}/refunds", {"amount_fen": rest + 1, "reason": "x"})
    assert over.status_code == 409 and over.json()["code"] == "refund_exceeds_paid"
    assert ops.post(f"/orders/{order['id']}/refunds", {"amount_fen": rest, "reason": "全部退"}).status_code == 201
    nothing = ops.post(f"/orders/{order['id']}/refunds", {"amount_fen": 1, "reason": "again"})
    assert nothing.status_code == 409 and nothing.json()["code"] == "nothing_to_refund"
    assert Payment.objects.get(order__public_id=order["id"]).status == "refunded"
    assert balance("gateway:sandbox") == 0 and balance(CLEARING) == 0
    books_hold()


def test_bad_refund_requests_are_refused_with_nothing_written():
    api, _ = consumer()
    store, product = shop()
    order = paid(api, store, product, key="r2")
    ops = operator()
    cases = [({"amount_fen": 0, "reason": "x"}, 422), ({"amount_fen": -5, "reason": "x"}, 422),
             ({"amount_fen": 100}, 422), ({"amount_fen": 100, "reason": ""}, 422),
             ({"reason": "neither amount nor items"}, 422),
             ({"amount_fen": 100, "items": [{"line": 1, "quantity": 1}], "reason": "both"}, 422),
             ({"items": [{"line": 9, "quantity": 1}], "reason": "no such line"}, 422),
             ({"items": [{"line": 1, "quantity": 0}], "reason": "zero"}, 422)]
    for body, status in cases:
        answer = ops.post(f"/orders/{order['id']}/refunds", body)
        assert answer.status_code == status, (body, answer.content)
        assert answer.json()["code"]
    assert api.post(f"/orders/{order['id']}/refunds", {"amount_fen": 100, "reason": "me"}).status_code == 403
    assert ops.post("/orders/ord_nope/refunds", {"amount_fen": 100, "reason": "x"}).status_code == 404
    assert not Refund.objects.exists()
    books_hold()


def test_per_item_refunds_never_refund_a_unit_twice_and_sum_to_the_total():
    api, _ = consumer()
    store, product = shop(price_fen=1500)
    order = paid(api, store, product, key="r3", quantity=3)
    ops = operator()
    one = ops.post(f"/orders/{order['id']}/refunds", {"items": [{"line": 1, "quantity": 1}], "reason": "洒了"})
    assert one.status_code == 201, one.content
    assert RefundItem.objects.get().quantity == 1
    three = ops.post(f"/orders/{order['id']}/refunds", {"items": [{"line": 1, "quantity": 3}], "reason": "全退"})
    assert three.status_code == 422 and three.json()["code"] == "invalid_refund_items"  # one is gone
    two = ops.post(f"/orders/{order['id']}/refunds", {"items": [{"line": 1, "quantity": 2}], "reason": "都洒了"})
    assert two.status_code == 201
    again = ops.post(f"/orders/{order['id']}/refunds", {"items": [{"line": 1, "quantity": 1}], "reason": "再退"})
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_refund"
    # the last units bring back everything paid, delivery fee and rounding included
    assert sum(Refund.objects.values_list("amount_fen", flat=True)) == order["total_fen"]
    books_hold()


def test_the_same_idempotency_key_refunds_once():
    api, _ = consumer()
    store, product = shop()
    order = paid(api, store, product, key="r4")
    ops = operator()
    headers = {"Idempotency-Key": "refund-1"}
    first = ops.post(f"/orders/{order['id']}/refunds", {"amount_fen": 500, "reason": "x"}, headers=headers)
    again = ops.post(f"/orders/{order['id']}/refunds", {"amount_fen": 500, "reason": "x"}, headers=headers)
    assert [r["id"] for r in first.json()] == [r["id"] for r in again.json()]
    other = ops.post(f"/orders/{order['id']}/refunds", {"amount_fen": 600, "reason": "x"}, headers=headers)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert Refund.objects.count() == 1


def test_a_combined_payment_refunds_the_gateway_first_then_the_wallet():
    api, _ = consumer()
    store, product = shop(price_fen=2000)
    top_up(api, 10_00)
    order = paid(api, store, product, key="r5", use_wallet=True)
    gateway_part = order["total_fen"] - 10_00
    ops = operator()
    ops.post(f"/orders/{order['id']}/refunds", {"amount_fen": gateway_part - 100, "reason": "部分"})
    assert wallet(api) == (0, 0)  # all of it went back to the gateway
    answer = ops.post(f"/orders/{order['id']}/refunds", {"amount_fen": 600, "reason": "再退"}).json()
    assert sorted((r["provider"], r["amount_fen"]) for r in answer) == [("sandbox", 100), ("wallet", 500)]
    assert wallet(api) == (5_00, 0)
    books_hold()


def test_cancelling_a_wallet_paid_order_puts_principal_and_bonus_back():
    from linli.payments.models import TopupBonusRule

    TopupBonusRule.objects.create(threshold_fen=50_00, bonus_fen=5_00)
    api, _ = consumer()
    store, product = shop(price_fen=2000)
    top_up(api, 50_00)
    before = wallet(api)
    order = place(api, store, product, key="r6")
    api.post(f"/orders/{order['id']}/payments", {"provider": "wallet"})
    assert wallet(api) != before
    assert api.post(f"/orders/{order['id']}/cancel", {}).status_code == 200
    assert wallet(api) == before
    assert Order.objects.get(public_id=order["id"]).status == "refunded"
    books_hold()


def test_async_refund_keeps_the_order_refunding_until_the_gateway_notifies(settings):
    api, _ = consumer()
    store, product = shop()
    order = paid(api, store, product, key="r7")
    settings.LINLI_SANDBOX_REFUND_MODE = "hold"  # the bank takes its time
    assert api.post(f"/orders/{order['id']}/cancel", {}).status_code == 200
    refund = Refund.objects.get()
    assert refund.status == "pending" and Order.objects.get(public_id=order["id"]).status == "refunding"
    assert balance("payments:refunds_in_flight") == order["total_fen"]
    # the gateway finishes and notifies; duplicates of the notice change nothing
    gateway_refund = SandboxRefund.objects.get()
    assert sandbox_refund_finish(refund_no=gateway_refund.refund_no) == "refund_succeeded"
    gateway_refund.refresh_from_db()
    body, headers = sandbox_refund_notification_build(gateway_refund)
    for _ in range(3):
        answer = Client().post("/api/v1/payments/callbacks/sandbox", body,
                               content_type="application/json", headers=headers)
        assert answer.status_code == 200 and answer["Linli-Outcome"] == "refund_succeeded"
    refund.refresh_from_db()
    assert refund.status == "succeeded" and Order.objects.get(public_id=order["id"]).status == "refunded"
    assert balance("payments:refunds_in_flight") == 0 and balance("gateway:sandbox") == 0
    assert Refund.objects.count() == 1
    books_hold()


def test_a_refund_whose_notice_never_comes_is_settled_by_a_query(settings):
    api, _ = consumer()
    store, product = shop()
    order = paid(api, store, product, key="r7q")
    settings.LINLI_SANDBOX_REFUND_MODE = "hold"
    settings.LINLI_SANDBOX_DROP_NOTIFICATIONS = True
    operator().post(f"/orders/{order['id']}/refunds", {"amount_fen": 400, "reason": "慢"})
    sandbox_refund_finish(refund_no=SandboxRefund.objects.get().refund_no)
    assert Refund.objects.get().status == "pending"
    Refund.objects.update(created_at="2000-01-01T00:00:00Z", last_queried_at=None)
    assert payments_sync()["refunds"] == 1
    assert Refund.objects.get().status == "succeeded"
    books_hold()


def test_a_refund_the_gateway_refuses_puts_the_money_back_to_refund_again(settings):
    api, _ = consumer()
    store, product = shop()
    order = paid(api, store, product, key="r8")
    settings.LINLI_SANDBOX_REFUND_MODE = "fail"
    ops = operator()
    ops.post(f"/orders/{order['id']}/refunds", {"amount_fen": 700, "reason": "试退"})
    refund = Refund.objects.get()
    assert refund.status == "failed"
    payment = Payment.objects.get(order__public_id=order["id"])
    assert (payment.status, payment.refunded_fen) == ("succeeded", 0)
    assert balance(CLEARING) == order["total_fen"]
    settings.LINLI_SANDBOX_REFUND_MODE = "sync"
    assert ops.post(f"/orders/{order['id']}/refunds", {"amount_fen": 700, "reason": "重退"}).status_code == 201
    assert Refund.objects.filter(status="succeeded").count() == 1
    books_hold()


def test_a_refund_that_never_reached_the_gateway_is_sent_again_by_the_sync_job(
        settings, django_capture_on_commit_callbacks):
    api, _ = consumer()
    store, product = shop()
    order = paid(api, store, product, key="r9")
    settings.LINLI_SANDBOX_FAIL_CALLS = ("refund",)
    operator().post(f"/orders/{order['id']}/refunds", {"amount_fen": 300, "reason": "网关挂了"})
    refund = Refund.objects.get()
    assert refund.status == "pending" and not refund.provider_refund_no
    settings.LINLI_SANDBOX_FAIL_CALLS = ()
    Refund.objects.filter(pk=refund.pk).update(created_at="2000-01-01T00:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):  # the job resends after its commit
        payments_sync()
    refund.refresh_from_db()
    assert refund.status == "succeeded" and SandboxRefund.objects.count() == 1
    books_hold()


def test_an_orders_refunds_are_seen_by_its_consumer_and_operators_only():
    api, _ = consumer()
    store, product = shop()
    order = paid(api, store, product, key="r10")
    operator().post(f"/orders/{order['id']}/refunds", {"amount_fen": 200, "reason": "少一份"})
    assert [r["amount_fen"] for r in api.get(f"/orders/{order['id']}/refunds").json()] == [200]
    assert [r["amount_fen"] for r in operator().get(f"/orders/{order['id']}/refunds").json()] == [200]
    stranger, _ = consumer()
    hidden = stranger.get(f"/orders/{order['id']}/refunds")
    assert hidden.status_code == 404 and hidden.json()["code"] == "order_not_found"
    refused = stranger.post(f"/orders/{order['id']}/refunds", {"amount_fen": 100, "reason": "me"})
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert Refund.objects.count() == 1
