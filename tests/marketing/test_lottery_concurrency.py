"""Concurrent draws on PostgreSQL (threads, each with its own connection): prize stock and
the budget are never exceeded, and one user drawing from many connections draws once."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Sum

from linli.marketing.models import Coupon, CouponTemplate, Draw, Lottery, Prize
from tests.fixtures import token_api
from tests.threads import run_concurrently

from .engagement_helpers import make_lottery, make_user
from .helpers import make_template

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_forty_users_drawing_at_once_never_pass_stock_or_budget():
    template = make_template(total_quota=None, per_user_limit=1)
    lottery = make_lottery(budget_fen=2000, eligibility=Lottery.Eligibility.ONCE, prizes=[
        {"name": "5元券", "kind": "coupon", "coupon_template": template, "weight": 1, "stock": 3, "cost_fen": 500},
        {"name": "8元券", "kind": "coupon", "coupon_template": template, "weight": 1, "stock": 10, "cost_fen": 800},
        {"name": "积分", "kind": "points", "points": 10, "weight": 1, "stock": 2, "cost_fen": 0},
    ])  # every roll wins something while it lasts: the races are on the last units and fen
    apis = [token_api(make_user()) for _ in range(40)]
    answers = run_concurrently([lambda api=api: api.post(f"/lotteries/{lottery.public_id}/draw") for api in apis])
    assert Counter(a.status_code for a in answers) == {201: 40}, [a.content for a in answers if a.status_code != 201]
    lottery.refresh_from_db()
    prizes = {p.name: p for p in Prize.objects.filter(lottery=lottery)}
    won = Counter(d.prize.name for d in Draw.objects.filter(lottery=lottery, prize__isnull=False).select_related("prize"))
    spent = Draw.objects.filter(lottery=lottery).aggregate(s=Sum("cost_fen"))["s"]
    assert lottery.spent_fen == spent <= 2000
    assert won["5元券"] <= 3 and won["积分"] <= 2
    for name, prize in prizes.items():
        assert prize.awarded_count == won[name]
        assert prize.stock == {"5元券": 3, "8元券": 10, "积分": 2}[name] - won[name] >= 0
    assert Coupon.objects.filter(template=template).count() == won["5元券"] + won["8元券"]
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == won["5元券"] + won["8元券"]
    # 40 rolls with a 2/3 chance of a coupon prize: whatever is left of the budget affords no
    # coupon prize still in stock
    left = lottery.budget_fen - lottery.spent_fen
    assert all(p.cost_fen > left for p in prizes.values() if p.cost_fen and p.stock)


def test_one_user_drawing_from_ten_connections_draws_once():
    lottery = make_lottery(eligibility=Lottery.Eligibility.ONCE,
                           prizes=[{"name": "谢谢参与", "kind": "nothing", "weight": 1}])
    user = make_user()
    apis = [token_api(user) for _ in range(10)]
    answers = run_concurrently([lambda api=api: api.post(f"/lotteries/{lottery.public_id}/draw") for api in apis])
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 9}
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"draw_not_eligible"}
    assert Draw.objects.filter(user=user).count() == 1
