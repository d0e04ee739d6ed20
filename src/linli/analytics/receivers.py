"""Order and payment events come from the orders domain event (`order_changed`), so the
orders app never imports analytics. Receivers only append to the buffer: microseconds."""

from __future__ import annotations

from typing import Any

from .buffer import track


def on_order_changed(sender: Any, order: Any, **kwargs: Any) -> None:
    kind = {"pending_payment": "order", "paid": "payment"}.get(order.status)
    if kind is None:
        return
    channel = "table" if order.fulfilment == "dine_in" else ""
    track(kind, user=order.consumer_id, store=order.store_id, city=order.city_code, channel=channel,
          props={"order": order.public_id, "total_fen": order.total_fen, "fulfilment": order.fulfilment})
