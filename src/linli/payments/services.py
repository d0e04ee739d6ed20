"""Payment use cases: pay an order (wallet first, the rest through a gateway), take the
gateway's notifications and answers to queries, refund along the original path, top up
and withdraw the wallet. Every money movement is posted to the ledger (`ledger.py`) in
the same transaction as the state change it records; money never appears or
disappears (docs/payments.md).

Rules that hold everywhere here:
- an order is paid only by a verified notification or a verified query, never by the
  client's word;
- a payment row is locked before its state or `refunded_fen` changes; `refunded_fen`
  only grows and never passes `amount_fen` (a database CHECK says so too);
- a gateway call that fails leaves our state where it was; the periodic
  `payments_sync` job asks again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.audit import audit
from linli.core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from linli.core.ids import new_public_id
from linli.orders.errors import OrderNotFound
from linli.orders.models import Order, OrderItem
from linli.orders.services import order_refund_settled, order_transition_as
from linli.orders.states import S

from . import ledger, money
from .gateways import (
    Gateway,
    GatewayUnavailable,
    Notification,
    RefundResult,
    SignatureInvalid,
    TradeOpened,
    available_providers,
    get_gateway,
)
from .ledger import CLEARING, HOLD, TOPUP_BONUS_EXPENSE, InsufficientBalance, credit, debit
from .models import (
    GatewayMessage,
    GatewayNotification,
    LedgerAccount,
    Payment,
    PaymentEvent,
    Refund,
    RefundItem,
    RefundRequestKey,
    TopupBonusRule,
    WalletTopup,
    WalletWithdrawal,
)

logger = logging.getLogger("linli.payments")

IN_FLIGHT = "payments:refunds_in_flight"  # refunds asked of a gateway, not yet confirmed
MAX_TOPUP_FEN = 500_000  # ¥5,000 per top-up
MAX_WALLET_FEN = 2_000_000  # ¥20,000 held in one wallet (stored-value cards are capped)
REFUND_ROLES = {"operator", "support", "system"}

__all__ = ["InsufficientBalance", "payment_create", "payment_notification_handle"]


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    message = _("This order cannot be paid in its current state.")


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    message = _("The payment does not exist.")


class RefundNotFound(NotFound):
    code = "refund_not_found"
    message = _("The refund does not exist.")


class AmountMismatch(DomainError):
    code = "amount_mismatch"
    status = 400
    message = _("The notified amount does not match the payment.")


class UnknownProvider(NotFound):
    code = "unknown_provider"
    message = _("Unknown payment provider.")


class InvalidAmount(InvalidInput):
    code = "invalid_amount"
    message = _("The amount must be a positive number of fen within the allowed range.")


class RefundExceedsPaid(Conflict):
    code = "refund_exceeds_paid"
    message = _("The refund is more than what is left to refund on this order.")


class NothingToRefund(Conflict):
    code = "nothing_to_refund"
    message = _("Nothing is left to refund on this order.")


class InvalidRefundItems(InvalidInput):
    code = "invalid_refund_items"
    message = _("The items to refund are not on the order or were already refunded.")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = _("This idempotency key was already used for a different request.")


class TopupNotFound(NotFound):
    code = "topup_not_found"
    message = _("The top-up does not exist.")


class WalletLimit(Conflict):
    code = "wallet_limit"
    message = _("The wallet cannot hold more than ¥20,000.")


class PaymentNotClosable(Conflict):
    code = "payment_not_closable"
    message = _("Only an open payment can be closed.")


# --- small helpers --------------------------------------------------------------------------

def _gateway(provider: str) -> Gateway:
    try:
        return get_gateway(provider)
    except KeyError as exc:
        raise UnknownProvider(provider=provider, available=available_providers()) from exc


def _event(payment: Payment, source: str, *, actor: User | None, role: str, note: str = "",
           refund: Refund | None = None, to: str = "") -> None:
    PaymentEvent.objects.create(payment=payment, refund=refund, from_status=source,
                                to_status=to or (refund.status if refund else payment.status),
                                actor=actor, actor_role=role, note=note[:200])


def _message(provider: str, kind: str, raw: str, *, payment: Payment | None = None,
             refund: Refund | None = None, ok: bool = True) -> None:
    GatewayMessage.objects.create(provider=provider, kind=kind, payment=payment, refund=refund,
                                  ok=ok, body=(raw or "")[:20_000])


def _check_amount(amount_fen: int, *, maximum: int) -> None:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) \
            or amount_fen <= 0 or amount_fen > maximum:
        raise InvalidAmount(field="amount_fen", maximum=maximum)


# Lock order, always: the order row, then payments, then refunds. Paths that start from a
# payment or a refund (notifications, queries, refund answers) first find and lock its
# order, so they never hold a payment while waiting for an order that a cancellation or a
# refund request (order first) holds while waiting for that payment.

def _lock_order_of(payment_filter: Q) -> None:
    order_id = Payment.objects.filter(payment_filter).values_list("order_id", flat=True).first()
    if order_id is not None:
        list(Order.objects.select_for_update(no_key=True).filter(pk=order_id).values_list("pk"))


def _lock_payment(public_id: str, *, provider: str | None = None) -> Payment:
    which = Q(public_id=public_id) & (Q(provider=provider) if provider else Q())
    _lock_order_of(which)
    payment = (Payment.objects.select_for_update(of=("self",)).select_related("order")
               .filter(which).first())
    if payment is None:
        raise PaymentNotFound(payment_id=public_id)
    return payment


def _lock_refund(public_id: str, *, provider: str | None = None) -> Refund | None:
    which = Q(refunds__public_id=public_id) & (Q(provider=provider) if provider else Q())
    _lock_order_of(which)
    return (Refund.objects.select_for_update().select_related("payment")
            .filter(public_id=public_id, **({"payment__provider": provider} if provider else {}))
            .first())


# --- wallet balances ------------------------------------------------------------------------

@dataclass(frozen=True)
class WalletBalance:
    cash_fen: int
    bonus_fen: int

    @property
    def total_fen(self) -> int:
        return self.cash_fen + self.bonus_fen


def wallet_balance(user: User, *, for_update: bool = False) -> WalletBalance:
    """The wallet's principal and bonus. `for_update` locks both account rows in one
    statement, in code order — the order `ledger.post` updates them in — so a payment
    reading the wallet and a top-up crediting it cannot deadlock."""
    codes = (ledger.wallet_bonus(user), ledger.wallet_cash(user))
    rows = LedgerAccount.objects.filter(code__in=codes).order_by("code")
    if for_update:
        rows = rows.select_for_update()
    found = dict(rows.values_list("code", "balance_fen"))
    return WalletBalance(int(found.get(codes[1], 0)), int(found.get(codes[0], 0)))


# --- paying an order --------------------------------------------------------------------------

def payment_create(*, order_id: str, consumer: User, provider: str = "sandbox",
                   use_wallet: bool = False, channel: str = "web", return_url: str = "",
                   client_ip: str = "") -> Payment:
    """Open (or reopen) the payment of an unpaid order.

    `provider="wallet"` pays it all from the wallet, at once. With `use_wallet` the
    wallet pays what it can and the gateway the rest (the wallet part is held until the
    gateway part succeeds). An open payment with the same choice is returned again; an
    open one with another choice is closed first (its hold released)."""
    if channel not in ("web", "h5", "app", "qr"):
        raise InvalidInput(field="channel", allowed=["web", "h5", "app", "qr"])
    gateway = None if provider == Payment.WALLET else _gateway(provider)
    with transaction.atomic():
        order = Order.objects.select_for_update(no_key=True, of=("self",)).select_related("store") \
            .filter(public_id=order_id).first()
        if order is None or order.consumer_id != consumer.pk:
            raise OrderNotFound(order_id=order_id)
        if order.status != S.PENDING_PAYMENT or order.pay_deadline <= timezone.now():
            raise OrderNotPayable(status=order.status)
        # A dine-in order on a table's tab may still be paid on its own (each diner pays
        # their share, 各付各的); the tab's bill then covers only the orders left unpaid.
        for open_payment in order.payments.filter(status__in=Payment.OPEN_STATES,
                                                  gateway_part__isnull=True):
            same = (open_payment.provider == provider and open_payment.channel == channel
                    and bool(open_payment.wallet_part_id) == use_wallet)
            if same:
                return open_payment
            _close_open(open_payment, actor=consumer, role="consumer", note="replaced")
        balance = wallet_balance(consumer, for_update=True)
        if provider == Payment.WALLET:
            if balance.total_fen < order.total_fen:
                raise InsufficientBalance(balance_fen=balance.total_fen, needed_fen=order.total_fen)
            payment = _wallet_payment(order, consumer, order.total_fen, balance, hold=False)
            _order_paid(payment, via="wallet")
            return payment
        wallet_fen = min(balance.total_fen, order.total_fen) if use_wallet else 0
        if wallet_fen == order.total_fen:  # the wallet covers it all: no gateway needed
            payment = _wallet_payment(order, consumer, wallet_fen, balance, hold=False)
            _order_paid(payment, via="wallet")
            return payment
        wallet_part = _wallet_payment(order, consumer, wallet_fen, balance, hold=True) \
            if wallet_fen else None
        payment = Payment.objects.create(
            order=order, payer=consumer, provider=provider, channel=channel,
            amount_fen=order.total_fen - wallet_fen, wallet_part=wallet_part,
            status=Payment.Status.CREATED)
        _event(payment, "", actor=consumer, role="consumer", note="created")
        assert gateway is not None
        _trade_open(payment, gateway, subject=f"{order.store.name} {order.public_id}",
                    return_url=return_url, client_ip=client_ip)
    return payment


def _trade_open(payment: Payment, gateway: Gateway, *, subject: str, return_url: str,
                client_ip: str = "") -> None:
    """Ask the gateway for a trade; on failure the caller's transaction rolls back (the
    wallet hold included) and the consumer gets a 503 to try again."""
    try:
        opened: TradeOpened = gateway.trade_open(
            out_trade_no=payment.public_id, amount_fen=payment.amount_fen, subject=subject,
            channel=payment.channel, return_url=return_url,  # type: ignore[arg-type]
            client_ip=client_ip[:45])
    except GatewayUnavailable:
        raise
    except Exception as exc:  # an adapter bug or a network error it did not wrap
        logger.exception("%s trade_open failed for %s", gateway.name, payment.public_id)
        raise GatewayUnavailable(provider=gateway.name) from exc
    payment.provider_trade_no = opened.trade_no
    payment.pay_url = opened.pay_url
    payment.qr_code = opened.qr_code
    payment.app_params = opened.app_params
    payment.status = Payment.Status.PENDING
    payment.save(update_fields=["provider_trade_no", "pay_url", "qr_code", "app_params", "status",
                                "updated_at"])
    _message(gateway.name, "trade_open", opened.raw, payment=payment)
    _event(payment, Payment.Status.CREATED, actor=None, role="system", note="trade opened")


def _wallet_payment(order: Order | None, payer: User, amount_fen: int, balance: WalletBalance,
                    *, hold: bool) -> Payment:
    """Take `amount_fen` from the payer's wallet (principal and bonus in proportion):
    straight into clearing when it pays the order alone, into the hold when a gateway
    pays the rest."""
    split = money.wallet_debit_split(amount_fen, cash_fen=balance.cash_fen,
                                     bonus_fen=balance.bonus_fen)
    payment = Payment.objects.create(
        order=order, payer=payer, provider=Payment.WALLET, amount_fen=amount_fen,
        wallet_bonus_fen=split.bonus_fen,
        status=Payment.Status.PENDING if hold else Payment.Status.SUCCEEDED,
        succeeded_at=None if hold else timezone.now())
    ledger.post(key=f"{'hold' if hold else 'capture'}:{payment.public_id}",
                kind="wallet_hold" if hold else "wallet_pay", payment=payment, actor=payer,
                role="consumer", entries=[
                    debit(ledger.wallet_cash(payer), split.cash_fen, payer),
                    debit(ledger.wallet_bonus(payer), split.bonus_fen, payer),
                    credit(HOLD if hold else CLEARING, amount_fen)])
    _event(payment, "", actor=payer, role="consumer",
           note="wallet part held" if hold else "paid from wallet")
    return payment


def _order_paid(payment: Payment, *, via: str) -> str:
    """The payment (and its wallet part) succeeded for an order: move the order to paid,
    or give the money back if the order can no longer take it."""
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    group = [payment.pk] + ([payment.wallet_part_id] if payment.wallet_part_id else [])
    already_paid = order.payments.filter(status__in=Payment.PAID_STATES).exclude(pk__in=group).exists()
    if order.status == S.PENDING_PAYMENT and not already_paid:
        order_transition_as(order=order, action="pay", actor=None, role="system", note=via)
        return "paid"
    # Paid too late (order cancelled by timeout) or paid twice: give the money back.
    batch = new_public_id("rfb")
    for part in Payment.objects.filter(pk__in=group).order_by("-id"):
        if part.refundable_fen:
            _refund_payment(part, part.refundable_fen, batch=batch, source=Refund.Source.LATE,
                            reason="order no longer payable", actor=None, role="system")
    return "refunded_late"


def _capture(payment: Payment, *, via: str, raw_note: str = "") -> str:
    """A gateway payment succeeded (verified notification or query). Payment row locked."""
    source = payment.status
    now = timezone.now()
    payment.status = Payment.Status.SUCCEEDED
    payment.succeeded_at = now
    payment.save(update_fields=["status", "succeeded_at", "updated_at"])
    _event(payment, source, actor=None, role="system", note=f"succeeded ({via}) {raw_note}")
    gateway_acct = ledger.gateway_account(payment.provider)
    if payment.purpose == Payment.Purpose.TOPUP:
        return _topup_succeeded(payment)
    entries = [debit(gateway_acct, payment.amount_fen), credit(CLEARING, payment.amount_fen)]
    wallet_part = None
    if payment.wallet_part_id:
        wallet_part = Payment.objects.select_for_update().get(pk=payment.wallet_part_id)
        entries += [debit(HOLD, wallet_part.amount_fen), credit(CLEARING, wallet_part.amount_fen)]
    ledger.post(key=f"capture:{payment.public_id}", kind="payment", payment=payment,
                entries=entries, memo=via)
    if wallet_part is not None and wallet_part.status in Payment.OPEN_STATES:
        wallet_part.status = Payment.Status.SUCCEEDED
        wallet_part.succeeded_at = now
        wallet_part.save(update_fields=["status", "succeeded_at", "updated_at"])
        _event(wallet_part, Payment.Status.PENDING, actor=None, role="system",
               note=f"captured with {payment.public_id}")
    if payment.purpose == Payment.Purpose.COUNTER:  # a counter sale's QR (issue 8)
        return _counter_gateway_settled(payment, via=via)
    tab_outcome = _tab_payment_apply(payment)
    if tab_outcome is not None:
        return tab_outcome
    return _order_paid(payment, via=via)


def _close_open(payment: Payment, *, actor: User | None, role: str, note: str,
                status: str = Payment.Status.CLOSED, call_gateway: bool = True) -> None:
    """Close an open payment and release its wallet part. Payment row locked by caller
    (or freshly read inside the caller's transaction)."""
    if payment.status not in Payment.OPEN_STATES:
        return
    if call_gateway and not payment.is_wallet and payment.status == Payment.Status.PENDING:
        gateway = _gateway(payment.provider)
        gateway.trade_close(out_trade_no=payment.public_id)
        _message(payment.provider, "trade_close", "", payment=payment)
    source = payment.status
    payment.status = status
    payment.closed_at = timezone.now()
    payment.save(update_fields=["status", "closed_at", "updated_at"])
    _event(payment, source, actor=actor, role=role, note=note)
    part = (Payment.objects.select_for_update().filter(pk=payment.wallet_part_id).first()
            if payment.wallet_part_id else (payment if payment.is_wallet else None))
    if part is not None and part.is_wallet:
        if part is not payment and part.status in Payment.OPEN_STATES:
            part.status = Payment.Status.CLOSED
            part.closed_at = timezone.now()
            part.save(update_fields=["status", "closed_at", "updated_at"])
            _event(part, Payment.Status.PENDING, actor=actor, role=role, note="hold released")
        payer = User.objects.get(pk=part.payer_id)
        ledger.post(key=f"release:{part.public_id}", kind="wallet_release", payment=part,
                    actor=actor, role=role, entries=[
                        debit(HOLD, part.amount_fen),
                        credit(ledger.wallet_cash(payer), part.amount_fen - part.wallet_bonus_fen, payer),
                        credit(ledger.wallet_bonus(payer), part.wallet_bonus_fen, payer)])
    if payment.purpose == Payment.Purpose.COUNTER and not payment.is_wallet:
        _counter_gateway_closed(payment, actor=actor, role=role)


def payment_close(*, payment_id: str, actor: User) -> Payment:
    """The consumer gives up on an open payment (changes their mind on the cashier page):
    the gateway trade is closed and the wallet part released."""
    with transaction.atomic():
        payment = _lock_payment(payment_id)
        if payment.payer_id != actor.pk:
            raise PaymentNotFound(payment_id=payment_id)
        if payment.status not in Payment.OPEN_STATES or payment.is_wallet:
            raise PaymentNotClosable(status=payment.status)
        _close_open(payment, actor=actor, role="consumer", note="closed by the payer")
    return payment


def payment_get(*, payment_id: str, actor: User, sync: bool = True) -> Payment:
    """The payer's payment. An open one is first checked with the gateway (a verified
    query, at most every few seconds), so the cashier page learns of success without
    waiting for the notification — and never on the client's word."""
    payment = Payment.objects.select_related("order").filter(public_id=payment_id).first()
    if payment is None or payment.payer_id != actor.pk:
        raise PaymentNotFound(payment_id=payment_id)
    recently = timezone.now() - timedelta(seconds=3)
    if sync and payment.status == Payment.Status.PENDING and not payment.is_wallet and (
            payment.last_queried_at is None or payment.last_queried_at < recently):
        try:
            payment_sync(payment_id=payment.public_id)
        except GatewayUnavailable:
            logger.warning("query of %s failed; the payer sees it pending", payment_id)
        payment.refresh_from_db()
    return payment


def payment_sync(*, payment_id: str) -> str:
    """Ask the gateway about an open payment and apply its verified answer."""
    with transaction.atomic():
        payment = _lock_payment(payment_id)
        if payment.status != Payment.Status.PENDING or payment.is_wallet:
            return "not_open"
        gateway = _gateway(payment.provider)
        status = gateway.trade_query(out_trade_no=payment.public_id)
        payment.last_queried_at = timezone.now()
        payment.save(update_fields=["last_queried_at"])
        _message(payment.provider, "trade_query", status.raw, payment=payment)
        if status.state == "succeeded":
            if status.amount_fen != payment.amount_fen:
                logger.error("query of %s says %s fen, we asked %s", payment_id,
                             status.amount_fen, payment.amount_fen)
                return "amount_mismatch"
            return _capture(payment, via="query")
        if status.state in ("closed", "failed"):
            _close_open(payment, actor=None, role="system", note=f"gateway says {status.state}",
                        status=Payment.Status.FAILED if status.state == "failed" else Payment.Status.CLOSED,
                        call_gateway=False)
            return status.state
        order = payment.order
        stale = order is not None and (order.status != S.PENDING_PAYMENT
                                       or order.pay_deadline < timezone.now() - timedelta(minutes=2))
        if stale or (payment.purpose == Payment.Purpose.TOPUP
                     and payment.created_at < timezone.now() - settings.LINLI_UNPAID_ORDER_TTL) \
                or (payment.purpose == Payment.Purpose.COUNTER
                    and payment.created_at < timezone.now() - COUNTER_QR_TTL):
            _close_open(payment, actor=None, role="system", note="no longer payable")
            return "closed"
    return "pending"


# --- notifications ------------------------------------------------------------------------------

def payment_notification_handle(*, provider: str, body: bytes, headers: dict[str, str]) -> str:
    """Verify and apply a gateway notification. Idempotent and order-independent: a
    duplicate, or a stale "waiting"/"closed" arriving after success, changes nothing.
    Returns the outcome ("paid", "duplicate", "refunded_late", "ignored", "closed",
    "refund_succeeded", "refund_failed")."""
    gateway = _gateway(provider)
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
            if note.kind == "refund":
                outcome, payment = _refund_notification(provider, note)
            else:
                payment = _lock_payment(note.out_trade_no, provider=provider)
                if note.amount_fen != payment.amount_fen:
                    raise AmountMismatch(expected=payment.amount_fen, notified=note.amount_fen)
                outcome = _payment_notification_apply(payment, note)
            GatewayNotification.objects.create(provider=provider, notify_id=note.notify_id,
                                               payment=payment, body=raw, verified=True,
                                               outcome=outcome)
    except (PaymentNotFound, RefundNotFound, AmountMismatch) as exc:
        # Signed by the gateway yet unusable: keep it for reconciliation, then refuse.
        GatewayNotification.objects.create(provider=provider, notify_id=note.notify_id, body=raw,
                                           verified=True, outcome=exc.code)
        logger.error("gateway %s notification refused: %s %s", provider, exc.code, exc.details)
        raise
    return outcome


def _payment_notification_apply(payment: Payment, note: Notification) -> str:
    if payment.status in Payment.PAID_STATES:
        return "duplicate"
    if note.succeeded:
        if payment.status in (Payment.Status.CLOSED, Payment.Status.FAILED):
            # We closed it, yet the buyer managed to pay: take it, then give it back.
            payment.status = Payment.Status.PENDING
        return _capture(payment, via="notification")
    if payment.status in Payment.OPEN_STATES and note.state.upper() in ("TRADE_CLOSED", "CLOSED",
                                                                         "PAYERROR", "REVOKED"):
        _close_open(payment, actor=None, role="system", note=f"gateway says {note.state}",
                    call_gateway=False)
        return "closed"
    return "ignored"  # "waiting for the buyer" and the like: nothing to do


def _refund_notification(provider: str, note: Notification) -> tuple[str, Payment]:
    refund = _lock_refund(note.out_refund_no, provider=provider)
    if refund is None:
        raise RefundNotFound(refund_id=note.out_refund_no)
    if note.amount_fen != refund.amount_fen:
        # Alipay's refund notice carries the trade's refunded total so far, not this
        # refund's amount: do not guess, ask the gateway about this refund instead.
        refund_id = refund.public_id
        transaction.on_commit(lambda: _refund_sync_safely(refund_id))
        return "refund_query", refund.payment
    return _refund_result_apply(refund, "succeeded" if note.succeeded else "failed",
                                via="notification"), refund.payment


def _refund_sync_safely(refund_id: str) -> None:
    try:
        refund_sync(refund_id=refund_id)
    except GatewayUnavailable:
        logger.warning("refund %s query failed; payments_sync retries it", refund_id)


# --- refunds --------------------------------------------------------------------------------------

def _refund_payment(payment: Payment, amount_fen: int, *, batch: str, source: str, reason: str,
                    actor: User | None, role: str) -> Refund:
    """Refund `amount_fen` of one payment along its path. The payment row must be locked
    by the caller's transaction. The refund's money leaves clearing (or, for a top-up,
    the wallet) at once; a gateway part is `in flight` until the gateway confirms."""
    updated = Payment.objects.filter(
        pk=payment.pk, status__in=Payment.PAID_STATES,
        refunded_fen__lte=F("amount_fen") - amount_fen).update(refunded_fen=F("refunded_fen") + amount_fen)
    if not updated or amount_fen <= 0:
        raise RefundExceedsPaid(payment_id=payment.public_id, amount_fen=amount_fen)
    before = payment.refunded_fen
    payment.refresh_from_db(fields=["refunded_fen", "status"])
    source_status = payment.status
    payment.status = (Payment.Status.REFUNDED if payment.refunded_fen == payment.amount_fen
                      else Payment.Status.PARTIALLY_REFUNDED)
    payment.save(update_fields=["status", "updated_at"])
    if source_status != payment.status:
        _event(payment, source_status, actor=actor, role=role, note=f"refund {amount_fen}")
    refund = Refund.objects.create(payment=payment, amount_fen=amount_fen, batch=batch,
                                   source=source, reason=reason[:200], actor=actor, actor_role=role)
    _event(payment, "", actor=actor, role=role, refund=refund, note=reason)
    if payment.is_wallet:
        # Back into the wallet at once, principal and bonus in the proportion they were paid.
        bonus_back = (payment.refunded_fen * payment.wallet_bonus_fen // payment.amount_fen
                      - before * payment.wallet_bonus_fen // payment.amount_fen)
        refund.bonus_fen = bonus_back
        payer = User.objects.get(pk=payment.payer_id)
        ledger.post(key=f"refund:{refund.public_id}", kind="refund", payment=payment, refund=refund,
                    actor=actor, role=role, entries=[
                        debit(CLEARING, amount_fen),
                        credit(ledger.wallet_cash(payer), amount_fen - bonus_back, payer),
                        credit(ledger.wallet_bonus(payer), bonus_back, payer)])
        refund.status = Refund.Status.SUCCEEDED
        refund.succeeded_at = timezone.now()
        refund.save(update_fields=["bonus_fen", "status", "succeeded_at", "updated_at"])
        _event(payment, Refund.Status.PENDING, actor=None, role="system", refund=refund,
               note="back to the wallet")
        return refund
    source_account = CLEARING
    if payment.purpose == Payment.Purpose.TOPUP:
        source_account = ledger.wallet_cash(User.objects.get(pk=payment.payer_id))
    ledger.post(key=f"refund_out:{refund.public_id}", kind="refund_requested", payment=payment,
                refund=refund, actor=actor, role=role,
                entries=[debit(source_account, amount_fen), credit(IN_FLIGHT, amount_fen)])
    transaction.on_commit(lambda: _refund_send_safely(refund.public_id))
    return refund


def _refund_send_safely(refund_id: str) -> None:
    try:
        refund_send(refund_id=refund_id)
    except GatewayUnavailable:
        logger.warning("refund %s not sent yet; payments_sync retries it", refund_id)


def refund_send(*, refund_id: str) -> str:
    """Ask the gateway for a pending refund (again): providers dedupe by our refund id,
    so asking twice never refunds twice."""
    with transaction.atomic():
        refund = _lock_refund(refund_id)
        if refund is None:
            raise RefundNotFound(refund_id=refund_id)
        if refund.status != Refund.Status.PENDING:
            return refund.status
        payment = refund.payment
        gateway = _gateway(payment.provider)
        result: RefundResult = gateway.refund(
            out_trade_no=payment.public_id, out_refund_no=refund.public_id,
            amount_fen=refund.amount_fen, total_fen=payment.amount_fen, reason=refund.reason)
        _message(payment.provider, "refund", result.raw, payment=payment, refund=refund)
        refund.provider_refund_no = result.refund_no
        refund.last_queried_at = timezone.now()
        refund.save(update_fields=["provider_refund_no", "last_queried_at", "updated_at"])
        return _refund_result_apply(refund, result.state, via="refund answer")


def refund_sync(*, refund_id: str) -> str:
    """Ask the gateway how a pending refund went."""
    with transaction.atomic():
        refund = _lock_refund(refund_id)
        if refund is None:
            raise RefundNotFound(refund_id=refund_id)
        if refund.status != Refund.Status.PENDING:
            return refund.status
        if not refund.provider_refund_no:  # never reached the gateway: ask for it again
            transaction.on_commit(lambda: _refund_send_safely(refund_id))
            return "resent"
        payment = refund.payment
        result = _gateway(payment.provider).refund_query(out_trade_no=payment.public_id,
                                                         out_refund_no=refund.public_id)
        _message(payment.provider, "refund_query", result.raw, payment=payment, refund=refund)
        refund.last_queried_at = timezone.now()
        refund.save(update_fields=["last_queried_at", "updated_at"])
        return _refund_result_apply(refund, result.state, via="query")


def _refund_result_apply(refund: Refund, state: str, *, via: str) -> str:
    """The gateway's verified word on a refund (answer, query or notification). Refund
    row locked. Idempotent: a refund settles once."""
    if refund.status != Refund.Status.PENDING or state == "pending":
        return f"refund_{refund.status}"
    payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
    now = timezone.now()
    if state == "succeeded":
        ledger.post(key=f"refund_done:{refund.public_id}", kind="refund", payment=payment,
                    refund=refund, memo=via, entries=[debit(IN_FLIGHT, refund.amount_fen),
                                                      credit(ledger.gateway_account(payment.provider),
                                                             refund.amount_fen)])
        refund.status = Refund.Status.SUCCEEDED
        refund.succeeded_at = now
    else:
        # The gateway refused: the money goes back where it was and the payment may be
        # refunded again (an operator retries, or picks another way).
        back_to = CLEARING
        payer = User.objects.get(pk=payment.payer_id) if payment.payer_id else None  # counter QR: no payer
        if payment.purpose == Payment.Purpose.TOPUP:
            assert payer is not None
            back_to = ledger.wallet_cash(payer)
        ledger.post(key=f"refund_failed:{refund.public_id}", kind="refund_failed", payment=payment,
                    refund=refund, memo=via, entries=[debit(IN_FLIGHT, refund.amount_fen),
                                                      credit(back_to, refund.amount_fen, payer)])
        Payment.objects.filter(pk=payment.pk).update(refunded_fen=F("refunded_fen") - refund.amount_fen)
        payment.refresh_from_db(fields=["refunded_fen"])
        payment.status = (Payment.Status.SUCCEEDED if payment.refunded_fen == 0
                          else Payment.Status.PARTIALLY_REFUNDED)
        payment.save(update_fields=["status", "updated_at"])
        refund.status = Refund.Status.FAILED
        refund.failed_at = now
    refund.save(update_fields=["status", "succeeded_at", "failed_at", "updated_at"])
    _event(payment, Refund.Status.PENDING, actor=None, role="system", refund=refund, note=via)
    _order_refund_maybe_settled(payment)
    return f"refund_{refund.status}"


def _order_refund_maybe_settled(payment: Payment) -> None:
    """A cancelled paid order waits in `refunding` until none of its refunds is pending."""
    order = payment.order
    if order is None or order.status != S.REFUNDING:
        return
    if not Refund.objects.filter(payment__order=order, status=Refund.Status.PENDING).exists():
        order_refund_settled(order=order)


def payment_refund_order(*, order: Order, actor: User | None, reason: str) -> list[Refund]:
    """Refund what is left of every successful payment of a cancelled order (the orders
    app calls this inside its transaction when a paid order is cancelled or rejected)."""
    refunds = []
    tab_payment_id = order.tab.payment_id if order.tab_id else ""  # fulfilment modes
    if tab_payment_id:
        refunds.extend(_tab_share_refund(order, tab_payment_id, actor=actor, reason=reason))
    batch = new_public_id("rfb")
    role = ("system" if actor is None else "consumer" if actor.pk == order.consumer_id
            else "operator" if actor.is_staff else "merchant")
    for payment in (order.payments.select_for_update().filter(status__in=Payment.PAID_STATES)
                    .exclude(public_id=tab_payment_id).order_by("-id")):
        if payment.refundable_fen > 0:
            refunds.append(_refund_payment(payment, payment.refundable_fen, batch=batch,
                                           source=Refund.Source.CANCEL, reason=reason,
                                           actor=actor, role=role))
    if refunds and role in ("merchant", "operator"):  # a merchant's reject or an operator's cancel refunds
        audit(actor, "refund.order_cancel", "order", order.public_id, role=role, batch=batch,
              amount_fen=sum(r.amount_fen for r in refunds), reason=reason)
    if order.status == S.REFUNDING and not Refund.objects.filter(
            payment__order=order, status=Refund.Status.PENDING).exists():
        order_refund_settled(order=order)
    return refunds


@dataclass(frozen=True)
class RefundPick:
    line: int  # 1-based position of the item on the order
    quantity: int


def refund_create(*, order_id: str, actor: User, role: str, reason: str,
                  amount_fen: int | None = None, items: list[RefundPick] | None = None,
                  idempotency_key: str = "", source: str = Refund.Source.OPERATOR) -> list[Refund]:
    """A partial or full refund of a paid order, by amount or by items, split over its
    payments back along their paths (gateways first, then the wallet). For operators
    (a manual refund, audited with its reason) and for after-sales (issue 10, as
    `system`). The same idempotency key with the same request returns the first refunds;
    with another request it is refused."""
    if role not in REFUND_ROLES:
        raise PermissionDenied(action="refund")
    if not reason.strip():
        raise InvalidInput(field="reason", message=_("A reason is required."))
    if (amount_fen is None) == (not items):
        raise InvalidInput(field="amount_fen", message=_("Give either an amount or items to refund."))
    request_hash = hashlib.sha256(json.dumps(
        [amount_fen, sorted((p.line, p.quantity) for p in items or [])]).encode()).hexdigest()
    with transaction.atomic():
        order = Order.objects.select_for_update(no_key=True).filter(public_id=order_id).first()
        if order is None:
            raise OrderNotFound(order_id=order_id)
        if idempotency_key:
            seen = RefundRequestKey.objects.filter(order=order, key=idempotency_key).first()
            if seen is not None:
                if seen.request_hash != request_hash:
                    raise IdempotencyKeyReused()
                return list(Refund.objects.filter(batch=seen.batch).order_by("id"))
        payments = list(order.payments.select_for_update().filter(status__in=Payment.PAID_STATES)
                        .order_by("id"))
        paid_fen = sum(p.amount_fen for p in payments)
        refunded_fen = sum(p.refunded_fen for p in payments)
        left = paid_fen - refunded_fen
        if left <= 0:
            raise NothingToRefund()
        order_items = list(OrderItem.objects.filter(order=order).order_by("id"))
        picked: list[tuple[OrderItem, int, int]] = []
        if items:
            refunded_qty = dict(RefundItem.objects.filter(order_item__order=order).exclude(
                refund__status=Refund.Status.FAILED).values("order_item_id")
                .annotate(q=Sum("quantity")).values_list("order_item_id", "q"))
            lines = [money.ItemLine(line=i + 1, quantity=item.quantity, amount_fen=item.amount_fen,
                                    refunded_quantity=refunded_qty.get(item.pk, 0))
                     for i, item in enumerate(order_items)]
            try:
                amount_fen = money.item_refund_amount(
                    lines=lines, picks=[(p.line, p.quantity) for p in items],
                    goods_fen=order.items_fen, paid_goods_fen=paid_fen - order.delivery_fee_fen,
                    total_fen=paid_fen, refunded_fen=refunded_fen)
            except ValueError as exc:
                raise InvalidRefundItems(detail=str(exc)) from exc
            for pick in items:  # what each line was worth before order-level discounts
                item = order_items[pick.line - 1]
                picked.append((item, pick.quantity, item.amount_fen * pick.quantity // item.quantity))
            if amount_fen <= 0:
                raise NothingToRefund()
        assert amount_fen is not None
        _check_amount(amount_fen, maximum=10**9)
        if amount_fen > left:
            raise RefundExceedsPaid(amount_fen=amount_fen, refundable_fen=left)
        split = money.refund_split(amount_fen, [
            money.Paid(ref=p.public_id, is_wallet=p.is_wallet, refundable_fen=p.refundable_fen)
            for p in payments])
        by_ref = {p.public_id: p for p in payments}
        batch = new_public_id("rfb")
        refunds = [_refund_payment(by_ref[ref], part, batch=batch, source=source, reason=reason,
                                   actor=actor, role=role) for ref, part in split]
        for item, quantity, share in picked:
            RefundItem.objects.create(refund=refunds[0], order_item=item, quantity=quantity,
                                      amount_fen=share)
        audit(actor, "refund.create", "order", order.public_id, role=role, batch=batch, amount_fen=amount_fen, reason=reason)  # noqa: E501
        if idempotency_key:
            try:
                with transaction.atomic():
                    RefundRequestKey.objects.create(order=order, key=idempotency_key,
                                                    request_hash=request_hash, batch=batch)
            except IntegrityError as exc:  # the order row lock makes this unreachable
                raise IdempotencyKeyReused() from exc
    return refunds


# --- the wallet: top-up and withdrawal ---------------------------------------------------------

def topup_bonus_for(amount_fen: int) -> int:
    now = timezone.now()
    rules = TopupBonusRule.objects.filter(is_active=True).filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=now)).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now)).values_list("threshold_fen", "bonus_fen")
    return money.topup_bonus(amount_fen, list(rules))


def topup_create(*, user: User, amount_fen: int, provider: str = "sandbox",
                 channel: str = "web", return_url: str = "", client_ip: str = "") -> WalletTopup:
    """Top the wallet up through a gateway. The bonus (充100送10) is fixed now and
    credited with the principal when the gateway confirms payment."""
    _check_amount(amount_fen, maximum=MAX_TOPUP_FEN)
    if provider == Payment.WALLET:
        raise UnknownProvider(provider=provider)
    gateway = _gateway(provider)
    if channel not in ("web", "h5", "app", "qr"):
        raise InvalidInput(field="channel")
    bonus = topup_bonus_for(amount_fen)
    with transaction.atomic():
        balance = wallet_balance(user, for_update=True)
        if balance.total_fen + amount_fen + bonus > MAX_WALLET_FEN:
            raise WalletLimit(balance_fen=balance.total_fen, maximum_fen=MAX_WALLET_FEN)
        payment = Payment.objects.create(payer=user, purpose=Payment.Purpose.TOPUP,
                                         provider=provider, channel=channel,
                                         amount_fen=amount_fen, status=Payment.Status.CREATED)
        topup = WalletTopup.objects.create(user=user, amount_fen=amount_fen, bonus_fen=bonus,
                                           payment=payment)
        _event(payment, "", actor=user, role="consumer", note=f"top-up {topup.public_id}")
        _trade_open(payment, gateway, subject=f"Linli wallet top-up {topup.public_id}",
                    return_url=return_url, client_ip=client_ip)
    return topup


def _topup_succeeded(payment: Payment) -> str:
    topup = WalletTopup.objects.select_for_update().get(payment=payment)
    payer = User.objects.get(pk=payment.payer_id)
    ledger.post(key=f"capture:{payment.public_id}", kind="topup", payment=payment, entries=[
        debit(ledger.gateway_account(payment.provider), payment.amount_fen),
        credit(ledger.wallet_cash(payer), payment.amount_fen, payer),
        debit(TOPUP_BONUS_EXPENSE, topup.bonus_fen),
        credit(ledger.wallet_bonus(payer), topup.bonus_fen, payer)])
    topup.status = WalletTopup.Status.SUCCEEDED
    topup.succeeded_at = timezone.now()
    topup.save(update_fields=["status", "succeeded_at"])
    return "topped_up"


def withdrawal_create(*, user: User, amount_fen: int, idempotency_key: str = "") -> WalletWithdrawal:
    """Give principal back: refunds of the user's top-ups (newest first) along their
    gateways; the bonus is forfeited in proportion (withdrawing everything forfeits all
    of it). Only principal that came from a top-up that can still be refunded leaves."""
    _check_amount(amount_fen, maximum=MAX_WALLET_FEN)
    key = idempotency_key.strip()[:100] or None
    with transaction.atomic():
        if key is not None:  # a retried withdrawal answers the first one
            earlier = WalletWithdrawal.objects.filter(user=user, idempotency_key=key).first()
            if earlier is not None:
                if earlier.amount_fen != amount_fen:
                    raise IdempotencyKeyReused()
                return earlier
        # Payments before the wallet: the order a top-up's capture takes them in.
        topups = list(Payment.objects.select_for_update().filter(
            payer=user, purpose=Payment.Purpose.TOPUP, status__in=Payment.PAID_STATES).order_by("-id"))
        balance = wallet_balance(user, for_update=True)
        if amount_fen > balance.cash_fen:
            raise InsufficientBalance(balance_fen=balance.cash_fen, needed_fen=amount_fen)
        refundable = sum(p.refundable_fen for p in topups)
        if amount_fen > refundable:
            raise RefundExceedsPaid(amount_fen=amount_fen, refundable_fen=refundable)
        forfeit = money.withdrawal_forfeit(amount_fen, cash_fen=balance.cash_fen,
                                           bonus_fen=balance.bonus_fen)
        batch = new_public_id("rfb")
        withdrawal = WalletWithdrawal.objects.create(user=user, amount_fen=amount_fen,
                                                     bonus_forfeited_fen=forfeit, batch=batch,
                                                     idempotency_key=key)
        if forfeit:
            ledger.post(key=f"forfeit:{withdrawal.public_id}", kind="bonus_forfeit", actor=user,
                        role="consumer", entries=[debit(ledger.wallet_bonus(user), forfeit, user),
                                                  credit(TOPUP_BONUS_EXPENSE, forfeit)])
        left = amount_fen
        for payment in topups:
            take = min(left, payment.refundable_fen)
            if take:
                _refund_payment(payment, take, batch=batch, source=Refund.Source.WITHDRAWAL,
                                reason=f"withdrawal {withdrawal.public_id}", actor=user,
                                role="consumer")
                left -= take
            if not left:
                break
    return withdrawal


def wallet_entries(*, user: User, limit: int = 50, before_id: int | None = None) -> list[dict]:
    """The wallet's history, newest first: one row per ledger transaction that touched
    it, with the signed change and the balance after."""
    from .models import Posting

    codes = [ledger.wallet_cash(user), ledger.wallet_bonus(user)]
    postings: QuerySet[Posting] = (Posting.objects.filter(account__code__in=codes)
                                   .select_related("transaction", "account").order_by("-id"))
    if before_id is not None:
        postings = postings.filter(id__lt=before_id)
    rows: dict[int, dict] = {}
    for posting in postings[: limit * 2]:
        txn = posting.transaction
        row = rows.setdefault(txn.pk, {"id": txn.public_id, "kind": txn.kind, "cash_fen": 0,
                                       "bonus_fen": 0, "at": txn.created_at, "cursor": posting.pk})
        # Credit-normal: a credit (negative posting) is money in.
        row["bonus_fen" if posting.account.code.endswith(":bonus") else "cash_fen"] -= posting.amount_fen
        row["cursor"] = min(row["cursor"], posting.pk)
    return list(rows.values())[:limit]


# --- the counter (POS, issue 8): wallet payments by member code -----------------------------

def counter_wallet_charge(*, payer: User, amount_fen: int, reference: str, actor: User,
                          idempotency_key: str = "") -> Payment:
    """Take a counter sale's amount from the member's wallet (付款码): the POS has already
    identified the member by their one-time member code. Principal and bonus in
    proportion, straight into clearing, like an online wallet payment. Charging the same
    `reference` again returns the first payment (a POS retrying after a timeout never
    charges twice). `insufficient_balance` if the wallet cannot cover it."""
    _check_amount(amount_fen, maximum=MAX_WALLET_FEN)
    if not reference or len(reference) > 64:
        raise InvalidInput(field="reference")
    with transaction.atomic():
        balance = wallet_balance(payer, for_update=True)
        existing = Payment.objects.filter(purpose=Payment.Purpose.COUNTER, reference=reference,
                                          payer=payer).exclude(status=Payment.Status.CLOSED).first()
        if existing is not None:
            if existing.amount_fen != amount_fen:
                raise IdempotencyKeyReused(reference=reference)
            return existing
        if balance.total_fen < amount_fen:
            raise InsufficientBalance(balance_fen=balance.total_fen, needed_fen=amount_fen)
        payment = _wallet_payment(None, payer, amount_fen, balance, hold=False)
        payment.purpose = Payment.Purpose.COUNTER
        payment.reference = reference
        payment.save(update_fields=["purpose", "reference", "updated_at"])
        _event(payment, "", actor=actor, role="merchant", note=f"counter sale {reference}")
    return payment


def counter_wallet_refund(*, payment_id: str, amount_fen: int, actor: User, reason: str,
                          batch: str = "") -> Refund:
    """A return at the counter: give (part of) a counter payment back, a wallet payment
    to the wallet (principal and bonus in the proportion they were paid), a gateway QR
    payment along the gateway (`counter_gateway_open`). Never above what is left.
    The same `batch` (the POS's return id) refunds once."""
    _check_amount(amount_fen, maximum=MAX_WALLET_FEN)
    with transaction.atomic():
        payment = _lock_payment(payment_id)
        if payment.purpose != Payment.Purpose.COUNTER:
            raise PaymentNotFound(payment_id=payment_id)
        if batch:
            done = Refund.objects.filter(payment=payment, batch=batch).first()
            if done is not None:
                return done
        return _refund_payment(payment, amount_fen, batch=batch or new_public_id("rfb"),
                               source=Refund.Source.CANCEL, reason=reason, actor=actor,
                               role="merchant")


# --- the counter (POS, issue 8): gateway QR payments -----------------------------------------
# The counter shows the QR of a gateway trade (channel "qr"); the customer scans it with the
# gateway's app. The sale waits (`pos`: stock held, nothing earned) until a verified
# notification or query says the trade succeeded — never the till's word. Then, inside the
# payment's transaction with the payment row locked, `counter_payment_changed` is sent
# (state "succeeded" or "closed") and the POS settles its sale in the same transaction. A
# receiver answering False to "succeeded" no longer wants the money (the sale was voided
# meanwhile): it is refunded at once, like an order paid too late.

# sender=Payment, payment=<Payment>, state="succeeded"|"closed" (closed: also actor=, role=)
counter_payment_changed = Signal()
COUNTER_QR_TTL = timedelta(minutes=5)  # an unpaid counter QR is closed after this


def counter_gateway_open(*, amount_fen: int, reference: str, subject: str, actor: User,
                         payer: User | None = None, provider: str = "sandbox") -> Payment:
    """Open a gateway trade for a counter sale (`reference`: the sale's id) and answer the
    payment with its `qr_code`. Opening the same reference again returns the open payment.
    Runs inside the caller's transaction: a gateway failure rolls the sale back too."""
    _check_amount(amount_fen, maximum=MAX_WALLET_FEN)
    if not reference or len(reference) > 64:
        raise InvalidInput(field="reference")
    gateway = _gateway(provider)
    with transaction.atomic():
        existing = Payment.objects.filter(purpose=Payment.Purpose.COUNTER, reference=reference,
                                          status__in=Payment.OPEN_STATES).exclude(provider=Payment.WALLET).first()
        if existing is not None:
            if existing.amount_fen != amount_fen:
                raise IdempotencyKeyReused(reference=reference)
            return existing
        payment = Payment.objects.create(purpose=Payment.Purpose.COUNTER, reference=reference, payer=payer,
                                         provider=provider, channel="qr", amount_fen=amount_fen,
                                         status=Payment.Status.CREATED)
        _event(payment, "", actor=actor, role="merchant", note=f"counter sale {reference}")
        _trade_open(payment, gateway, subject=subject, return_url="")
    return payment


def counter_gateway_close(*, payment_id: str, actor: User) -> Payment:
    """The cashier gives up on a counter QR: ask the gateway first (a trade paid meanwhile
    stays paid), then close the trade if it is still open."""
    try:
        payment_sync(payment_id=payment_id)
    except GatewayUnavailable:
        logger.warning("query of %s before closing failed; closing anyway", payment_id)
    with transaction.atomic():
        payment = _lock_payment(payment_id)
        if payment.purpose != Payment.Purpose.COUNTER or payment.is_wallet:
            raise PaymentNotFound(payment_id=payment_id)
        _close_open(payment, actor=actor, role="merchant", note="closed at the counter")
    return payment


def _counter_gateway_settled(payment: Payment, *, via: str) -> str:
    answers = counter_payment_changed.send(sender=Payment, payment=payment, state="succeeded")
    if answers and all(taken for _receiver, taken in answers):
        return "paid"
    if payment.refundable_fen:
        _refund_payment(payment, payment.refundable_fen, batch=new_public_id("rfb"),
                        source=Refund.Source.LATE, reason="counter sale no longer payable",
                        actor=None, role="system")
    return "refunded_late"


def _counter_gateway_closed(payment: Payment, *, actor: User | None, role: str) -> None:
    counter_payment_changed.send(sender=Payment, payment=payment, state="closed", actor=actor, role=role)


# --- the periodic job ----------------------------------------------------------------------

def payments_sync(*, now=None, older_than_s: int = 60, batch: int = 200) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Ask the gateways about payments whose notification never came and refunds still
    pending; close payments of orders that can no longer be paid (their wallet holds go
    back). Each item in its own transaction; one failing gateway does not stop the rest."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=older_than_s)
    counts = {"payments": 0, "refunds": 0, "errors": 0}
    due_payments = (Payment.objects.filter(status=Payment.Status.PENDING, created_at__lt=cutoff)
                    .exclude(provider=Payment.WALLET)
                    .filter(Q(last_queried_at__isnull=True) | Q(last_queried_at__lt=cutoff))
                    .order_by("created_at").values_list("public_id", flat=True)[:batch])
    due_refunds = (Refund.objects.filter(status=Refund.Status.PENDING, created_at__lt=cutoff)
                   .filter(Q(last_queried_at__isnull=True) | Q(last_queried_at__lt=cutoff))
                   .order_by("created_at").values_list("public_id", flat=True)[:batch])
    syncs: tuple[tuple[str, type[Payment] | type[Refund], Any, Callable[[str], str]], ...] = (
        ("payments", Payment, due_payments, lambda i: payment_sync(payment_id=i)),
        ("refunds", Refund, due_refunds, lambda i: refund_sync(refund_id=i)))
    for kind, model, ids, sync in syncs:
        for public_id in list(ids):
            try:
                sync(public_id)
                counts[kind] += 1
            except (GatewayUnavailable, DomainError):
                counts["errors"] += 1
                model.objects.filter(public_id=public_id).update(last_queried_at=now)
                logger.warning("sync of %s %s failed", kind, public_id, exc_info=True)
    return counts


def payments_close_for_order(*, order_id: str) -> int:
    """An unpaid order was cancelled: close its open payments now (gateway trade closed,
    wallet part back in the wallet) instead of waiting for the periodic job."""
    closed = 0
    with transaction.atomic():
        _lock_order_of(Q(order__public_id=order_id))
        for payment in Payment.objects.select_for_update(of=("self",)).filter(
                order__public_id=order_id, status__in=Payment.OPEN_STATES,
                gateway_part__isnull=True).order_by("id"):
            try:
                with transaction.atomic():
                    _close_open(payment, actor=None, role="system", note="order cancelled")
                closed += 1
            except GatewayUnavailable:
                logger.warning("closing %s failed; payments_sync retries", payment.public_id)
    return closed


# --- fulfilment modes (issue 5): one payment for a dine-in table's whole tab ----------------
# The payment is attached to the tab's first unpaid order (for the admin's order link) for
# the sum of the tab's unpaid orders; the tab records its id (TableTab.payment_id). When it
# succeeds, every unpaid order on the tab moves to `paid`; the share of an order cancelled
# meanwhile is refunded at once, and an order cancelled after payment is refunded its own
# share (never the whole tab). See docs/orders.md "Fulfilment modes".

def payment_create_for_tab(*, tab_id: str, consumer: User, provider: str = "sandbox") -> Payment:
    """Ask for the bill: one payment for every unpaid order on the tab (any diner who ordered
    on it may pay). Asking again returns the same open payment."""
    from linli.orders.fulfilment import tab_bill, tab_payment_opened

    gateway = _gateway(provider) if provider != Payment.WALLET else None
    if gateway is None:
        raise UnknownProvider(provider=provider)
    with transaction.atomic():
        tab, orders = tab_bill(tab_id=tab_id, consumer=consumer, now=timezone.now())
        if tab.payment_id:
            open_payment = Payment.objects.filter(public_id=tab.payment_id,
                                                  status__in=Payment.OPEN_STATES).first()
            if open_payment is not None:
                return open_payment
        amount = sum(order.total_fen for order in orders)
        payment = Payment.objects.create(order=orders[0], payer=consumer, provider=provider,
                                         amount_fen=amount, status=Payment.Status.CREATED)
        _event(payment, "", actor=consumer, role="consumer", note=f"created for tab {tab.public_id}")
        _trade_open(payment, gateway, subject=f"{orders[0].store.name} {tab.public_id}",
                    return_url="")
        tab_payment_opened(tab=tab, payment_id=payment.public_id, amount_fen=amount)
    return payment


def _tab_payment_apply(payment: Payment) -> str | None:
    """None when the payment is not a tab's; else settle the tab (see above)."""
    from linli.orders.fulfilment import tab_settle

    settled = tab_settle(payment_id=payment.public_id, amount_fen=payment.amount_fen)
    if settled is None:
        return None
    if settled.unpayable_fen:
        _refund_payment(payment, settled.unpayable_fen, batch=new_public_id("rfb"),
                        source=Refund.Source.LATE, reason="tab order no longer payable",
                        actor=None, role="system")
    return "paid" if settled.paid else "refunded_late"


def _tab_share_refund(order: Order, tab_payment_id: str, *, actor: User | None,
                      reason: str) -> list[Refund]:
    """Refund a cancelled tab order's own share of the tab's payment, if that payment paid
    it (an order paid on its own is refunded from its own payment)."""
    if order.paid_at is None or order.payments.filter(status__in=Payment.PAID_STATES).exclude(
            public_id=tab_payment_id).exists():
        return []
    payment = (Payment.objects.select_for_update()
               .filter(public_id=tab_payment_id, status__in=Payment.PAID_STATES).first())
    if payment is None:
        return []
    share = min(order.total_fen, payment.refundable_fen)
    return [_refund_payment(payment, share, batch=new_public_id("rfb"), source=Refund.Source.CANCEL,
                            reason=reason, actor=actor, role="system")] if share > 0 else []
