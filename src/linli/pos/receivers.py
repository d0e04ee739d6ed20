"""Points for online orders, from the orders' domain event (orders never imports us)."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from linli.orders.models import Order
from linli.orders.states import S

from . import points


def _refunded_fen(order: Order) -> int:
    """Money given back on the order so far (read from payments, never written)."""
    from linli.payments.models import Payment

    return int(Payment.objects.filter(order=order).aggregate(s=Sum("refunded_fen"))["s"] or 0)


def points_on_order_changed(sender: Any, order: Order, **kwargs: Any) -> None:
    """Completed: earn on what was paid minus what was refunded (once per order). After
    that, any refund seen on a later change takes the points back in proportion. An
    order refunded before completion never earns (it never reaches `completed`)."""
    if order.status not in (S.COMPLETED, S.REFUNDING, S.REFUNDED):
        return
    points_order_sync(order=order)


def points_order_sync(*, order: Order) -> None:
    """Make the order's points match its state: callable by after-sales refunds too."""
    key = f"earn:{order.public_id}"
    refunded = _refunded_fen(order)
    if order.status == S.COMPLETED:
        paid = order.total_fen - refunded
        if paid > 0 and points.points_earn(member=order.consumer, key=key, paid_fen=order.total_fen,
                                           reference=order.public_id, actor=None,
                                           at=order.completed_at) is not None:
            points.spend_record(member=order.consumer, key=f"order:{order.public_id}",
                                amount_fen=order.total_fen, at=order.completed_at)
    if refunded and points.PointsTransaction.objects.filter(key=key).exists():
        points.points_reverse_to(earn_key=key, refunded_fen=refunded, actor=None)
        prefix = f"order-refund:{order.public_id}:"
        recorded = -int(points.SpendRecord.objects.filter(key__startswith=prefix)
                        .aggregate(s=Sum("amount_fen"))["s"] or 0)
        points.spend_record(member=order.consumer, key=f"{prefix}{refunded}",
                            amount_fen=-(refunded - recorded))
