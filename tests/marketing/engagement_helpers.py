"""Lotteries, prizes and users for the lottery and campaign tests."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from django.utils import timezone

from linli.accounts.models import User
from linli.marketing.models import Lottery, Prize

_n = itertools.count(1)


def make_user(**fields: Any) -> User:
    n = next(_n)
    return User.objects.create_user(username=f"+86136{n:08d}", phone=f"+86136{n:08d}", **fields)


def make_lottery(*, prizes: list[dict[str, Any]], **fields: Any) -> Lottery:
    now = timezone.now()
    values: dict[str, Any] = {"title": "周末大转盘", "starts_at": now - timedelta(hours=1),
                              "ends_at": now + timedelta(days=7), "budget_fen": 10000,
                              "eligibility": Lottery.Eligibility.PER_DAY, "status": Lottery.Status.LIVE}
    values.update(fields)
    lottery = Lottery(**values)
    lottery.full_clean()
    lottery.save()
    for spec in prizes:
        prize = Prize(lottery=lottery, **spec)
        prize.full_clean()
        prize.save()
    return lottery
