"""After-sales request use cases (docs/aftersales.md): the consumer asks (refund only, return
and refund, re-delivery), the store agrees, rejects or proposes a partial refund, the SLA
timer agrees for a silent store, a refused consumer escalates, an operator arbitrates.

Each use case is one transaction that locks the request row, finds its step in
`states.REQUEST_MACHINE`, writes an `AfterSalesEvent`, and notifies the other side on
commit. Money moves only through `payments.services.refund_create` (source `aftersales`,
idempotency key `afs:<request id>`), so a request refunds at most once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.models import is_platform_staff as is_operator  # the one definition
from linli.core.audit import audit
from linli.core.errors import DomainError, IdempotencyKeyReused, PermissionDenied
from linli.merchants import roles
from linli.merchants.models import MerchantMember
from linli.merchants.selectors import merchant_role_for_store, role_require
from linli.merchants.uploads import image_check
from linli.notifications.services import notify
from linli.orders.fulfilment import BOOKING, VOUCHER
from linli.orders.models import Order
from linli.payments.models import Refund
from linli.payments.services import RefundPick, refund_create

from . import errors, selectors
from .models import AfterSalesEvent, AfterSalesPhoto, AfterSalesRequest
from .states import AS, REQUEST_MACHINE, action_allowed_for_kind

logger = logging.getLogger(__name__)

MAX_PHOTOS = 9
MAX_TEXT = 500
MAX_REASON = 200
ELIGIBLE_STATUSES = (Order.Status.DELIVERED, Order.Status.COMPLETED)
Kind = AfterSalesRequest.Kind


def clean_text(value: str | None) -> str:
    """Trimmed, without NUL characters (PostgreSQL text cannot hold them; multipart form
    bodies are not screened by the NUL middleware)."""
    return (value or "").replace("\x00", "").strip()


# --- photos ---------------------------------------------------------------------------------------

def photo_upload(*, user: User, upload: UploadedFile) -> AfterSalesPhoto:
    """Store one photo for a request the user is writing; the bytes must decode as a JPEG,
    PNG or WebP image (the same check as reviews and menus)."""
    checked = image_check(upload=upload)
    photo = AfterSalesPhoto(uploader=user, width=checked.width, height=checked.height)
    photo.image.save(checked.storage_name("aph"), checked.file(), save=False)
    photo.save()
    return photo


def _photos_take(*, user: User, photo_ids: Sequence[str]) -> list[AfterSalesPhoto]:
    if len(photo_ids) > MAX_PHOTOS:
        raise errors.TooManyPhotos(count=len(photo_ids), max=MAX_PHOTOS)
    if len(set(photo_ids)) != len(photo_ids):
        raise errors.UnknownPhoto(reason="duplicate")
    photos = {p.public_id: p for p in AfterSalesPhoto.objects.select_for_update().filter(
        public_id__in=list(photo_ids), uploader=user, request__isnull=True)}
    missing = [pid for pid in photo_ids if pid not in photos]
    if missing:
        raise errors.UnknownPhoto(photo_ids=missing)
    return [photos[pid] for pid in photo_ids]


# --- the order ------------------------------------------------------------------------------------

def order_finished_at(order: Order) -> datetime:
    """When the window starts: completion, else delivery (a delivered order not yet confirmed)."""
    return order.completed_at or order.delivered_at or order.updated_at


def window_open(order: Order, *, now: datetime) -> bool:
    return now <= order_finished_at(order) + timedelta(days=settings.LINLI_AFTERSALES_WINDOW_DAYS)


def order_eligible(*, user: User, order_id: str, now: datetime) -> Order:
    order = (Order.objects.select_related("store").filter(public_id=order_id, consumer=user).first()
             if "\x00" not in order_id else None)
    if order is None:
        raise errors.AfterSalesOrderNotFound(order_id=order_id)
    # vouchers refund unused uses, bookings their deposit by their own rules: not after-sales
    if order.status not in ELIGIBLE_STATUSES or order.fulfilment in (VOUCHER, BOOKING) or order.paid_at is None:
        raise errors.OrderNotEligible(order_id=order_id, status=order.status)
    if not window_open(order, now=now):
        raise errors.WindowClosed(days=settings.LINLI_AFTERSALES_WINDOW_DAYS)
    return order


# --- create ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemPick:
    line: int  # 1-based position on the order
    quantity: int


def _request_hash(**fields: Any) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def request_create(*, consumer: User, order_id: str, kind: str, reason: str, description: str = "",
                   items: Sequence[ItemPick] = (), amount_fen: int | None = None,
                   photo_ids: Sequence[str] = (), idempotency_key: str = "",
                   now: datetime | None = None) -> AfterSalesRequest:
    """The buyer asks, within the window, on a paid order that was delivered or collected.
    A refund is never above what was paid for the chosen items (or the whole order) less
    what was already refunded; no amount means that whole cap. The same idempotency key
    with the same body returns the first request."""
    now = now or timezone.now()
    description = clean_text(description)
    if kind not in Kind.values or reason not in AfterSalesRequest.Reason.values:
        raise errors.InvalidKind(kind=kind, reason=reason)
    if len(description) > MAX_TEXT:
        raise errors.TextTooLong(field="description", max_length=MAX_TEXT)
    idempotency_key = idempotency_key.replace("\x00", "")
    picks = [(p.line, p.quantity) for p in items]
    request_hash = _request_hash(order=order_id, kind=kind, reason=reason, description=description,
                                 items=sorted(picks), amount=amount_fen, photos=list(photo_ids))
    if idempotency_key:
        seen = AfterSalesRequest.objects.filter(consumer=consumer, idempotency_key=idempotency_key).first()
        if seen is not None:
            if seen.request_hash != request_hash:
                raise IdempotencyKeyReused()
            return seen
    order = order_eligible(user=consumer, order_id=order_id, now=now)
    if any(q <= 0 for _line, q in picks) or len({line for line, _q in picks}) != len(picks):
        raise errors.InvalidItems(items=picks)
    refundable = selectors.order_refundable(order=order, items=picks)
    if kind == Kind.REDELIVERY:
        if amount_fen:
            raise errors.InvalidAmount(field="amount_fen", reason="redelivery_has_no_amount")
        amount = 0
    else:
        if refundable.cap_fen <= 0:
            raise errors.NothingLeftToRefund(order_id=order_id)
        if amount_fen is not None and (isinstance(amount_fen, bool) or amount_fen <= 0):
            raise errors.InvalidAmount(field="amount_fen", value=amount_fen)
        amount = refundable.cap_fen if amount_fen is None else amount_fen
        if amount > refundable.cap_fen:
            raise errors.AmountExceedsPaid(amount_fen=amount, max_fen=refundable.cap_fen)
    due = now + timedelta(hours=settings.LINLI_AFTERSALES_MERCHANT_SLA_HOURS)
    with transaction.atomic():
        photos = _photos_take(user=consumer, photo_ids=photo_ids)
        try:
            with transaction.atomic():
                req = AfterSalesRequest.objects.create(
                    order=order, store=order.store, consumer=consumer, kind=kind, reason=reason,
                    description=description, items=[{"line": line, "quantity": q} for line, q in picks],
                    amount_fen=amount, cap_fen=max(refundable.cap_fen, amount), merchant_due_at=due,
                    idempotency_key=idempotency_key, request_hash=request_hash, photo_count=len(photos))
        except IntegrityError:
            if idempotency_key and AfterSalesRequest.objects.filter(
                    consumer=consumer, idempotency_key=idempotency_key).exists():
                raise IdempotencyKeyReused() from None
            raise errors.AlreadyInProgress(order_id=order_id) from None
        for sort, photo in enumerate(photos):
            photo.request, photo.sort = req, sort
            photo.save(update_fields=["request", "sort"])
        _event(req, "submit", "", actor=consumer, role="consumer", note=description, amount_fen=amount or None)
        _notify_store(req, _("New after-sales request"),
                      _("Order %(order)s: please answer within %(hours)s hours.")
                      % {"order": order.public_id, "hours": settings.LINLI_AFTERSALES_MERCHANT_SLA_HOURS})
    return req


# --- steps ----------------------------------------------------------------------------------------

def _event(req: AfterSalesRequest, action: str, from_status: str, *, actor: User | None, role: str,
           note: str = "", amount_fen: int | None = None) -> None:
    AfterSalesEvent.objects.create(request=req, action=action, from_status=from_status, to_status=req.status,
                                   actor=actor, actor_role=role, note=note[:MAX_TEXT], amount_fen=amount_fen)


def _step(req: AfterSalesRequest, action: str, *, actor: User | None, role: str, note: str = "",
          amount_fen: int | None = None, now: datetime | None = None) -> None:
    """Move the locked request along the table (or refuse with 409), and record it."""
    _can(req, action, role)
    step = REQUEST_MACHINE.find(action=action, source=req.status)
    assert step is not None
    before = req.status
    req.status = step.target
    if step.target in AS.FINAL:
        req.closed_at = now or timezone.now()
    req.save()
    _event(req, action, before, actor=actor, role=role, note=note, amount_fen=amount_fen)


def _can(req: AfterSalesRequest, action: str, role: str) -> None:
    """409 unless the table allows `action` by `role` from the request's state and kind."""
    step = REQUEST_MACHINE.find(action=action, source=req.status)
    if step is None or role not in step.roles or not action_allowed_for_kind(action, req.kind):
        raise errors.NotAllowedNow(action=action, status=req.status, kind=req.kind)


def _locked(request_id: str) -> AfterSalesRequest:
    req = (AfterSalesRequest.objects.select_for_update().filter(public_id=request_id).first()
           if "\x00" not in request_id else None)
    if req is None:
        raise errors.RequestNotFound(request_id=request_id)
    return req


def _locked_for_consumer(consumer: User, request_id: str) -> AfterSalesRequest:
    req = _locked(request_id)
    if req.consumer_id != consumer.pk:
        raise errors.RequestNotFound(request_id=request_id)
    return req


def _locked_for_merchant(actor: User, request_id: str) -> AfterSalesRequest:
    req = _locked(request_id)
    try:
        role = merchant_role_for_store(user=actor, store=req.store)
    except PermissionDenied:
        raise errors.RequestNotFound(request_id=request_id) from None
    role_require(role=role, permission=roles.ORDERS_ACT)
    return req


def _refund(req: AfterSalesRequest, *, actor: User | None, role: str) -> list[Refund]:
    """Refund `agreed_fen` through payments (at most what is left), by items when it is the
    items' whole value (so the units are marked refunded), else by amount."""
    picks = [(i["line"], i["quantity"]) for i in req.items]
    refundable = selectors.order_refundable(order=req.order, items=picks) if picks else None
    left = (refundable or selectors.order_refundable(order=req.order)).left_fen
    amount = min(req.agreed_fen or 0, left)
    if amount <= 0:
        raise errors.NothingLeftToRefund(order_id=req.order.public_id)
    reason = f"after-sales {req.public_id} ({req.reason})"
    by_items = refundable is not None and refundable.cap_fen <= amount
    refunds = refund_create(
        order_id=req.order.public_id, actor=cast(User, actor), role=role, reason=reason,
        amount_fen=None if by_items else amount,
        items=[RefundPick(line=line, quantity=q) for line, q in picks] if by_items else None,
        idempotency_key=f"afs:{req.public_id}", source=Refund.Source.AFTERSALES)
    req.refunded_fen = sum(r.amount_fen for r in refunds)
    req.refund_ids = [r.public_id for r in refunds]
    return refunds


def _agree(req: AfterSalesRequest, *, action: str, actor: User | None, role: str, amount_fen: int,
           note: str = "") -> None:
    """Agreed (by the store, the timer or the consumer taking a partial offer): a refund-only
    request is refunded at once; a return waits for the goods; a re-delivery for the store."""
    req.agreed_fen = amount_fen if req.kind != Kind.REDELIVERY else None
    _step(req, action, actor=actor, role=role, note=note, amount_fen=req.agreed_fen)
    if req.kind == Kind.REFUND_ONLY:
        _refund(req, actor=actor, role="system")
        _step(req, "refund", actor=None, role="system", amount_fen=req.refunded_fen,
              note=" ".join(req.refund_ids))


# --- the store ------------------------------------------------------------------------------------

def merchant_agree(*, actor: User, request_id: str, note: str = "") -> AfterSalesRequest:
    with transaction.atomic():
        req = _locked_for_merchant(actor, request_id)
        _agree(req, action="agree", actor=actor, role="merchant", amount_fen=req.amount_fen, note=clean_text(note))
        _notify_consumer(req, _("The store agreed to your after-sales request"))
    return req


def merchant_reject(*, actor: User, request_id: str, reason: str) -> AfterSalesRequest:
    reason = clean_text(reason)
    if not reason:
        raise errors.ReasonRequired(field="reason")
    if len(reason) > MAX_REASON:
        raise errors.TextTooLong(field="reason", max_length=MAX_REASON)
    with transaction.atomic():
        req = _locked_for_merchant(actor, request_id)
        req.reject_reason, req.rejected_at = reason, timezone.now()
        _step(req, "reject", actor=actor, role="merchant", note=reason)
        _notify_consumer(req, _("The store rejected your after-sales request"),
                         _("Reason: %(reason)s. You can ask the platform to arbitrate.") % {"reason": reason})
    return req


def merchant_propose_partial(*, actor: User, request_id: str, amount_fen: int, note: str = "") -> AfterSalesRequest:
    with transaction.atomic():
        req = _locked_for_merchant(actor, request_id)
        _can(req, "propose_partial", "merchant")
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
            raise errors.InvalidAmount(field="amount_fen", value=amount_fen)
        if amount_fen >= req.amount_fen:
            raise errors.InvalidAmount(field="amount_fen", reason="not_partial", max_fen=req.amount_fen - 1)
        req.proposed_fen = amount_fen
        _step(req, "propose_partial", actor=actor, role="merchant", note=clean_text(note), amount_fen=amount_fen)
        _notify_consumer(req, _("The store proposes a partial refund"),
                         _("%(yuan)s yuan instead of the whole amount.") % {"yuan": f"{amount_fen / 100:.2f}"})
    return req


def merchant_confirm_return(*, actor: User, request_id: str, note: str = "") -> AfterSalesRequest:
    """The goods came back: refund now."""
    with transaction.atomic():
        req = _locked_for_merchant(actor, request_id)
        _can(req, "confirm_return", "merchant")
        _refund(req, actor=actor, role="system")
        _step(req, "confirm_return", actor=actor, role="merchant", note=clean_text(note), amount_fen=req.refunded_fen)
        _notify_consumer(req, _("Your return was received and refunded"))
    return req


def merchant_resend(*, actor: User, request_id: str, note: str = "") -> AfterSalesRequest:
    with transaction.atomic():
        req = _locked_for_merchant(actor, request_id)
        _step(req, "resend", actor=actor, role="merchant", note=clean_text(note))
        _notify_consumer(req, _("The store sent your order again"))
    return req


# --- the consumer ---------------------------------------------------------------------------------

def request_accept_partial(*, consumer: User, request_id: str) -> AfterSalesRequest:
    with transaction.atomic():
        req = _locked_for_consumer(consumer, request_id)
        _can(req, "accept_partial", "consumer")
        _agree(req, action="accept_partial", actor=consumer, role="consumer", amount_fen=req.proposed_fen or 0)
        _notify_store(req, _("The customer accepted your partial refund"), req.order.public_id)
    return req


def request_escalate(*, consumer: User, request_id: str, reason: str = "",
                     now: datetime | None = None) -> AfterSalesRequest:
    """A refused (or partially offered) consumer asks the platform, within the escalation window."""
    now = now or timezone.now()
    reason = clean_text(reason)
    if len(reason) > MAX_REASON:
        raise errors.TextTooLong(field="reason", max_length=MAX_REASON)
    with transaction.atomic():
        req = _locked_for_consumer(consumer, request_id)
        _can(req, "escalate", "consumer")
        answered = req.rejected_at or req.updated_at
        if now > answered + timedelta(days=settings.LINLI_AFTERSALES_ESCALATE_DAYS):
            raise errors.EscalationWindowClosed(days=settings.LINLI_AFTERSALES_ESCALATE_DAYS)
        req.escalation_reason, req.escalated_at = reason, now
        _step(req, "escalate", actor=consumer, role="consumer", note=reason)
        _notify_store(req, _("The customer asked the platform to arbitrate"), req.order.public_id)
    return req


def request_cancel(*, consumer: User, request_id: str) -> AfterSalesRequest:
    with transaction.atomic():
        req = _locked_for_consumer(consumer, request_id)
        _step(req, "cancel", actor=consumer, role="consumer")
        _notify_store(req, _("The customer withdrew an after-sales request"), req.order.public_id)
    return req


def request_ship_back(*, consumer: User, request_id: str, note: str = "") -> AfterSalesRequest:
    note = clean_text(note)
    if len(note) > MAX_REASON:
        raise errors.TextTooLong(field="note", max_length=MAX_REASON)
    with transaction.atomic():
        req = _locked_for_consumer(consumer, request_id)
        req.return_note, req.shipped_back_at = note, timezone.now()
        _step(req, "ship_back", actor=consumer, role="consumer", note=note)
        _notify_store(req, _("The customer sent the goods back"), note or req.order.public_id)
    return req


# --- the platform ---------------------------------------------------------------------------------

def request_arbitrate(*, actor: User, request_id: str, amount_fen: int, note: str) -> AfterSalesRequest:
    """The operator's binding decision on an escalated request: refund `amount_fen` (up to
    what was asked and is left) through payments, or nothing (0)."""
    if not is_operator(actor):
        raise PermissionDenied(surface="ops")
    note = clean_text(note)
    if not note:
        raise errors.ReasonRequired(field="note")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
        raise errors.InvalidAmount(field="amount_fen", value=amount_fen)
    with transaction.atomic():
        req = _locked(request_id)
        if req.status != AS.ESCALATED:
            raise errors.NotAllowedNow(action="arbitrate", status=req.status, kind=req.kind)
        if amount_fen > req.cap_fen:
            raise errors.AmountExceedsPaid(amount_fen=amount_fen, max_fen=req.cap_fen)
        req.arbitration_note, req.arbitrated_by = note[:MAX_TEXT], actor
        if amount_fen == 0:
            _step(req, "arbitrate_none", actor=actor, role="operator", note=note)
            title = _("The platform decided: no refund")
        else:
            req.agreed_fen = amount_fen
            _refund(req, actor=actor, role="operator")
            _step(req, "arbitrate", actor=actor, role="operator", note=note, amount_fen=req.refunded_fen)
            title = _("The platform decided: refund %(yuan)s yuan") % {"yuan": f"{req.refunded_fen / 100:.2f}"}
        _notify_consumer(req, title, note)
        _notify_store(req, title, note)
        audit(actor, "aftersales.arbitrate", "aftersales_request", req.public_id, role="operator", amount_fen=amount_fen, note=note)  # noqa: E501
    return req


# --- the SLA timer --------------------------------------------------------------------------------

def requests_auto_agree(*, now: datetime | None = None, batch: int = 200) -> int:
    """Agree, as the system, to requests the store left unanswered past their SLA. Each in its
    own transaction, rows taken with SKIP LOCKED: a store deciding at this instant wins,
    another worker running the same sweep skips it, and a request changes once."""
    now = now or timezone.now()
    due = list(AfterSalesRequest.objects.filter(status=AS.SUBMITTED, merchant_due_at__lte=now)
               .order_by("merchant_due_at").values_list("pk", flat=True)[:batch])
    done = 0
    for pk in due:
        try:
            with transaction.atomic():
                req = (AfterSalesRequest.objects.select_for_update(skip_locked=True)
                       .filter(pk=pk, status=AS.SUBMITTED, merchant_due_at__lte=now).first())
                if req is None:
                    continue
                _agree(req, action="auto_agree", actor=None, role="system", amount_fen=req.amount_fen,
                       note="SLA")
                _notify_consumer(req, _("Your after-sales request was agreed automatically"))
                _notify_store(req, _("An after-sales request was agreed automatically"),
                              _("Not answered in time: order %(order)s.") % {"order": req.order.public_id})
        except DomainError as exc:  # e.g. nothing left to refund: leave it for an operator
            logger.warning("after-sales %s not auto-agreed: %s", pk, exc.code)
        else:
            done += 1
    return done


def requests_auto_confirm_returns(*, now: datetime | None = None, batch: int = 200) -> int:
    """Refund, as the system, returns the store has not confirmed within
    LINLI_AFTERSALES_RETURN_CONFIRM_DAYS of the consumer sending them back (same locking as
    the agreement sweep)."""
    now = now or timezone.now()
    before = now - timedelta(days=settings.LINLI_AFTERSALES_RETURN_CONFIRM_DAYS)
    due = list(AfterSalesRequest.objects.filter(status=AS.RETURNING, shipped_back_at__lte=before)
               .order_by("shipped_back_at").values_list("pk", flat=True)[:batch])
    done = 0
    for pk in due:
        try:
            with transaction.atomic():
                req = (AfterSalesRequest.objects.select_for_update(skip_locked=True)
                       .filter(pk=pk, status=AS.RETURNING, shipped_back_at__lte=before).first())
                if req is None:
                    continue
                _refund(req, actor=None, role="system")
                _step(req, "auto_confirm_return", actor=None, role="system", amount_fen=req.refunded_fen,
                      note="SLA")
                _notify_consumer(req, _("Your return was received and refunded"))
                _notify_store(req, _("A return was refunded automatically"),
                              _("Not confirmed in time: order %(order)s.") % {"order": req.order.public_id})
        except DomainError as exc:
            logger.warning("after-sales %s return not auto-confirmed: %s", pk, exc.code)
        else:
            done += 1
    return done


# --- notifications --------------------------------------------------------------------------------

def _link(req: AfterSalesRequest) -> str:
    return f"/aftersales/{req.public_id}"


def _notify_consumer(req: AfterSalesRequest, title: str, body: str = "") -> None:
    notify(req.consumer, "aftersales", str(title), str(body) or req.get_status_display(), _link(req))


def _notify_store(req: AfterSalesRequest, title: str, body: str = "") -> None:
    """Owners and managers of the store's merchant."""
    members = (MerchantMember.objects.filter(merchant_id=req.store.merchant_id, role__in=("owner", "manager"))
               .select_related("user"))
    for member in members:
        notify(member.user, "aftersales", str(title), str(body), f"/m/aftersales/{req.public_id}")
