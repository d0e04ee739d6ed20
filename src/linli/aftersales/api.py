"""After-sales requests, complaints and arbitration over /api/v1. Parse, call one service or selector, shape the answer."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["after-sales and complaints"])
