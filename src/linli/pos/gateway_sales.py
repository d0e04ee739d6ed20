"""Gateway QR payment at the counter (docs/pos.md "Gateway QR at the counter").

The sale is rung up `awaiting_payment`: its units are held (reserved, not sold), points
it redeems are taken, nothing is earned, and the counter shows the QR of a gateway trade
(`payments.counter_gateway_open`, channel "qr"). The sale completes only when payments
has a verified notification or a verified query saying the trade succeeded — never on
the till's word: payments then sends `counter_payment_changed` inside its transaction
(payment row locked) and `on_counter_payment_changed` commits the stock and earns the
points in that same transaction. A trade closed (by the cashier, the gateway or the
5-minute expiry) voids the sale: held units go back, redeemed points come back.

State table (every change is a `SaleEvent` row):

| from             | to        | when                                     | who    |
| ---------------- | --------- | ---------------------------------------- | ------ |
| (new)            | awaiting_payment | rung up with `gateway_qr`         | staff  |
| awaiting_payment | completed | verified notification / query: succeeded | system |
| awaiting_payment | voided    | trade closed or expired unpaid           | system or the cashier who closed it |

A success arriving after the void (the buyer paid at the last second) is refunded by
payments at once (the receiver answers False); the sale stays voided.

Lock order: payment row (payments) before the sale row (here), on every path.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import Conflict
from linli.inventory.services import stock_commit, stock_release

from . import points
from .models import Sale, SaleEvent

ST = Sale.Status
# The waiting state as a plain string for event rows (mypy reads labelled members as tuples).
AWAITING = "awaiting_payment"
QUERY_EVERY = timedelta(seconds=3)


class SaleNotAwaitingPayment(Conflict):
    code = "sale_not_awaiting_payment"
    message = _("This sale is not waiting for a QR payment.")


def sale_event(sale: Sale, source: str, *, actor: User | None, role: str, note: str = "") -> None:
    SaleEvent.objects.create(sale=sale, from_status=source, to_status=sale.status, actor=actor,
                             actor_role=role, note=note[:200])


def sale_qr_open(*, sale: Sale, actor: User, role: str) -> None:
    """Inside the ring-up's transaction: open the gateway trade for what is left to pay
    and leave the sale waiting for it (the caller saves the sale)."""
    from linli.payments.services import counter_gateway_open

    payment = counter_gateway_open(amount_fen=sale.paid_fen, reference=sale.public_id,
                                   subject=f"{sale.store.name} {sale.public_id}", actor=actor,
                                   payer=sale.member)
    sale.payment_id = payment.public_id
    sale.status = ST.AWAITING_PAYMENT
    sale_event(sale, "", actor=actor, role=role, note=f"QR {payment.public_id}")


def on_counter_payment_changed(sender: Any, payment: Any, state: str, actor: User | None = None,
                               role: str = "system", **kwargs: Any) -> bool:
    """payments' hook, inside its transaction. "succeeded": complete the waiting sale
    (True), or answer False if it was voided meanwhile (payments refunds). "closed": void
    the waiting sale."""
    with transaction.atomic():
        sale = Sale.objects.select_for_update().filter(public_id=payment.reference,
                                                       payment_id=payment.public_id).first()
        if sale is None:
            return False
        if state == "succeeded":
            if sale.status != ST.AWAITING_PAYMENT:
                return sale.status != ST.VOIDED
            stock_commit(reference=sale.public_id, actor=None)
            if sale.member is not None:
                from .services import _sale_earn

                _sale_earn(sale, sale.member, None)
            sale.status = ST.COMPLETED
            sale.save(update_fields=["status", "points_earned", "updated_at"])
            sale_event(sale, AWAITING, actor=None, role="system", note=f"paid {payment.public_id}")
            return True
        if state == "closed" and sale.status == ST.AWAITING_PAYMENT:
            _void(sale, actor=actor, role=role, note=f"QR {payment.public_id} closed")
        return True


def _void(sale: Sale, *, actor: User | None, role: str, note: str) -> None:
    stock_release(reference=sale.public_id, actor=actor)
    if sale.member is not None and sale.points_redeemed:
        points.points_redeem_back(member=sale.member, points=sale.points_redeemed,
                                  key=f"redeem_back:{sale.public_id}", reference=sale.public_id, actor=actor)
    sale.status = ST.VOIDED
    sale.save(update_fields=["status", "updated_at"])
    sale_event(sale, AWAITING, actor=actor, role=role, note=note)


def sale_payment_check(*, sale: Sale) -> Sale:
    """The counter polls a waiting sale: ask the gateway (a verified query, at most every
    3 s per payment) and answer the sale as it now stands."""
    from linli.payments.gateways import GatewayUnavailable
    from linli.payments.models import Payment
    from linli.payments.services import payment_sync

    if sale.status != ST.AWAITING_PAYMENT or not sale.payment_id:
        return sale
    due = (Payment.objects.filter(public_id=sale.payment_id, status=Payment.Status.PENDING)
           .filter(Q(last_queried_at__isnull=True) | Q(last_queried_at__lt=timezone.now() - QUERY_EVERY)))
    if due.exists():
        try:
            payment_sync(payment_id=sale.payment_id)
        except GatewayUnavailable:
            pass  # the counter keeps polling; the notification or the periodic job settles it
    sale.refresh_from_db()
    return sale


def sale_qr_cancel(*, sale: Sale, actor: User) -> Sale:
    """The cashier gives up on the QR (the customer walks away or pays another way):
    the trade is closed at the gateway and the sale voided — unless the gateway says it
    was paid meanwhile, in which case the sale completes instead."""
    from linli.payments.services import counter_gateway_close

    if sale.status != ST.AWAITING_PAYMENT:
        raise SaleNotAwaitingPayment(sale_id=sale.public_id, status=sale.status)
    counter_gateway_close(payment_id=sale.payment_id, actor=actor)
    sale.refresh_from_db()
    return sale


def sale_qr(sale: Sale) -> dict[str, Any] | None:
    """What the counter shows while the sale waits: the QR's content and when it expires."""
    from linli.payments.models import Payment
    from linli.payments.services import COUNTER_QR_TTL

    if sale.status != ST.AWAITING_PAYMENT or not sale.payment_id:
        return None
    row = Payment.objects.filter(public_id=sale.payment_id).values_list("qr_code", "created_at").first()
    if row is None:
        return None
    return {"qr_code": row[0], "expires_at": row[1] + COUNTER_QR_TTL}
