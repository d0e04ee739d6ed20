"""Segment rules, RFM buckets, the control split and uplift (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.marketing.segments import (
    RuleInvalid,
    UserStats,
    in_control,
    matches,
    rfm_bucket,
    rule_clean,
    uplift,
)

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def stats(**fields) -> UserStats:
    values = {"user_ref": "usr_a", "joined_at": NOW - timedelta(days=400)}
    values.update(fields)
    return UserStats(**values)


def ordered(days_ago: float, orders: int, spent: int, first_days_ago: float | None = None, **fields) -> UserStats:
    return stats(orders=orders, orders_year=orders, spent_year_fen=spent,
                 last_order_at=NOW - timedelta(days=days_ago),
                 first_order_at=NOW - timedelta(days=first_days_ago if first_days_ago is not None else 300),
                 **fields)


@pytest.mark.parametrize(("user", "bucket"), [
    (stats(), "new"),
    (ordered(3, 1, 3000, first_days_ago=3), "new"),
    (ordered(2, 12, 120000), "champions"),
    (ordered(20, 4, 30000), "loyal"),
    (ordered(60, 6, 60000), "at_risk"),
    (ordered(200, 1, 2000), "dormant"),
    (ordered(10, 1, 2000), "promising"),
    (ordered(60, 1, 2000), "occasional"),
])
def test_rfm_buckets(user, bucket):
    assert rfm_bucket(user, NOW) == bucket


def test_conditions():
    rule = rule_clean({"match": "all", "conditions": [{"kind": "dormant", "days": 30},
                                                      {"kind": "city", "cities": ["shanghai"]}]})
    assert matches(rule, ordered(45, 2, 5000, cities=frozenset({"shanghai"})), NOW)
    assert not matches(rule, ordered(5, 2, 5000, cities=frozenset({"shanghai"})), NOW)
    assert not matches(rule, ordered(45, 2, 5000, cities=frozenset({"beijing"})), NOW)
    new = rule_clean({"conditions": [{"kind": "new", "days": 30}]})
    assert matches(new, stats(joined_at=NOW - timedelta(days=2)), NOW)
    assert not matches(new, stats(), NOW)
    affinity = rule_clean({"match": "any", "conditions": [{"kind": "category", "categories": ["tea"], "min_orders": 2},
                                                          {"kind": "active", "days": 7}]})
    assert matches(affinity, ordered(40, 3, 9000, category_orders={"tea": 2}), NOW)
    assert matches(affinity, ordered(3, 3, 9000, category_orders={"food": 3}), NOW)
    assert not matches(affinity, ordered(40, 3, 9000, category_orders={"tea": 1}), NOW)


@pytest.mark.parametrize(("rule", "reason"), [
    ("dormant", "rule"),
    ({"conditions": []}, "conditions"),
    ({"match": "some", "conditions": [{"kind": "new"}]}, "match"),
    ({"conditions": [{"kind": "rich"}]}, "kind"),
    ({"conditions": [{"kind": "dormant", "days": 0}]}, "days"),
    ({"conditions": [{"kind": "dormant", "days": "30"}]}, "days"),
    ({"conditions": [{"kind": "rfm", "buckets": ["whales"]}]}, "buckets"),
    ({"conditions": [{"kind": "city", "cities": []}]}, "cities"),
    ({"conditions": [{"kind": "category", "categories": ["tea"], "min_orders": 0}]}, "min_orders"),
])
def test_bad_rules_name_the_bad_part(rule, reason):
    with pytest.raises(RuleInvalid) as refused:
        rule_clean(rule)
    assert refused.value.reason == reason


@given(percent=st.integers(0, 50))
def test_the_control_split_is_deterministic_and_near_the_percent(percent):
    users = [f"usr_{i}" for i in range(2000)]
    held = [u for u in users if in_control("cmp_x", u, percent)]
    assert held == [u for u in users if in_control("cmp_x", u, percent)]
    assert abs(len(held) / len(users) - percent / 100) < 0.04


def test_uplift_and_its_interval():
    result = uplift(treated=100, treated_converted=30, control=100, control_converted=20)
    assert result.treated_rate == 0.3 and result.control_rate == 0.2
    assert result.uplift == pytest.approx(0.1)
    assert result.low == pytest.approx(0.1 - 1.96 * ((0.3 * 0.7 + 0.2 * 0.8) / 100) ** 0.5)
    assert result.low < result.uplift < result.high
    assert uplift(treated=5, treated_converted=1, control=0, control_converted=0).uplift is None
