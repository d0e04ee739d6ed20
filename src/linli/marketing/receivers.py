"""Marketing listening to orders (orders never imports marketing for this)."""

from __future__ import annotations

from typing import Any

from linli.orders.models import Order
from linli.orders.states import S


def coupon_back_on_order_changed(sender: Any, order: Order, **kwargs: Any) -> None:
    """A cancelled or refunded order gives its coupon back (services.coupon_return_for_order)."""
    if order.status in S.CANCELLED_ALL:
        from .services import coupon_return_for_order

        coupon_return_for_order(order=order)
