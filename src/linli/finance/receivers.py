"""Finance listens to orders' `order_changed` (sent after commit, robustly: a receiver's
failure is logged by orders and the other receivers still run): a completed order, or a
refund of one, is posted at once. The periodic sweep (`finance_sweep`, before every
settlement run) posts whatever was missed."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction


def on_order_changed(sender: Any, order: Any, **kwargs: Any) -> None:
    from linli.orders.states import S

    from .services import order_post

    if order.status not in (S.COMPLETED, S.REFUNDING, S.REFUNDED):
        return
    try:
        with transaction.atomic():
            order_post(order)
    except IntegrityError:
        pass  # posted meanwhile by a concurrent receiver or the sweep: once is enough
