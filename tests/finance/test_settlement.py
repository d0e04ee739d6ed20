"""Postings for completed orders and their refunds, the settlement run (T+N, netting,
reserve), payouts that fail and retry without paying twice, holds, adjustments with two
operators, commission rules, and the bad inputs: each a clear 4xx, nothing posted half."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from linli.finance import postings, selectors, services
from linli.finance.errors import BatchAlreadySettled, MerchantOnHold
from linli.finance.models import (
    CommissionRule,
    FinanceEntry,
    MerchantFinance,
    Payout,
    SandboxTransfer,
    SettlementBatch,
)
from linli.payments.ledger import CLEARING, ledger_verify
from linli.payments.models import LedgerTransaction
from tests.fixtures import token_api
from tests.threads import run_concurrently

from .helpers import (
    balance,
    complete,
    completed_order,
    consumer,
    days_ago,
    merchant_accounts_hold,
    operator,
    paid_order,
    refund,
    shop,
)

pytestmark = pytest.mark.django_db


def _today():
    return postings.business_day(timezone.now())


@pytest.fixture
def rule(db):
    return services.commission_rule_create(actor=operator(), rate_bp=800, min_fen=100,
                                           starts_at=timezone.now() - timedelta(days=400))


def test_a_completed_order_moves_its_money_from_clearing_to_the_merchant_and_platform(rule) -> None:
    store, product = shop(price_fen=2000)
    buyer = consumer()
    order = paid_order(store, product, buyer, quantity=2)
    assert balance(CLEARING) == order.total_fen
    with TestCase.captureOnCommitCallbacks(execute=True):  # order_changed is sent after commit
        complete(order)
    entry = FinanceEntry.objects.get(order=order, kind="sale")
    assert entry.paid_fen == order.total_fen == 4100  # 2 x 20.00 + packaging 1.00
    assert entry.commission_fen == 328 and entry.fee_fen == 25  # 8 % of 41.00; 0.6 % of 41.00
    assert entry.net_fen == 4100 - 328 - 25
    assert balance(CLEARING) == 0
    assert balance(postings.payable(store.merchant)) == entry.net_fen
    assert balance(postings.COMMISSION) == 328 and balance(postings.GATEWAY_FEE) == 25
    assert entry.due_on == entry.day + timedelta(days=1)  # T+1 by default
    services.order_post(order)  # told again: posted once
    assert FinanceEntry.objects.filter(order=order).count() == 1
    assert ledger_verify() == []


def test_a_refund_after_completion_takes_back_its_share(rule) -> None:
    store, product = shop(price_fen=5000)
    order = completed_order(store, product, consumer())
    services.order_post(order)
    refund(order, 2550)  # half of 51.00
    assert services.finance_sweep() == 1
    sale = FinanceEntry.objects.get(order=order, kind="sale")
    back = FinanceEntry.objects.get(order=order, kind="refund")
    assert back.paid_fen == -2550 and back.commission_fen == -(sale.commission_fen // 2)
    assert balance(CLEARING) == 0
    merchant_accounts_hold(store.merchant)
    refund(order, 2550)
    services.finance_sweep()
    assert balance(postings.payable(store.merchant)) == 0 and balance(postings.COMMISSION) == 0
    assert ledger_verify() == []


def test_settlement_t_plus_n_pays_due_entries_once_and_nets_refunds(rule) -> None:
    store, product = shop(price_fen=3000)
    merchant = store.merchant
    MerchantFinance.objects.update_or_create(merchant=merchant, defaults={"settlement_days": 2})
    old = completed_order(store, product, consumer(), at=days_ago(3))
    fresh = completed_order(store, product, consumer())
    services.finance_sweep()
    refund(old, 1000)
    services.finance_sweep()
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = services.settlement_run(day=_today())
    assert run.batches == 1
    batch = SettlementBatch.objects.get(merchant=merchant)
    due = FinanceEntry.objects.filter(order=old)
    assert set(batch.entries.all()) == set(due)  # the fresh order waits (T+2)
    assert batch.payout_fen == sum(e.net_fen for e in due)  # the refund netted
    assert batch.payout.status == "paid" and SandboxTransfer.objects.count() == 1
    assert FinanceEntry.objects.get(order=fresh).batch is None
    with pytest.raises(BatchAlreadySettled):
        services.settle_merchant(merchant=merchant, day=_today())
    merchant_accounts_hold(merchant)
    b = selectors.merchant_balances(merchant)
    assert b.paid_out_fen == batch.payout_fen and b.pending_fen == FinanceEntry.objects.get(order=fresh).net_fen
    assert ledger_verify() == []


def test_a_failed_payout_keeps_the_money_and_a_retry_pays_exactly_once(rule, settings) -> None:
    store, product = shop()
    completed_order(store, product, consumer(), at=days_ago(2))
    settings.LINLI_FINANCE_SANDBOX_PAYOUT_FAIL = True
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.settlement_run(day=_today())
    payout = Payout.objects.get()
    assert payout.status == "failed" and payout.attempts == 1 and "refused" in payout.last_error
    assert balance(postings.settling(store.merchant)) == payout.amount_fen  # not lost
    merchant_accounts_hold(store.merchant)
    settings.LINLI_FINANCE_SANDBOX_PAYOUT_FAIL = False
    assert services.payouts_retry(now=timezone.now() + timedelta(hours=1)) == {"paid": 1, "failed": 0}
    assert services.payouts_retry(now=timezone.now() + timedelta(hours=2)) == {"paid": 0, "failed": 0}
    payout.refresh_from_db()
    assert payout.status == "paid" and SandboxTransfer.objects.count() == 1
    assert LedgerTransaction.objects.filter(key=f"fin:payout:{payout.public_id}").count() == 1
    assert balance(postings.settling(store.merchant)) == 0
    merchant_accounts_hold(store.merchant)


def test_a_hold_keeps_settled_money_held_and_refuses_payouts_until_released(rule) -> None:
    store, product = shop()
    merchant = store.merchant
    completed_order(store, product, consumer(), at=days_ago(2))
    ops = operator()
    api = token_api(ops)
    answer = api.post("/finance/holds", {"merchant_id": merchant.public_id, "reason": "dispute", "note": "chargeback"})
    assert answer.status_code == 201, answer.content
    hold_id = answer.json()["id"]
    services.settlement_run(day=_today())
    batch = SettlementBatch.objects.get(merchant=merchant)
    assert batch.status == "held" and not Payout.objects.exists()
    assert balance(postings.held(merchant)) == batch.payout_fen
    merchant_accounts_hold(merchant)
    with TestCase.captureOnCommitCallbacks(execute=False):  # released; its payout not sent yet
        services.hold_release(actor=ops, hold_id=hold_id)
    assert balance(postings.held(merchant)) == 0 and balance(postings.settling(merchant)) == batch.payout_fen
    payout = Payout.objects.get()
    services.hold_place(actor=ops, merchant_id=merchant.public_id, reason="fraud", note="again")
    answer = api.post(f"/finance/payouts/{payout.public_id}/send")
    assert answer.status_code == 409 and answer.json()["code"] == "merchant_on_hold"
    assert not SandboxTransfer.objects.exists()
    with pytest.raises(MerchantOnHold):
        services.payout_send(payout_id=payout.public_id)
    merchant_accounts_hold(merchant)
    assert api.post(f"/finance/holds/{hold_id}/release").status_code == 404  # released already
    other = selectors.MerchantHold.objects.get(released_at__isnull=True)
    assert api.post(f"/finance/holds/{other.public_id}/release").status_code == 200  # sends the payout
    assert Payout.objects.get().status == "paid" and SandboxTransfer.objects.count() == 1
    merchant_accounts_hold(merchant)


def test_adjustments_need_a_reason_and_a_second_operator_above_the_threshold(settings) -> None:
    settings.LINLI_FINANCE_ADJUSTMENT_APPROVAL_FEN = 100_00
    store, _product = shop()
    merchant = store.merchant
    first, second = token_api(operator("a")), token_api(operator("b"))
    answer = first.post("/finance/adjustments", {"merchant_id": merchant.public_id, "amount_fen": 500, "reason": " "})
    assert answer.status_code == 422 and answer.json()["code"] == "adjustment_reason_required"
    answer = first.post("/finance/adjustments", {"merchant_id": merchant.public_id, "amount_fen": 0, "reason": "x"})
    assert answer.status_code == 422 and answer.json()["code"] == "adjustment_amount_invalid"
    assert not FinanceEntry.objects.exists()
    small = first.post("/finance/adjustments", {"merchant_id": merchant.public_id, "amount_fen": 500,
                                                "reason": "late delivery compensation"})
    assert small.status_code == 201 and small.json()["status"] == "posted"
    big = first.post("/finance/adjustments", {"merchant_id": merchant.public_id, "amount_fen": -200_00,
                                              "reason": "duplicate payout recovered"}).json()
    assert big["status"] == "pending" and balance(postings.payable(merchant)) == 500
    answer = first.post(f"/finance/adjustments/{big['id']}/approve")
    assert answer.status_code == 403 and answer.json()["code"] == "second_approver_required"
    assert second.post(f"/finance/adjustments/{big['id']}/approve").json()["status"] == "posted"
    assert balance(postings.payable(merchant)) == 500 - 200_00
    assert balance(postings.ADJUSTMENTS) == 500 - 200_00
    assert token_api(consumer()).post("/finance/adjustments", {
        "merchant_id": merchant.public_id, "amount_fen": 1, "reason": "x"}).status_code == 403
    merchant_accounts_hold(merchant)
    assert ledger_verify() == []


def test_commission_rules_refuse_overlaps_and_negative_rates() -> None:
    store, _product = shop()
    api = token_api(operator())
    start = timezone.now().replace(microsecond=0)
    body = {"rate_bp": 500, "starts_at": start.isoformat(), "merchant_id": store.merchant.public_id,
            "channel": "delivery"}
    assert api.post("/finance/commission-rules", body).status_code == 201
    answer = api.post("/finance/commission-rules", {**body, "starts_at": (start + timedelta(days=3)).isoformat()})
    assert answer.status_code == 409 and answer.json()["code"] == "commission_rule_overlap"
    answer = api.post("/finance/commission-rules", {**body, "rate_bp": -100, "channel": "pickup"})
    assert answer.status_code == 422 and answer.json()["code"] == "commission_rule_invalid"
    answer = api.post("/finance/commission-rules", {**body, "min_fen": -1, "channel": "pickup"})
    assert answer.status_code == 422
    assert api.post("/finance/commission-rules", {**body, "channel": "pickup"}).status_code == 201



def test_commission_rules_name_the_category_by_its_slug() -> None:
    store, _product = shop()
    api = token_api(operator())
    start = timezone.now().replace(microsecond=0)
    slug = store.category.slug
    made = api.post("/finance/commission-rules", {"rate_bp": 650, "starts_at": start.isoformat(), "category": slug})
    assert made.status_code == 201, made.json()
    assert made.json()["category"] == slug and made.json()["merchant_id"] is None
    assert CommissionRule.objects.get(public_id=made.json()["id"]).category_id == store.category_id
    unknown = api.post("/finance/commission-rules", {"rate_bp": 650, "starts_at": start.isoformat(),
                                                     "category": "no-such-category"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "commission_rule_invalid"
    assert unknown.json()["details"]["field"] == "category"
    assert CommissionRule.objects.filter(category_id=store.category_id).count() == 1  # the refusal wrote nothing


def test_statements_download_as_csv_and_xlsx_for_the_merchant_only(rule) -> None:
    import io

    from openpyxl import load_workbook

    store, product = shop()
    order = completed_order(store, product, consumer())
    services.finance_sweep()
    owner = store.merchant.members.get(role="owner").user
    api = token_api(owner)
    body = api.get("/finance/statement").json()
    assert [e["ref"] for e in body["entries"]] == [order.public_id]
    csv_answer = api.get(f"/finance/statement?day={_today()}&format=csv")
    assert csv_answer.status_code == 200 and order.public_id in csv_answer.content.decode("utf-8-sig")
    xlsx = api.get("/finance/statement?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(row=2, column=4).value == order.public_id
    assert sheet.cell(row=2, column=13).value == body["entries"][0]["net_fen"] / 100
    stranger = token_api(consumer()).get("/finance/balances")
    assert stranger.status_code == 403 and stranger.json()["code"] == "not_your_merchant"
    assert api.get("/finance/balances").json()["pending_fen"] == body["total_net_fen"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_settling_one_merchant_twice_at_once_settles_once() -> None:
    services.commission_rule_create(actor=operator(), rate_bp=500, starts_at=days_ago(30))
    store, product = shop()
    for _ in range(3):
        completed_order(store, product, consumer(), at=days_ago(2))
    services.finance_sweep()
    day = _today() + timedelta(days=1)  # posted on completion (committed here): due T+1

    def settle():  # type: ignore[no-untyped-def]
        try:
            return services.settle_merchant(merchant=store.merchant, day=day).public_id
        except BatchAlreadySettled:
            return "refused"

    results = run_concurrently([settle] * 6)
    assert sorted(r == "refused" for r in results) == [False] + [True] * 5
    assert SettlementBatch.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="finance_settle").count() == 1
    assert FinanceEntry.objects.filter(batch__isnull=True).count() == 0
    merchant_accounts_hold(store.merchant)
    assert ledger_verify() == []
