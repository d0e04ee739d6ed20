"""A campaign's statistics shaped for the pages (back office and merchant console): the
numbers as cards, used coupons and GMV per day as `ops.charts.day_chart` bars, and the
treated/control conversion as two bars."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from linli.ops.charts import day_chart, yuan

from .engagement_models import Campaign
from .engagement_selectors import CampaignStats, campaign_stats


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def conversion_bars(stats: CampaignStats, *, width: int = 360, bar_height: int = 22) -> list[dict[str, Any]]:
    """Treated and control conversion as horizontal bars (viewBox units)."""
    rows = []
    for i, (group, rate, n, converted) in enumerate((
            ("treated", stats.uplift.treated_rate, stats.treated, stats.treated_converted),
            ("control", stats.uplift.control_rate, stats.control, stats.control_converted))):
        rows.append({"group": group, "y": i * (bar_height + 8), "h": bar_height,
                     "w": round((rate or 0) * (width - 120), 1), "label": _percent(rate),
                     "text_y": i * (bar_height + 8) + bar_height - 6, "n": n, "converted": converted})
    return rows


def campaign_report(campaign: Campaign, now: datetime) -> dict[str, Any]:
    stats = campaign_stats(campaign=campaign, now=now)
    u = stats.uplift
    return {
        "campaign": campaign, "stats": stats,
        "gmv": yuan(stats.gmv_fen), "discount": yuan(stats.discount_fen),
        "platform_cost": yuan(stats.platform_cost_fen), "merchant_cost": yuan(stats.merchant_cost_fen),
        "treated_rate": _percent(u.treated_rate), "control_rate": _percent(u.control_rate),
        "uplift": "-" if u.uplift is None else f"{u.uplift * 100:+.1f} pt",
        "interval": "" if u.low is None or u.high is None else f"[{u.low * 100:+.1f}, {u.high * 100:+.1f}] pt",
        "chart": day_chart([(p.day, p.used, p.gmv_fen) for p in stats.days]) if stats.days else None,
        "conversion": conversion_bars(stats),
    }
