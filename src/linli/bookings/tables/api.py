"""Bookings: table reservations and walk-in queue over /api/v1. Parse, call one service or selector, shape the answer."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["table reservations and queue"])
