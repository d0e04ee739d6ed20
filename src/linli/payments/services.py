"""Payment use cases: open a payment for an order, take the gateway's notification,
refund a cancelled order. Money never appears or disappears: a payment that lands on
an order which can no longer take it is refunded in the same transaction."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import Conflict, DomainError, NotFound
from linli.orders.errors import OrderNotFound
from linli.orders.models import Order
from linli.orders.services import order_refund_settled, order_transition_as
from linli.orders.states import S

from .gateways import SignatureInvalid, get_gateway
from .models import GatewayNotification, Payment, PaymentEvent, Refund

logger = logging.getLogger("linli.payments")


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    message = _("This order cannot be paid in its current state.")


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    message = _("The payment does not exist.")


class AmountMismatch(DomainError):
    code = "amount_mismatch"
    status = 400
    message = _("The notified amount does not match the payment.")


class UnknownProvider(NotFound):
    code = "unknown_provider"
    message = _("Unknown payment provider.")


def _event(payment: Payment, source: str, *, actor: User | None, role: str, note: str = "") -> None:
    PaymentEvent.objects.create(payment=payment, from_status=source, to_status=payment.status,
                                actor=actor, actor_role=role, note=note)


def payment_create(*, order_id: str, consumer: User, provider: str = "sandbox") -> Payment:
    """Open (or reopen) the payment for an unpaid order and return where to pay it."""
    try:
        gateway = get_gateway(provider)
    except KeyError as exc:
        raise UnknownProvider(provider=provider) from exc
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(public_id=order_id).first()
        if order is None or order.consumer_id != consumer.pk:
            raise OrderNotFound(order_id=order_id)
        if order.status != S.PENDING_PAYMENT or order.pay_deadline <= timezone.now():
            raise OrderNotPayable(status=order.status)
        open_payment = order.payments.filter(provider=provider, status=Payment.Status.PENDING).first()
        if open_payment is not None:
            return open_payment
        payment = Payment.objects.create(order=order, provider=provider, amount_fen=order.total_fen)
        trade = gateway.trade_open(out_trade_no=payment.public_id, amount_fen=payment.amount_fen,
                                   subject=f"{order.store.name} {order.public_id}")
        payment.provider_trade_no = trade.trade_no
        payment.pay_url = trade.pay_url
        payment.save(update_fields=["provider_trade_no", "pay_url"])
        _event(payment, "", actor=consumer, role="consumer", note="created")
    return payment


def payment_notification_handle(*, provider: str, body: bytes, headers: dict[str, str]) -> str:
    """Verify and apply a gateway notification. Idempotent: a duplicate changes nothing.
    Returns the outcome ("paid", "duplicate", "refunded_late", "ignored")."""
    try:
        gateway = get_gateway(provider)
    except KeyError as exc:
        raise UnknownProvider(provider=provider) from exc
    raw = body.decode("utf-8", errors="replace")[:10_000]
    try:
        note = gateway.notification_parse(body=body, headers=headers)
    except SignatureInvalid:
        GatewayNotification.objects.create(provider=provider, body=raw, verified=False,
                                           outcome="signature_invalid")
        logger.warning("rejected %s notification with a bad signature", provider)
        raise
    try:
        with transaction.atomic():
            payment = (Payment.objects.select_for_update().select_related("order")
                       .filter(public_id=note.out_trade_no, provider=provider).first())
            if payment is None:
                raise PaymentNotFound(payment_id=note.out_trade_no)
            if note.amount_fen != payment.amount_fen:
                raise AmountMismatch(expected=payment.amount_fen, notified=note.amount_fen)
            outcome = _payment_apply(payment, note.succeeded)
            GatewayNotification.objects.create(provider=provider, notify_id=note.notify_id,
                                               body=raw, verified=True, outcome=outcome)
    except (PaymentNotFound, AmountMismatch) as exc:
        # Signed by the gateway yet unusable: keep it for reconciliation, then refuse.
        GatewayNotification.objects.create(provider=provider, notify_id=note.notify_id, body=raw,
                                           verified=True, outcome=exc.code)
        logger.error("gateway %s notification refused: %s %s", provider, exc.code, exc.details)
        raise
    return outcome


def _payment_apply(payment: Payment, succeeded: bool) -> str:
    if payment.status == Payment.Status.SUCCEEDED:
        return "duplicate"
    if not succeeded:
        return "ignored"
    source = payment.status
    payment.status = Payment.Status.SUCCEEDED
    payment.succeeded_at = timezone.now()
    tab_outcome = _tab_payment_apply(payment, source)  # fulfilment modes: a table tab's payment
    if tab_outcome is not None:
        return tab_outcome
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    already_paid = order.payments.filter(status=Payment.Status.SUCCEEDED).exists()
    payment.save(update_fields=["status", "succeeded_at"])
    _event(payment, source, actor=None, role="system", note="gateway notification")
    if order.status == S.PENDING_PAYMENT and not already_paid:
        order_transition_as(order=order, action="pay", actor=None, role="system")
        return "paid"
    # Paid too late (order cancelled by timeout) or paid twice: give the money back.
    _refund(payment, amount_fen=payment.amount_fen, actor=None, reason="order no longer payable")
    return "refunded_late"


def _refund(payment: Payment, *, amount_fen: int, actor: User | None, reason: str) -> Refund:
    refund = Refund.objects.create(payment=payment, amount_fen=amount_fen, reason=reason[:200],
                                   actor=actor)
    get_gateway(payment.provider).refund(out_trade_no=payment.public_id, amount_fen=amount_fen)
    refund.status = Refund.Status.SUCCEEDED
    refund.succeeded_at = timezone.now()
    refund.save(update_fields=["status", "succeeded_at"])
    return refund


def payment_refund_order(*, order: Order, actor: User | None, reason: str) -> list[Refund]:
    """Refund what is left of every successful payment of a cancelled order."""
    refunds = []
    tab_payment_id = order.tab.payment_id if order.tab_id else ""  # fulfilment modes
    if tab_payment_id:
        refunds.extend(_tab_share_refund(order, tab_payment_id, actor=actor, reason=reason))
    for payment in (order.payments.select_for_update().filter(status=Payment.Status.SUCCEEDED)
                    .exclude(public_id=tab_payment_id)):
        refunded = payment.refunds.filter(
            status__in=[Refund.Status.PENDING, Refund.Status.SUCCEEDED]
        ).aggregate(total=Sum("amount_fen"))["total"] or 0
        remaining = payment.amount_fen - refunded
        if remaining > 0:
            refunds.append(_refund(payment, amount_fen=remaining, actor=actor, reason=reason))
    # A cancelled paid order waits in `refunding` until no refund is pending: then `refunded`.
    if order.status == S.REFUNDING and not Refund.objects.filter(
            payment__order=order, status=Refund.Status.PENDING).exists():
        order_refund_settled(order=order)
    return refunds


# --- fulfilment modes (issue 5): one payment for a dine-in table's whole tab ----------------
# The payment is attached to the tab's first unpaid order (Payment.order cannot be empty) for
# the sum of the tab's unpaid orders; the tab records its id (TableTab.payment_id). When it
# succeeds, every unpaid order on the tab moves to `paid`; the share of an order cancelled
# meanwhile is refunded at once, and an order cancelled after payment is refunded its own
# share (never the whole tab). See docs/orders.md "Fulfilment modes".

def payment_create_for_tab(*, tab_id: str, consumer: User, provider: str = "sandbox") -> Payment:
    """Ask for the bill: one payment for every unpaid order on the tab (any diner who ordered
    on it may pay). Asking again returns the same open payment."""
    from linli.orders.fulfilment import tab_bill, tab_payment_opened

    try:
        gateway = get_gateway(provider)
    except KeyError as exc:
        raise UnknownProvider(provider=provider) from exc
    with transaction.atomic():
        tab, orders = tab_bill(tab_id=tab_id, consumer=consumer, now=timezone.now())
        if tab.payment_id:
            open_payment = Payment.objects.filter(public_id=tab.payment_id,
                                                  status=Payment.Status.PENDING).first()
            if open_payment is not None:
                return open_payment
        amount = sum(order.total_fen for order in orders)
        payment = Payment.objects.create(order=orders[0], provider=provider, amount_fen=amount)
        trade = gateway.trade_open(out_trade_no=payment.public_id, amount_fen=amount,
                                   subject=f"{orders[0].store.name} {tab.public_id}")
        payment.provider_trade_no = trade.trade_no
        payment.pay_url = trade.pay_url
        payment.save(update_fields=["provider_trade_no", "pay_url"])
        tab_payment_opened(tab=tab, payment_id=payment.public_id, amount_fen=amount)
        _event(payment, "", actor=consumer, role="consumer", note=f"created for tab {tab.public_id}")
    return payment


def _tab_payment_apply(payment: Payment, source: str) -> str | None:
    """None when the payment is not a tab's; else settle the tab (see above)."""
    from linli.orders.fulfilment import tab_settle

    settled = tab_settle(payment_id=payment.public_id, amount_fen=payment.amount_fen)
    if settled is None:
        return None
    payment.save(update_fields=["status", "succeeded_at"])
    _event(payment, source, actor=None, role="system",
           note=f"gateway notification (tab {settled.tab.public_id})")
    if settled.unpayable_fen:
        _refund(payment, amount_fen=settled.unpayable_fen, actor=None,
                reason="tab order no longer payable")
    return "paid" if settled.paid else "refunded_late"


def _tab_share_refund(order: Order, tab_payment_id: str, *, actor: User | None,
                      reason: str) -> list[Refund]:
    """Refund a cancelled tab order's own share of the tab's payment, if that payment paid
    it (an order paid on its own is refunded from its own payment)."""
    if order.paid_at is None or order.payments.filter(status=Payment.Status.SUCCEEDED).exclude(
            public_id=tab_payment_id).exists():
        return []
    payment = (Payment.objects.select_for_update()
               .filter(public_id=tab_payment_id, status=Payment.Status.SUCCEEDED).first())
    if payment is None:
        return []
    refunded = payment.refunds.filter(
        status__in=[Refund.Status.PENDING, Refund.Status.SUCCEEDED]
    ).aggregate(total=Sum("amount_fen"))["total"] or 0
    share = min(order.total_fen, payment.amount_fen - refunded)
    return [_refund(payment, amount_fen=share, actor=actor, reason=reason)] if share > 0 else []
