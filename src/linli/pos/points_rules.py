"""The one rule set for points and tiers, online and at the counter (pure Python).

- Earning: 1 point per whole yuan paid in money (cash, wallet, gateway), times the tier's
  multiplier; the part paid with points earns nothing.
- Redeeming: 100 points = ¥1 (1 point = 1 fen), at most half of a sale.
- Tiers by money spent in the last 12 months (rolling): they go up and down by themselves
  as purchases enter and leave the window.
- Points expire 12 months after they were earned (oldest first).
"""

from __future__ import annotations

from datetime import timedelta

FEN_PER_POINT = 1  # 100 points = ¥1
REDEEM_CAP_PERCENT = 50
POINTS_LIFETIME = timedelta(days=365)
TIER_WINDOW = timedelta(days=365)

# (tier, minimum 12-month spend in fen, multiplier in percent), lowest first.
TIERS: tuple[tuple[str, int, int], ...] = (
    ("regular", 0, 100),
    ("silver", 1_000_00, 120),
    ("gold", 5_000_00, 150),
    ("platinum", 20_000_00, 200),
)


def tier_for(spend_fen: int) -> str:
    name = TIERS[0][0]
    for tier, minimum, _pct in TIERS:
        if spend_fen >= minimum:
            name = tier
    return name


def multiplier_percent(tier: str) -> int:
    for name, _minimum, pct in TIERS:
        if name == tier:
            return pct
    return 100


def points_earned(paid_fen: int, tier: str) -> int:
    """Points for `paid_fen` of money at `tier`: whole yuan times the multiplier, rounded down."""
    if paid_fen <= 0:
        return 0
    return (paid_fen // 100) * multiplier_percent(tier) // 100


def points_kept_after_refund(earned: int, paid_fen: int, refunded_fen: int) -> int:
    """Points an earning keeps once `refunded_fen` of its `paid_fen` is returned: in
    proportion, rounded down (all refunded: nothing kept)."""
    if paid_fen <= 0 or refunded_fen >= paid_fen:
        return 0
    return earned * (paid_fen - max(refunded_fen, 0)) // paid_fen


def redeem_cap_points(total_fen: int) -> int:
    """The most points a sale of `total_fen` may take."""
    return (total_fen * REDEEM_CAP_PERCENT // 100) // FEN_PER_POINT


def points_value_fen(points: int) -> int:
    return points * FEN_PER_POINT
