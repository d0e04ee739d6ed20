"""Order domain events. Apps above orders subscribe (the web surfaces push live updates);
orders never imports them, so the dependency arrow keeps pointing one way.

`order_changed` is sent once the transaction that changed the order has committed (a
rolled-back change announces nothing), with `order=<Order>`. Receivers must not raise:
a failing receiver is logged and the others still run.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

from .models import Order

log = logging.getLogger(__name__)

order_changed = Signal()


def order_changed_on_commit(order: Order) -> None:
    """Announce the order's new state after the current transaction commits."""
    transaction.on_commit(lambda: _send(order))


def _send(order: Order) -> None:
    for receiver, result in order_changed.send_robust(sender=Order, order=order):
        if isinstance(result, Exception):
            log.error("order_changed receiver %r failed for %s", receiver, order.public_id,
                      exc_info=result)
