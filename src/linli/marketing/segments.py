"""Campaign segments, the held-out control group and uplift, pure: no Django, no I/O.

A segment is a rule (JSON) over each user's order history (`UserStats`, built by the
selector from orders that were paid and not cancelled or refunded):

    {"match": "all" | "any", "conditions": [condition, ...]}

| condition | true when |
| --- | --- |
| `{"kind": "new", "days": 30}` | joined in the last N days and no order yet |
| `{"kind": "active", "days": 30}` | an order in the last N days |
| `{"kind": "dormant", "days": 30}` | ordered before, but not in the last N days |
| `{"kind": "rfm", "buckets": ["champions", ...]}` | the user's RFM bucket is one of these |
| `{"kind": "city", "cities": ["shanghai"]}` | ordered from a store in one of these cities |
| `{"kind": "category", "categories": ["food"], "min_orders": 2}` | at least N orders at stores of these categories |

RFM uses fixed thresholds (a user's bucket does not move when other users come and go):
recency (days since the last order) ≤7 → 5, ≤14 → 4, ≤30 → 3, ≤90 → 2, else 1; frequency
(orders in the last 365 days) ≥10 → 5, ≥5 → 4, ≥3 → 3, ≥2 → 2, else 1; monetary (fen spent
in the last 365 days) ≥100000 → 5, ≥50000 → 4, ≥20000 → 3, ≥5000 → 2, else 1. Buckets, first
match wins: `new` (no order, or exactly one order in the last 30 days), `champions`
(R≥4, F≥4, M≥4), `loyal` (R≥3, F≥3), `at_risk` (R≤2, F≥3), `dormant` (R=1), `promising`
(R≥3), `occasional` (the rest).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

BUCKETS = ("new", "champions", "loyal", "at_risk", "dormant", "promising", "occasional")
KINDS = ("new", "active", "dormant", "rfm", "city", "category")
MAX_CONDITIONS = 10
MAX_DAYS = 3650
MAX_LIST = 50
YEAR = timedelta(days=365)


class RuleInvalid(ValueError):
    """The segment rule is not one we can evaluate; `reason` says which part."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class UserStats:
    user_ref: str
    joined_at: datetime
    orders: int = 0  # every counted order
    orders_year: int = 0  # in the last 365 days
    spent_year_fen: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    cities: frozenset[str] = frozenset()
    category_orders: Mapping[str, int] = field(default_factory=dict)


# --- RFM ------------------------------------------------------------------------------------

def _score(value: float, steps: Sequence[float], *, descending: bool = False) -> int:
    """5..1: the first step the value reaches (ascending) or stays within (descending)."""
    for i, step in enumerate(steps):
        if (value <= step) if descending else (value >= step):
            return 5 - i
    return 1


def rfm_scores(stats: UserStats, now: datetime) -> tuple[int, int, int] | None:
    """(R, F, M) 1..5 each; None for someone who never ordered."""
    if stats.last_order_at is None:
        return None
    days = (now - stats.last_order_at).total_seconds() / 86400
    return (_score(days, (7, 14, 30, 90), descending=True),
            _score(stats.orders_year, (10, 5, 3, 2)),
            _score(stats.spent_year_fen, (100000, 50000, 20000, 5000)))


def rfm_bucket(stats: UserStats, now: datetime) -> str:
    scores = rfm_scores(stats, now)
    if scores is None or (stats.orders == 1 and stats.first_order_at is not None
                          and now - stats.first_order_at <= timedelta(days=30)):
        return "new"
    r, f, m = scores
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if r >= 3 and f >= 3:
        return "loyal"
    if r <= 2 and f >= 3:
        return "at_risk"
    if r == 1:
        return "dormant"
    if r >= 3:
        return "promising"
    return "occasional"


# --- rules ----------------------------------------------------------------------------------

def _days(condition: Mapping[str, Any]) -> int:
    days = condition.get("days", 30)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise RuleInvalid("days")
    return days


def _strings(condition: Mapping[str, Any], key: str, allowed: Sequence[str] | None = None) -> list[str]:
    values = condition.get(key)
    if (not isinstance(values, list) or not values or len(values) > MAX_LIST
            or not all(isinstance(v, str) and 0 < len(v) <= 64 for v in values)):
        raise RuleInvalid(key)
    if allowed is not None and any(v not in allowed for v in values):
        raise RuleInvalid(key)
    return sorted(set(values))


def rule_clean(rule: Any) -> dict[str, Any]:
    """The rule in its normal form (unknown keys dropped, lists sorted), or RuleInvalid."""
    if not isinstance(rule, Mapping):
        raise RuleInvalid("rule")
    match = rule.get("match", "all")
    if match not in ("all", "any"):
        raise RuleInvalid("match")
    conditions = rule.get("conditions")
    if not isinstance(conditions, list) or not conditions or len(conditions) > MAX_CONDITIONS:
        raise RuleInvalid("conditions")
    clean = []
    for condition in conditions:
        if not isinstance(condition, Mapping) or condition.get("kind") not in KINDS:
            raise RuleInvalid("kind")
        kind = condition["kind"]
        if kind in ("new", "active", "dormant"):
            clean.append({"kind": kind, "days": _days(condition)})
        elif kind == "rfm":
            clean.append({"kind": kind, "buckets": _strings(condition, "buckets", BUCKETS)})
        elif kind == "city":
            clean.append({"kind": kind, "cities": _strings(condition, "cities")})
        else:
            min_orders = condition.get("min_orders", 1)
            if not isinstance(min_orders, int) or isinstance(min_orders, bool) or not 1 <= min_orders <= 1000:
                raise RuleInvalid("min_orders")
            clean.append({"kind": kind, "categories": _strings(condition, "categories"),
                          "min_orders": min_orders})
    return {"match": match, "conditions": clean}


def _holds(condition: Mapping[str, Any], stats: UserStats, now: datetime) -> bool:
    kind = condition["kind"]
    if kind == "new":
        return stats.orders == 0 and now - stats.joined_at <= timedelta(days=condition["days"])
    if kind == "active":
        return stats.last_order_at is not None and now - stats.last_order_at <= timedelta(days=condition["days"])
    if kind == "dormant":
        return stats.last_order_at is not None and now - stats.last_order_at > timedelta(days=condition["days"])
    if kind == "rfm":
        return rfm_bucket(stats, now) in condition["buckets"]
    if kind == "city":
        return bool(stats.cities & set(condition["cities"]))
    return sum(stats.category_orders.get(c, 0) for c in condition["categories"]) >= condition["min_orders"]


def matches(rule: Mapping[str, Any], stats: UserStats, now: datetime) -> bool:
    """Whether the user is in the segment (`rule` already cleaned)."""
    results = (_holds(c, stats, now) for c in rule["conditions"])
    return all(results) if rule["match"] == "all" else any(results)


# --- control group and uplift -----------------------------------------------------------------

def in_control(campaign_ref: str, user_ref: str, control_percent: int) -> bool:
    """Whether the user is held out: a hash of (campaign, user) in 0..9999 below the percent
    (in hundredths). Deterministic, independent of who else is in the segment."""
    if control_percent <= 0:
        return False
    digest = hashlib.sha256(f"{campaign_ref}:{user_ref}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10000 < control_percent * 100


@dataclass(frozen=True)
class Uplift:
    treated_rate: float | None
    control_rate: float | None
    uplift: float | None  # treated − control, in conversion (0..1)
    low: float | None  # 95 % confidence interval (normal approximation)
    high: float | None


def uplift(*, treated: int, treated_converted: int, control: int, control_converted: int,
           z: float = 1.96) -> Uplift:
    """Treated conversion − control conversion with a Wald interval; None where a group is empty."""
    t_rate = treated_converted / treated if treated else None
    c_rate = control_converted / control if control else None
    if t_rate is None or c_rate is None:
        return Uplift(t_rate, c_rate, None, None, None)
    diff = t_rate - c_rate
    se = math.sqrt(t_rate * (1 - t_rate) / treated + c_rate * (1 - c_rate) / control)
    return Uplift(t_rate, c_rate, diff, diff - z * se, diff + z * se)
