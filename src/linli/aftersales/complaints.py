"""Complaint tickets (about a store, a rider or the platform) and the operator's warnings
and suspensions of bad actors (docs/aftersales.md).

A ticket gets its priority floor and SLA due time from its category (`states.py`); support
staff assign, write internal notes (never shown to the reporter), resolve with a resolution
the reporter sees, and close. Every status change is a `TicketEvent`.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.core.errors import PermissionDenied
from linli.delivery.models import Rider
from linli.merchants.models import Merchant, Store
from linli.notifications.services import notify
from linli.orders.models import Order

from . import errors
from .models import ActorWarning, Ticket, TicketEvent, TicketNote
from .services import clean_text, is_operator
from .states import TICKET_MACHINE, ticket_due_at, ticket_priority

MAX_DESCRIPTION = 1000


def _require_operator(actor: User) -> None:
    if not is_operator(actor):
        raise PermissionDenied(surface="ops")


def ticket_create(*, reporter: User, subject_kind: str, category: str, description: str,
                  store_id: str = "", rider_id: str = "", order_id: str = "", priority: str = "normal",
                  now: datetime | None = None) -> Ticket:
    """A consumer's complaint. About a store: `store_id` (or the store of `order_id`); about a
    rider: `rider_id` (or the rider who delivered `order_id`); an order, if named, must be theirs."""
    now = now or timezone.now()
    description = clean_text(description)
    if (subject_kind not in Ticket.Subject.values or category not in Ticket.Category.values
            or priority not in Ticket.Priority.values or not description):
        raise errors.InvalidTicket(subject_kind=subject_kind, category=category, priority=priority)
    if len(description) > MAX_DESCRIPTION:
        raise errors.TextTooLong(field="description", max_length=MAX_DESCRIPTION)
    order = None
    if order_id:
        order = (Order.objects.select_related("store").filter(public_id=order_id, consumer=reporter).first()
                 if "\x00" not in order_id else None)
        if order is None:
            raise errors.TicketSubjectNotFound(order_id=order_id)
    store = merchant = rider = None
    if subject_kind == Ticket.Subject.MERCHANT:
        store = order.store if order is not None and not store_id else (
            Store.objects.filter(public_id=store_id).first() if store_id and "\x00" not in store_id else None)
        if store is None:
            raise errors.TicketSubjectNotFound(store_id=store_id)
        merchant = Merchant.objects.get(pk=store.merchant_id)
    elif subject_kind == Ticket.Subject.RIDER:
        if rider_id:
            rider = Rider.objects.filter(public_id=rider_id).first() if "\x00" not in rider_id else None
        elif order is not None:
            task = getattr(order, "delivery", None)
            rider = task.rider if task is not None else None
        if rider is None:
            raise errors.TicketSubjectNotFound(rider_id=rider_id)
    priority = ticket_priority(category, priority)
    with transaction.atomic():
        ticket = Ticket.objects.create(
            reporter=reporter, subject_kind=subject_kind, merchant=merchant, store=store, rider=rider,
            order=order, category=category, priority=priority, description=description,
            due_at=ticket_due_at(created_at=now, priority=priority))
        TicketEvent.objects.create(ticket=ticket, action="open", to_status=ticket.status, actor=reporter,
                                   actor_role="consumer")
    return ticket


def _locked(ticket_id: str) -> Ticket:
    ticket = Ticket.objects.select_for_update().filter(public_id=ticket_id).first() if "\x00" not in ticket_id else None
    if ticket is None:
        raise errors.TicketNotFound(ticket_id=ticket_id)
    return ticket


def _step(ticket: Ticket, action: str, *, actor: User, role: str, note: str = "") -> None:
    step = TICKET_MACHINE.find(action=action, source=ticket.status)
    if step is None or role not in step.roles:
        raise errors.TicketNotAllowedNow(action=action, status=ticket.status)
    before = ticket.status
    ticket.status = step.target
    ticket.save()
    TicketEvent.objects.create(ticket=ticket, action=action, from_status=before, to_status=ticket.status,
                               actor=actor, actor_role=role, note=note[:200])


def ticket_assign(*, actor: User, ticket_id: str, assignee: User) -> Ticket:
    _require_operator(actor)
    if not is_operator(assignee):
        raise errors.InvalidAssignee(assignee=assignee.username)
    with transaction.atomic():
        ticket = _locked(ticket_id)
        ticket.assignee = assignee
        _step(ticket, "assign", actor=actor, role="operator", note=assignee.username)
    return ticket


def ticket_note_add(*, actor: User, ticket_id: str, text: str) -> TicketNote:
    """An internal note by support staff (never shown to the reporter)."""
    _require_operator(actor)
    text = clean_text(text)
    if not text:
        raise errors.ReasonRequired(field="text")
    if len(text) > MAX_DESCRIPTION:
        raise errors.TextTooLong(field="text", max_length=MAX_DESCRIPTION)
    with transaction.atomic():
        ticket = _locked(ticket_id)
        return TicketNote.objects.create(ticket=ticket, author=actor, text=text)


def ticket_resolve(*, actor: User, ticket_id: str, resolution: str) -> Ticket:
    _require_operator(actor)
    resolution = clean_text(resolution)
    if not resolution:
        raise errors.ReasonRequired(field="resolution")
    with transaction.atomic():
        ticket = _locked(ticket_id)
        ticket.resolution, ticket.resolved_at = resolution[:MAX_DESCRIPTION], timezone.now()
        if ticket.assignee_id is None:
            ticket.assignee = actor
        _step(ticket, "resolve", actor=actor, role="operator")
        notify(ticket.reporter, "complaint", _("Your complaint was resolved"), ticket.resolution,
               f"/complaints/{ticket.public_id}")
    return ticket


def ticket_close(*, actor: User, ticket_id: str, note: str = "") -> Ticket:
    """Operators close any open or resolved ticket; the reporter closes a resolved one."""
    with transaction.atomic():
        ticket = _locked(ticket_id)
        if is_operator(actor):
            role = "operator"
        elif ticket.reporter_id == actor.pk:
            role = "consumer"
        else:
            raise errors.TicketNotFound(ticket_id=ticket_id)
        _step(ticket, "close", actor=actor, role=role, note=clean_text(note))
    return ticket


def ticket_reopen(*, reporter: User, ticket_id: str, note: str = "") -> Ticket:
    """The reporter is not satisfied with the resolution: back to the support person."""
    with transaction.atomic():
        ticket = _locked(ticket_id)
        if ticket.reporter_id != reporter.pk:
            raise errors.TicketNotFound(ticket_id=ticket_id)
        _step(ticket, "reopen", actor=reporter, role="consumer", note=clean_text(note))
    return ticket


# --- bad actors -----------------------------------------------------------------------------------

def actor_warn(*, actor: User, level: str, reason: str, merchant: Merchant | None = None,
               rider: Rider | None = None) -> ActorWarning:
    """Record a warning or a suspension of a merchant or a rider and tell them. A rider's
    suspension goes through `delivery.onboarding.rider_review` (they go offline at once); a
    merchant's through `merchants.suspension.merchant_suspend` (every listed store closed)."""
    _require_operator(actor)
    reason = clean_text(reason)
    if not reason:
        raise errors.ReasonRequired(field="reason")
    if (merchant is None) == (rider is None) or level not in ActorWarning.Level.values:
        raise errors.InvalidTicket(level=level)
    enforced = False
    with transaction.atomic():
        if level == ActorWarning.Level.SUSPENSION and rider is not None:
            from linli.delivery.onboarding import rider_review

            rider_review(actor=actor, rider_id=rider.public_id, action="suspend", note=reason[:200])
            enforced = True
        elif level == ActorWarning.Level.SUSPENSION and merchant is not None:
            from linli.merchants.suspension import merchant_suspend

            merchant_suspend(actor=actor, merchant_id=merchant.public_id, reason=reason)  # stores delisted
            enforced = True
        warning = ActorWarning.objects.create(merchant=merchant, rider=rider, level=level, reason=reason[:200],
                                              enforced=enforced, actor=actor)
        title = _("Warning from Linli") if level == ActorWarning.Level.WARNING else _("Suspended by Linli")
        if rider is not None:
            notify(rider.user, "warning", title, reason)
        else:
            assert merchant is not None
            for member in merchant.members.filter(role="owner").select_related("user"):
                notify(member.user, "warning", title, reason)
    return warning
