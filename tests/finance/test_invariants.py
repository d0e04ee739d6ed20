"""The proof (hypothesis): over random sequences of completed orders, partial refunds after
completion, adjustments, settlement runs, failing payouts, holds and retries, for every
merchant paid out + pending + held = the sum of their entries' net amounts; platform
revenue = commission + fees - subsidies; the ledger balances and clearing holds exactly
what no completed order has claimed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.core.errors import DomainError
from linli.finance import postings, selectors, services
from linli.finance.models import FinanceEntry
from linli.orders.models import Order
from linli.payments.ledger import CLEARING, ledger_verify
from linli.payments.models import Posting

from .helpers import (
    balance,
    completed_order,
    consumer,
    days_ago,
    merchant_accounts_hold,
    operator,
    paid_order,
    refund,
    shop,
)

op = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 1), st.integers(1, 3), st.integers(0, 3)),
    st.tuples(st.just("unfinished"), st.integers(0, 1)),
    st.tuples(st.just("refund"), st.integers(0, 1), st.integers(1, 4000)),
    st.tuples(st.just("adjust"), st.integers(0, 1), st.integers(-3000, 3000)),
    st.tuples(st.just("settle"), st.integers(0, 3)),
    st.tuples(st.just("fail_payouts"), st.booleans()),
    st.tuples(st.just("hold"), st.integers(0, 1)),
    st.tuples(st.just("release"), st.integers(0, 1)),
    st.tuples(st.just("retry"),),
)


def _check(merchants) -> None:  # type: ignore[no-untyped-def]
    assert ledger_verify() == []
    assert sum(Posting.objects.values_list("amount_fen", flat=True)) == 0
    for merchant in merchants:
        merchant_accounts_hold(merchant)
    sums = FinanceEntry.objects.aggregate(c=Sum("commission_fen"), f=Sum("fee_fen"), d=Sum("delivery_fen"),
                                          s=Sum("subsidy_fen"))
    assert selectors.platform_revenue_fen() == (sums["c"] or 0) + (sums["f"] or 0) + (sums["d"] or 0) - (sums["s"] or 0)
    unclaimed = sum(o.total_fen - sum(p.refunded_fen for p in o.payments.all())
                    for o in Order.objects.filter(status__in=["paid"]))
    assert balance(CLEARING) == unclaimed


@pytest.mark.django_db
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(op, min_size=1, max_size=14))
def test_every_merchants_money_is_accounted_for(ops_seq) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings as dj

    services.commission_rule_create(actor=operator(), rate_bp=700, min_fen=50, starts_at=days_ago(400)) \
        if not services.CommissionRule.objects.exists() else None
    shops = [shop(price_fen=1990, name="甲"), shop(price_fen=3350, name="乙")]
    merchants = [s.merchant for s, _p in shops]
    orders: list[list[Order]] = [[], []]
    ops = operator()
    today = postings.business_day(timezone.now())
    dj.LINLI_FINANCE_SANDBOX_PAYOUT_FAIL = False
    try:
        for step in ops_seq:
            kind = step[0]
            with TestCase.captureOnCommitCallbacks(execute=True):
                try:
                    if kind == "order":
                        store, product = shops[step[1]]
                        orders[step[1]].append(completed_order(store, product, consumer(), quantity=step[2],
                                                               at=days_ago(step[3])))
                        services.order_post(orders[step[1]][-1])
                    elif kind == "unfinished":
                        store, product = shops[step[1]]
                        paid_order(store, product, consumer())
                    elif kind == "refund" and orders[step[1]]:
                        order = orders[step[1]][0]
                        refund(order, min(step[2], order.total_fen))
                        services.finance_sweep()
                    elif kind == "adjust" and step[2]:
                        services.adjustment_create(actor=ops, merchant_id=merchants[step[1]].public_id,
                                                   amount_fen=step[2], reason="random")
                    elif kind == "settle":
                        services.settlement_run(day=today + timedelta(days=step[1]))
                    elif kind == "fail_payouts":
                        dj.LINLI_FINANCE_SANDBOX_PAYOUT_FAIL = step[1]
                    elif kind == "hold":
                        services.hold_place(actor=ops, merchant_id=merchants[step[1]].public_id, reason="fraud",
                                            note="random")
                    elif kind == "release":
                        for hold in services.MerchantHold.objects.filter(merchant=merchants[step[1]],
                                                                          released_at__isnull=True):
                            services.hold_release(actor=ops, hold_id=hold.public_id)
                    elif kind == "retry":
                        services.payouts_retry(now=timezone.now() + timedelta(days=1))
                except DomainError:
                    pass  # refused: nothing half-posted, checked below
            _check(merchants)
    finally:
        dj.LINLI_FINANCE_SANDBOX_PAYOUT_FAIL = False
