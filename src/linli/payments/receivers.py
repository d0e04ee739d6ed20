"""Payments listening to orders (orders never imports payments for this)."""

from __future__ import annotations

from typing import Any

from linli.orders.models import Order
from linli.orders.states import S


def close_payments_of_cancelled_order(sender: Any, order: Order, **kwargs: Any) -> None:
    """An unpaid order was cancelled (by the consumer or the unpaid timeout): close its
    open payments at once, so a wallet part held for it is back in the wallet now rather
    than at the next `payments_sync`."""
    if order.status == S.CANCELLED and order.paid_at is None:
        from .services import payments_close_for_order

        payments_close_for_order(order_id=order.public_id)
