"""Geometry of the report pages' server-rendered SVG charts. Pure: no Django, no I/O; the
templates only draw what these return (viewBox units, scaled to the screen by CSS)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def bars(points: Sequence[tuple[str, float | int | None]], *, width: int = 640, height: int = 180,
         fmt: Any = str) -> dict[str, Any]:
    """One bar per (label, value); at most ~12 labels are written under the axis."""
    top_pad, bottom_pad = 14, 20
    plot = height - top_pad - bottom_pad
    axis_y = height - bottom_pad
    slot = width / max(len(points), 1)
    top = max((v or 0 for _, v in points), default=0) or 1
    every = max(1, round(len(points) / 12))
    out = []
    for i, (label, value) in enumerate(points):
        h = round((value or 0) / top * plot, 1)
        out.append({"x": round(i * slot + slot * 0.1, 1), "y": round(axis_y - h, 1), "w": round(max(slot * 0.8, 0.5), 1),
                    "h": h, "cx": round(i * slot + slot / 2, 1), "label": label if i % every == 0 else "",
                    "title": f"{label}: {'-' if value is None else fmt(value)}"})
    return {"width": width, "height": height, "axis_y": axis_y, "bars": out, "label_y": height - 5,
            "top": fmt(top) if top != 1 or any(v for _, v in points) else "0"}


def line(points: Sequence[tuple[str, float | int | None]], *, width: int = 640, height: int = 140) -> dict[str, Any]:
    """A polyline over the values (gaps where a value is None, e.g. no reviews that day)."""
    pad = 12
    values = [v for _, v in points if v is not None]
    low, high = (min(values), max(values)) if values else (0, 1)
    span = (high - low) or 1
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    segments: list[list[str]] = [[]]
    for i, (_, value) in enumerate(points):
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        y = height - pad - (value - low) / span * (height - 2 * pad)
        segments[-1].append(f"{round(pad + i * step, 1)},{round(y, 1)}")
    return {"width": width, "height": height, "lines": [" ".join(s) for s in segments if s],
            "low": low, "high": high}


def heat(grid: Sequence[Sequence[int]], *, cell: int = 24, labels: Sequence[str] = WEEKDAYS) -> dict[str, Any]:
    """7 x 24 cells, darker for more orders (opacity 0.08..1)."""
    top = max((max(row) for row in grid), default=0) or 1
    left, head = 34, 14
    cells = []
    for d, row in enumerate(grid):
        for h, count in enumerate(row):
            cells.append({"x": left + h * cell, "y": head + d * cell, "w": cell - 2,
                          "o": round(0.08 + 0.92 * count / top, 2) if count else 0.04,
                          "title": f"{labels[d]} {h:02d}:00 {count}"})
    return {"width": left + 24 * cell, "height": head + 7 * cell, "cells": cells, "cell": cell,
            "days": [{"y": head + d * cell + cell * 0.65, "label": labels[d]} for d in range(7)],
            "hours": [{"x": left + h * cell + cell / 2, "label": f"{h}"} for h in range(0, 24, 3)]}
