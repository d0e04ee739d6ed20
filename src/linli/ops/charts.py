"""Geometry of the dashboard's server-rendered SVG charts. Pure: no Django, no I/O; the
templates only draw the shapes these functions return (viewBox units, scaled by CSS)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


def yuan(amount_fen: int) -> str:
    """Integer fen as yuan with two decimals and thousands separators: 123456 -> "¥1,234.56"."""
    sign = "-" if amount_fen < 0 else ""
    fen = abs(int(amount_fen))
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    cx: float  # centre of the slot, for the labels
    label: str  # under the bar ("" to leave the slot unlabelled)
    value: str  # over the bar / in the tooltip
    title: str  # the tooltip (<title>), read by screen readers too
    value_y: float = 0.0  # baseline of the value over the bar
    count: int = 0  # orders, written under the day's label


def _scale(value: int, top: int, height: float) -> float:
    return round(value / top * height, 1) if top else 0.0


def hour_chart(orders: Sequence[int], gmv_fen: Sequence[int], *, until: int = 23, width: int = 720,
               height: int = 200) -> dict:
    """Orders per hour as bars, GMV per hour as a line over them (each on its own scale).
    The line stops at hour `until` (the current hour: later ones have not happened yet)."""
    assert len(orders) == len(gmv_fen) == 24
    top_pad, bottom_pad = 16, 18
    plot = height - top_pad - bottom_pad
    axis_y = height - bottom_pad
    slot = width / 24
    top_orders, top_gmv = max(orders), max(gmv_fen)
    bars, points = [], []
    for hour in range(24):
        h = _scale(orders[hour], top_orders, plot)
        bars.append(Bar(x=round(hour * slot + 2, 1), y=round(axis_y - h, 1), w=round(slot - 4, 1), h=h,
                        cx=round(hour * slot + slot / 2, 1), label=f"{hour:02d}" if hour % 3 == 0 else "",
                        value=str(orders[hour]) if orders[hour] else "", value_y=round(axis_y - h - 3, 1),
                        title=f"{hour:02d}:00 {orders[hour]} / {yuan(gmv_fen[hour])}"))
        if hour <= until:
            points.append(f"{round(hour * slot + slot / 2, 1)},{round(axis_y - _scale(gmv_fen[hour], top_gmv, plot), 1)}")
    return {"width": width, "height": height, "axis_y": axis_y, "bars": bars,
            "line": " ".join(points), "has_gmv": top_gmv > 0, "top_orders": top_orders,
            "top_gmv": yuan(top_gmv), "label_y": height - 4, "slot": round(slot, 1)}


def day_chart(days: Sequence[tuple[date, int, int]], *, width: int = 720, height: int = 200) -> dict:
    """One GMV bar per day (`(day, orders, gmv_fen)`), labelled with the date and order count."""
    top_pad, bottom_pad = 18, 34
    plot = height - top_pad - bottom_pad
    axis_y = height - bottom_pad
    slot = width / max(len(days), 1)
    top = max((fen for _, _, fen in days), default=0)
    bars = []
    for i, (day, orders, fen) in enumerate(days):
        h = _scale(fen, top, plot)
        bars.append(Bar(x=round(i * slot + slot * 0.15, 1), y=round(axis_y - h, 1), w=round(slot * 0.7, 1),
                        h=h, cx=round(i * slot + slot / 2, 1), label=f"{day.month}/{day.day}",
                        value=yuan(fen), value_y=round(axis_y - h - 4, 1), count=orders,
                        title=f"{day.isoformat()} {orders} / {yuan(fen)}"))
    return {"width": width, "height": height, "axis_y": axis_y, "bars": bars,
            "slot": round(slot, 1), "label_y": height - 18, "note_y": height - 4}
