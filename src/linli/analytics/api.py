"""Analytics over /api/v1. Parse, call one service or selector, shape the answer."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["analytics"])
