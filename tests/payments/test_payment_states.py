"""The payment state machine against the sandbox's unhappy paths: notifications that
never come, come late, come out of order; a gateway that is down; reconciliation."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.test import Client

from linli.orders.models import Order
from linli.payments.gateways.sandbox import SIGNATURE_HEADER, TIMESTAMP_HEADER, _signed
from linli.payments.models import (
    GatewayMessage,
    LedgerTransaction,
    Payment,
    PaymentEvent,
    ReconciliationRun,
    Refund,
    SandboxTrade,
)
from linli.payments.reconcile import STATEMENT_TZ, compare
from linli.payments.services import payments_sync
from tests.payments.helpers import books_hold, buyer_pays_at_sandbox, consumer, place, shop

pytestmark = pytest.mark.django_db
CALLBACK = "/api/v1/payments/callbacks/sandbox"


def _notice(trade: SandboxTrade, status: str) -> tuple[bytes, dict[str, str]]:
    return _signed({"notify_id": f"n-{status}", "trade_no": trade.trade_no,
                    "out_trade_no": trade.out_trade_no, "amount_fen": trade.amount_fen,
                    "trade_status": status})


def _post(body: bytes, headers: dict[str, str]):
    return Client().post(CALLBACK, body, content_type="application/json", headers=headers)


def test_a_dropped_notification_is_found_by_the_cashier_query_never_by_the_clients_word(settings):
    settings.LINLI_SANDBOX_DROP_NOTIFICATIONS = True
    api, _ = consumer()
    store, product = shop()
    order = place(api, store, product, key="s1")
    payment = api.post(f"/orders/{order['id']}/payments", {}).json()
    # the client claiming success changes nothing: the gateway has not been paid
    assert api.get(f"/payments/{payment['id']}").json()["status"] == "pending"
    buyer_pays_at_sandbox(payment["pay_url"])
    assert Order.objects.get(public_id=order["id"]).status == "pending_payment"  # no notice came
    Payment.objects.filter(public_id=payment["id"]).update(last_queried_at=None)
    assert api.get(f"/payments/{payment['id']}").json()["status"] == "succeeded"  # verified query
    assert Order.objects.get(public_id=order["id"]).status == "paid"
    assert GatewayMessage.objects.filter(kind="trade_query").count() == 2
    books_hold()


def test_the_sync_job_applies_missed_payments_and_closes_dead_ones(settings):
    settings.LINLI_SANDBOX_DROP_NOTIFICATIONS = True
    api, _ = consumer()
    store, product = shop()
    paid_order = place(api, store, product, key="s2")
    unpaid_order = place(api, store, product, key="s3")
    paid_payment = api.post(f"/orders/{paid_order['id']}/payments", {}).json()
    dead_payment = api.post(f"/orders/{unpaid_order['id']}/payments", {}).json()
    buyer_pays_at_sandbox(paid_payment["pay_url"])
    Order.objects.filter(public_id=unpaid_order["id"]).update(pay_deadline="2000-01-01T00:00:00Z")
    Payment.objects.update(created_at="2000-01-01T00:00:00Z")
    assert payments_sync() == {"payments": 2, "refunds": 0, "errors": 0}
    assert Order.objects.get(public_id=paid_order["id"]).status == "paid"
    assert Payment.objects.get(public_id=dead_payment["id"]).status == "closed"
    assert SandboxTrade.objects.get(out_trade_no=dead_payment["id"]).status == "CLOSED"
    books_hold()


def test_stale_notices_arriving_after_success_do_not_unpay_anything():
    api, _ = consumer()
    store, product = shop()
    order = place(api, store, product, key="s4")
    payment = api.post(f"/orders/{order['id']}/payments", {}).json()
    trade = SandboxTrade.objects.get(out_trade_no=payment["id"])
    waiting = _notice(trade, "WAIT_PAY")
    assert _post(*waiting)["Linli-Outcome"] == "ignored"
    buyer_pays_at_sandbox(payment["pay_url"])
    for status in ("WAIT_PAY", "CLOSED"):  # out of order: older news after the success
        assert _post(*_notice(trade, status))["Linli-Outcome"] == "duplicate"
    assert Payment.objects.get(public_id=payment["id"]).status == "succeeded"
    assert Order.objects.get(public_id=order["id"]).status == "paid"
    books_hold()


def test_a_closed_notice_for_an_open_payment_closes_it():
    api, _ = consumer()
    store, product = shop()
    order = place(api, store, product, key="s5")
    payment = api.post(f"/orders/{order['id']}/payments", {}).json()
    trade = SandboxTrade.objects.get(out_trade_no=payment["id"])
    assert _post(*_notice(trade, "CLOSED"))["Linli-Outcome"] == "closed"
    assert Payment.objects.get(public_id=payment["id"]).status == "closed"
    events = list(PaymentEvent.objects.filter(payment__public_id=payment["id"])
                  .values_list("from_status", "to_status", "actor_role"))
    assert events[-1] == ("pending", "closed", "system")


def test_a_payment_made_after_we_closed_it_is_taken_and_given_back():
    api, _ = consumer()
    store, product = shop()
    order = place(api, store, product, key="s6")
    first = api.post(f"/orders/{order['id']}/payments", {}).json()
    trade = SandboxTrade.objects.get(out_trade_no=first["id"])
    api.post(f"/orders/{order['id']}/payments", {"channel": "qr"})  # switch: first is closed
    # ... but the buyer had the first page open and the gateway took the money anyway
    SandboxTrade.objects.filter(pk=trade.pk).update(status="SUCCESS")
    trade.refresh_from_db()
    assert _post(*_notice(trade, "SUCCESS"))["Linli-Outcome"] == "paid"
    second = Payment.objects.filter(order__public_id=order["id"]).exclude(public_id=first["id"]).get()
    buyer_pays_at_sandbox(second.pay_url)  # and now pays the second one too
    assert Payment.objects.get(pk=second.pk).status == "refunded"  # paid twice: the second goes back
    assert Refund.objects.get().source == "late"
    books_hold()


def test_a_gateway_that_is_down_writes_nothing_and_answers_503(settings):
    settings.LINLI_SANDBOX_FAIL_CALLS = ("trade_open",)
    api, _ = consumer()
    store, product = shop()
    order = place(api, store, product, key="s7")
    answer = api.post(f"/orders/{order['id']}/payments", {})
    assert answer.status_code == 503 and answer.json()["code"] == "gateway_unavailable"
    assert not Payment.objects.exists() and not LedgerTransaction.objects.exists()


def test_payment_inputs_are_checked():
    api, _ = consumer()
    store, product = shop()
    order = place(api, store, product, key="s8")
    for body in ({"provider": "paypal"}, {"channel": "fax"}, {"use_wallet": "maybe"}):
        answer = api.post(f"/orders/{order['id']}/payments", body)
        assert answer.status_code == 422 and answer.json()["code"], body
    other, _ = consumer()
    assert other.post(f"/orders/{order['id']}/payments", {}).status_code == 404
    payment = api.post(f"/orders/{order['id']}/payments", {}).json()
    assert other.get(f"/payments/{payment['id']}").status_code == 404
    assert api.get("/payments/pay_nope").status_code == 404


def test_a_tampered_notice_is_refused_and_kept_for_audit():
    api, _ = consumer()
    store, product = shop()
    order = place(api, store, product, key="s9")
    payment = api.post(f"/orders/{order['id']}/payments", {}).json()
    trade = SandboxTrade.objects.get(out_trade_no=payment["id"])
    body, headers = _notice(trade, "SUCCESS")
    tampered = json.loads(body)
    tampered["amount_fen"] = 1
    answer = _post(json.dumps(tampered).encode(), headers)
    assert answer.status_code == 400 and answer.json()["code"] == "signature_invalid"
    assert headers[SIGNATURE_HEADER] and headers[TIMESTAMP_HEADER]
    assert Order.objects.get(public_id=order["id"]).status == "pending_payment"


def test_reconcile_compare_rules():
    matched, mismatches = compare(
        {("payment", "pay_a"): 100, ("payment", "pay_b"): 200, ("refund", "rfd_c"): 50},
        {("payment", "pay_a"): 100, ("payment", "pay_b"): 250, ("payment", "pay_x"): 10})
    assert matched == 1
    assert [(m["problem"], m["ref"]) for m in mismatches] == [
        ("amount", "pay_b"), ("missing_ours", "pay_x"), ("missing_theirs", "rfd_c")]


def test_linli_reconcile_agrees_then_reports_a_trade_we_never_recorded(capsys):
    api, _ = consumer()
    store, product = shop()
    order = place(api, store, product, key="s10")
    payment = api.post(f"/orders/{order['id']}/payments", {}).json()
    buyer_pays_at_sandbox(payment["pay_url"])
    api.post(f"/orders/{order['id']}/cancel", {})  # refunded in full
    today = dt.datetime.now(STATEMENT_TZ).date().isoformat()
    call_command("reconcile", "--provider", "sandbox", "--date", today)
    assert "statement and ledger agree" in capsys.readouterr().out
    assert ReconciliationRun.objects.get().matched == 2  # the payment and its refund
    # the gateway has a paid trade our books never heard of
    trade = SandboxTrade.objects.get()
    SandboxTrade.objects.create(trade_no="sbxforeign", out_trade_no="pay_foreign", subject="?",
                                amount_fen=999, status="SUCCESS", paid_at=trade.paid_at)
    with pytest.raises(SystemExit) as exit_info:
        call_command("reconcile", "--provider", "sandbox", "--date", today)
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "missing_ours" in out and "pay_foreign" in out


def test_only_the_payer_may_close_a_payment():
    api, _ = consumer()
    store, product = shop()
    order = place(api, store, product, key="s11")
    payment = api.post(f"/orders/{order['id']}/payments", {}).json()
    stranger, _ = consumer()
    answer = stranger.post(f"/payments/{payment['id']}/close", {})
    assert answer.status_code == 404 and answer.json()["code"] == "payment_not_found"
    assert Payment.objects.get(public_id=payment["id"]).status == "pending"
