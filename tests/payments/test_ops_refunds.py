"""Payments in the back office: search and filters, the payment page with its raw gateway
messages, notifications and ledger postings, the manual refund (by amount or by items,
with a required reason, once however often it is submitted) and its refusals, and the
bonus rules, ledger accounts and reconciliation runs."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client

from linli.accounts.models import User
from linli.orders.models import Order
from linli.orders.services import LineInput, order_place
from linli.payments import ledger
from linli.payments.models import (
    LedgerAccount,
    Payment,
    PaymentEvent,
    ReconciliationRun,
    Refund,
    SandboxTrade,
    TopupBonusRule,
)
from linli.payments.services import payment_create
from tests.fixtures import make_product, make_store
from tests.ops.helpers import operator_user, staff_client
from tests.orders.fulfilment_helpers import gateway_pays

pytestmark = pytest.mark.django_db(transaction=True)  # on-commit hooks run (notifications, refunds)

PAYMENTS = "/ops/payments/payment/"
REFUNDS = "/ops/payments/refund/"
BUYER = "+8613800138901"


@pytest.fixture
def paid():
    """An order of 2 × ¥32 + 1 × ¥18 (plus packaging) paid through the sandbox (signed
    notification)."""
    store = make_store(name="老王家常菜")
    dish, tea = make_product(store, name="宫保鸡丁", price_fen=3200), make_product(store, name="奶茶", price_fen=1800)
    buyer = User.objects.create_user(username=BUYER, phone=BUYER, password="long-enough-password")
    order = order_place(consumer=buyer, store_id=store.public_id,
                        lines=[LineInput(product_id=dish.public_id, quantity=2),
                               LineInput(product_id=tea.public_id, quantity=1)],
                        fulfilment="pickup", address=None, idempotency_key="ops-refund-1").order
    payment = payment_create(order_id=order.public_id, consumer=buyer)
    assert gateway_pays(payment.public_id) == "paid"
    payment.refresh_from_db()
    return {"order": order, "payment": payment, "buyer": buyer}


def _page(client: Client, payment: Payment) -> str:
    answer = client.get(f"{PAYMENTS}{payment.public_id}/change/")
    assert answer.status_code == 200, answer.content[:300]
    return answer.content.decode()


def _refund_form(client: Client, payment: Payment) -> dict[str, str]:
    page = _page(client, payment)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    return {"idempotency_key": key, "reason": "顾客投诉：少送一份"}


def _post_refund(client: Client, payment: Payment, form: dict[str, str]) -> list[str]:
    answer = client.post(f"{PAYMENTS}{payment.public_id}/refund/", form)
    assert answer.status_code == 302 and answer["Location"] == f"{PAYMENTS}{payment.public_id}/change/"
    return [str(m) for m in get_messages(answer.wsgi_request)]


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _listed(client: Client, url: str, **params) -> list[str]:
    answer = client.get(url, params)
    assert answer.status_code == 200, answer.content[:300]
    return sorted(row.public_id for row in answer.context["cl"].result_list)


def test_payments_are_found_by_payment_order_trade_no_and_phone_and_filtered(paid):
    ops = staff_client()
    payment, order = paid["payment"], paid["order"]
    for term in (payment.public_id, order.public_id, payment.provider_trade_no, BUYER, "13800138901"):
        assert _listed(ops, PAYMENTS, q=term) == [payment.public_id], term
    assert _listed(ops, PAYMENTS, q="pay_nothing") == []
    assert _listed(ops, PAYMENTS, provider="sandbox", status="succeeded", purpose="order") == [payment.public_id]
    assert _listed(ops, PAYMENTS, purpose="topup") == []
    assert _listed(ops, PAYMENTS, status="refunded") == []


def test_the_payment_page_shows_events_ledger_postings_and_raw_gateway_traffic(paid):
    page = unescape(_page(staff_client(), paid["payment"]))
    payment = paid["payment"]
    assert "pending → succeeded" in page  # the event history
    assert "clearing:orders" in page and "gateway:sandbox" in page  # the capture's postings
    assert re.search(r'<pre class="ops-raw"[^>]*>\{"trade_no"', page)  # the trade_open answer
    notification = payment.notifications.get()
    assert notification.verified and notification.body[:20] in page  # the notification, raw
    assert 'data-testid="refund-form"' in page and f"¥{_yuan(payment.amount_fen)}" in page


def test_manual_refund_by_amount_is_exact_audited_and_happens_once_on_double_submit(paid):
    operator = operator_user()
    ops = staff_client(operator)
    payment = paid["payment"]
    form = _refund_form(ops, payment) | {"amount": "10.50"}
    first = _post_refund(ops, payment, form)
    second = _post_refund(ops, payment, form)  # the double submit: same one-time key
    refund = Refund.objects.get()
    assert refund.amount_fen == 1050 and refund.source == "operator"
    assert refund.reason == "顾客投诉：少送一份" and refund.actor == operator and refund.actor_role == "operator"
    assert refund.status == "succeeded"  # the sandbox refunds at once
    assert refund.public_id in first[-1] and refund.public_id in second[-1]
    payment.refresh_from_db()
    assert payment.refunded_fen == 1050 and payment.status == "partially_refunded"
    assert SandboxTrade.objects.get().refunded_fen == 1050
    assert PaymentEvent.objects.filter(refund=refund, actor=operator).exists()
    assert ledger.ledger_verify() == []
    # The refund's page shows the gateway's answer and the postings.
    refund_page = unescape(Client.get(ops, f"{REFUNDS}{refund.public_id}/change/").content.decode())
    assert "payments:refunds_in_flight" in refund_page and '"amount_fen":1050' in refund_page.replace(" ", "")


def test_manual_refund_by_items(paid):
    ops = staff_client()
    payment = paid["payment"]
    _post_refund(ops, payment, _refund_form(ops, payment) | {"line_2": "1"})  # the tea
    refund = Refund.objects.get()
    order = paid["order"]  # the tea's share of what was paid for the goods (packaging in)
    assert refund.amount_fen == 1800 * (order.total_fen - order.delivery_fee_fen) // order.items_fen
    assert list(refund.items.values_list("quantity", flat=True)) == [1]
    # The rest by items: everything left, to the last fen.
    _post_refund(ops, payment, _refund_form(ops, payment) | {"line_1": "2"})
    payment.refresh_from_db()
    assert payment.refunded_fen == payment.amount_fen and payment.status == "refunded"
    assert 'data-testid="refund-form"' not in _page(ops, payment)  # nothing left to refund


@pytest.mark.parametrize("fields,code", [
    ({"amount": "10", "reason": ""}, "invalid_input"),
    ({"amount": "0"}, "invalid_amount"),
    ({"amount": "-1"}, "invalid_amount"),
    ({"amount": "abc"}, "invalid_amount"),
    ({"amount": "12.345"}, "invalid_amount"),
    ({"amount": "above"}, "refund_exceeds_paid"),
    ({"line_1": "3"}, "invalid_refund_items"),
    ({"line_1": "x"}, "invalid_refund_items"),
    ({"line_1": "-1"}, "invalid_refund_items"),
    ({}, "invalid_input"),  # neither an amount nor items
    ({"amount": "5", "line_1": "1"}, "invalid_input"),  # both
])
def test_refused_manual_refunds_are_messages_and_refund_nothing(paid, fields, code):
    ops = staff_client()
    payment = paid["payment"]
    if fields.get("amount") == "above":
        fields = {"amount": _yuan(payment.amount_fen + 1)}
    messages = _post_refund(ops, payment, _refund_form(ops, payment) | fields)
    assert f'data-code="{code}"' in messages[-1], messages
    assert not Refund.objects.exists()
    payment.refresh_from_db()
    assert payment.refunded_fen == 0


def test_nothing_to_refund_after_a_full_refund(paid):
    ops = staff_client()
    payment = paid["payment"]
    _post_refund(ops, payment, _refund_form(ops, payment) | {"amount": _yuan(payment.amount_fen)})
    messages = _post_refund(ops, payment, {"amount": "1", "reason": "again", "idempotency_key": "other"})
    assert 'data-code="nothing_to_refund"' in messages[-1]
    assert Refund.objects.count() == 1


def test_only_operators_and_support_may_refund(paid):
    clerk = operator_user("clerk")
    User.objects.filter(pk=clerk.pk).update(platform_role="")
    clerk.refresh_from_db()
    ops = staff_client(clerk)
    payment = paid["payment"]
    page = _page(ops, payment)
    assert 'data-testid="refund-form"' not in page
    messages = _post_refund(ops, payment, {"amount": "1", "reason": "try", "idempotency_key": "k"})
    assert 'data-code="permission_denied"' in messages[-1]
    support = operator_user("support")
    User.objects.filter(pk=support.pk).update(platform_role="support")
    support.refresh_from_db()
    _post_refund(staff_client(support), payment, {"amount": "1", "reason": "goodwill", "idempotency_key": "k2"})
    assert Refund.objects.get().actor_role == "support"
    assert Client().post(f"{PAYMENTS}{payment.public_id}/refund/", {"amount": "1"}).status_code == 302  # login
    assert Refund.objects.count() == 1
    assert ops.get(f"{PAYMENTS}{payment.public_id}/refund/").status_code == 405


def test_refunds_list_is_searchable_and_filterable(paid):
    ops = staff_client()
    payment, order = paid["payment"], paid["order"]
    _post_refund(ops, payment, _refund_form(ops, payment) | {"amount": "5"})
    refund = Refund.objects.get()
    for term in (refund.public_id, payment.public_id, order.public_id, refund.batch, "13800138901"):
        assert _listed(ops, REFUNDS, q=term) == [refund.public_id], term
    assert _listed(ops, REFUNDS, status="succeeded", source="operator") == [refund.public_id]
    assert _listed(ops, REFUNDS, source="cancel") == []


def test_bonus_rules_are_edited_by_operators_and_money_records_are_read_only(paid):
    operator = operator_user()
    operator.user_permissions.add(Permission.objects.get(codename="add_topupbonusrule"))
    ops = staff_client(User.objects.get(pk=operator.pk))
    added = ops.post("/ops/payments/topupbonusrule/add/", {"threshold_fen": "10000", "bonus_fen": "1000",
                                                            "is_active": "on"})
    assert added.status_code == 302, added.content[:500]
    assert TopupBonusRule.objects.get().bonus_fen == 1000
    payment = paid["payment"]
    assert ops.get(f"{PAYMENTS}add/").status_code == 403
    assert ops.post(f"{PAYMENTS}{payment.public_id}/delete/").status_code == 403
    assert 'name="amount_fen"' not in _page(ops, payment)


def test_ledger_accounts_show_their_balance_and_reconciliation_runs_their_mismatches(paid):
    ops = staff_client()
    page = ops.get("/ops/payments/ledgeraccount/", {"q": "gateway:sandbox"})
    assert page.status_code == 200 and f"¥{_yuan(paid['payment'].amount_fen)}" in page.content.decode()
    account = LedgerAccount.objects.get(code="gateway:sandbox")
    assert ops.get(f"/ops/payments/ledgeraccount/{account.pk}/change/").status_code == 200
    run = ReconciliationRun.objects.create(provider="sandbox", day=dt.date(2026, 11, 24), matched=3, mismatches=[
        {"kind": "missing_ours", "ref": "pay_ghost", "ours_fen": None, "theirs_fen": 1234}])
    listed = ops.get("/ops/payments/reconciliationrun/").content.decode()
    assert "sandbox" in listed
    detail = ops.get(f"/ops/payments/reconciliationrun/{run.pk}/change/").content.decode()
    assert "pay_ghost" in detail and "¥12.34" in detail and "missing_ours" in detail
    assert Order.objects.count() == 1
