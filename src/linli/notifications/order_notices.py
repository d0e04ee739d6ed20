"""Order news for the consumer: exactly one message per state change the consumer waits
for, sent from the `order_changed` domain event (connected in NotificationsConfig.ready).

Each notifiable transition (an `OrderEvent` row) gives one message with the dedupe key
`order:<order id>:<state>` (`order:<order id>:cancel_declined:<event>` for the answer that
keeps the state), so an announcement repeated, received twice or raced by a later change
still notifies once; every announcement looks at the order's recent transitions, so a state
passed through inside one transaction (refunding then refunded) is not skipped either.

Not notified, on purpose: what the consumer did themselves (placing, paying, their own
cancel, confirming receipt), steps nobody waits for (preparing, a delivery order ready for
its rider, a dine-in dish ready, completed), and the merchant's new orders (the live order
queue of the store console is their notice).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.utils import timezone

from linli.orders.models import Order, OrderEvent
from linli.orders.states import S

from .models import Message
from .services import notify_event

log = logging.getLogger("linli.notifications")
# Transitions older than this are history, not news (an order changed after a long pause).
NEWS_WINDOW = timedelta(days=2)


def notice_kind(event: OrderEvent, fulfilment: str) -> str:
    """The template for this transition, or "" when it notifies nobody."""
    action, role, target = event.action, event.actor_role, event.to_status
    if action == "place" and role == "system":  # orders.reroute placed it for the consumer
        return "order_rerouted"
    if action == "accept":
        return "order_accepted"
    if action == "decline_cancel":
        return "order_cancel_declined"
    if target == S.READY and fulfilment == Order.Fulfilment.PICKUP:
        return "order_ready_pickup"
    if target == S.DELIVERING:
        return "order_delivering"
    if target == S.DELIVERED:
        return "order_delivered"
    if target == S.REFUNDED:
        return "order_refunded"
    if target in (S.CANCELLED, S.REFUNDING) and role != "consumer":
        if action == "reject":
            return "order_rejected" if role == "merchant" else "order_accept_timeout"
        if action == "approve_cancel":
            return "order_cancel_approved"
        if role == "operator":
            return "order_cancelled_by_platform"
        if target == S.CANCELLED:
            return "order_unpaid_cancelled"
    return ""


def _dedupe_key(order: Order, event: OrderEvent) -> str:
    if event.from_status == event.to_status:
        return f"order:{order.public_id}:{event.action}:{event.pk}"
    return f"order:{order.public_id}:{event.to_status}"


def order_notices_send(order: Order) -> int:
    """Notify the consumer of the order's recent notifiable transitions not yet notified;
    answers how many messages went out."""
    since = timezone.now() - NEWS_WINDOW
    events = list(OrderEvent.objects.filter(order_id=order.pk, created_at__gte=since).order_by("pk"))
    context = {"order": order.public_id, "store": order.store.name, "amount": f"{order.total_fen / 100:.2f}",
               "code": order.pickup_code,
               "from_store": order.rerouted_from.store.name if order.rerouted_from_id else ""}
    notified = set(Message.objects.filter(user_id=order.consumer_id, dedupe_key__startswith=f"order:{order.public_id}:")
                   .values_list("dedupe_key", flat=True))
    sent = 0
    for event in events:
        kind = notice_kind(event, order.fulfilment)
        if not kind or _dedupe_key(order, event) in notified:
            continue
        delivery = notify_event(order.consumer, kind, context=context, link=f"/orders/{order.public_id}",
                                dedupe_key=_dedupe_key(order, event))
        sent += delivery.delivered
    return sent


def on_order_changed(sender: Any, order: Order, **kwargs: Any) -> None:
    """Receiver of `linli.orders.events.order_changed` (after commit). A new order awaiting
    payment is nobody's news (placing it was the consumer's own act) and costs no query,
    unless the platform placed it for them (a re-routed order)."""
    if order.status == Order.Status.PENDING_PAYMENT and not order.rerouted_from_id:
        return
    order_notices_send(order)
