"""Use cases of service appointments (docs/bookings.md): the store's booking terms,
resources and time off; booking, rescheduling and the state machine; reminders.

Booking a time locks the candidate resource rows (`select_for_update`, in primary-key order)
and then checks the slot against the bookings committed so far: two consumers after the last
free slot of a resource are decided one after the other, and the second finds it taken.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.core.errors import (
    IdempotencyKeyReused,
    IllegalTransition,
    PermissionDenied,
)
from linli.core.statemachine import StateMachine, T
from linli.merchants import roles
from linli.merchants.hours import HoursError, hours_validate
from linli.merchants.models import Product, Store
from linli.merchants.selectors import (
    merchant_role_for_store,
    role_require,
    store_for_member,
    store_get,
)
from linli.orders.fulfilment import BOOKING
from linli.orders.models import Order
from linli.orders.services import order_place_voucher
from linli.orders.states import S

from . import errors, selectors, slots
from .models import (
    BookableService,
    Booking,
    BookingEvent,
    BookingReminder,
    BookingSettings,
    Resource,
    TimeOff,
)


class B:
    """The statuses as plain strings for the table below (Booking.Status adds display labels;
    a test checks the two agree)."""

    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


MACHINE = StateMachine([
    T(B.REQUESTED, B.CONFIRMED, "confirm", "merchant", "system"),
    T(B.REQUESTED, B.CANCELLED, "cancel", "consumer", "merchant", "system"),
    T(B.REQUESTED, B.REQUESTED, "reschedule", "consumer", "merchant"),
    T(B.CONFIRMED, B.CHECKED_IN, "check_in", "merchant"),
    T(B.CONFIRMED, B.CANCELLED, "cancel", "consumer", "merchant"),
    T(B.CONFIRMED, B.CONFIRMED, "reschedule", "consumer", "merchant"),
    T(B.CONFIRMED, B.NO_SHOW, "no_show", "merchant", "system"),
    T(B.CHECKED_IN, B.COMPLETED, "complete", "merchant", "system"),
])
MERCHANT_ACTIONS = ("confirm", "check_in", "complete", "no_show", "cancel")
MAX_SEATS = 200
MAX_BUFFER = 240
MAX_NAME = 50
MAX_SKILLS = 20
MAX_TIME_OFF = timedelta(days=90)
SETTINGS_LIMITS = {  # field: (min, max)
    "deposit_fen": (0, 10_000_000), "step_minutes": (5, 240), "lead_minutes": (0, 7 * 24 * 60),
    "horizon_days": (1, 365), "cancel_deadline_minutes": (0, 30 * 24 * 60),
    "late_cancel_fee_fen": (0, 10_000_000), "reschedule_deadline_minutes": (0, 30 * 24 * 60),
}


# --- the store's terms (merchant) ---------------------------------------------------------------

def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def settings_update(*, actor: User, store_id: str, changes: dict[str, Any]) -> BookingSettings:
    """Change the store's booking rules (owner or manager)."""
    store, _role = store_for_member(user=actor, store_id=store_id, permission=roles.STORE_EDIT)
    if changes.get("payment", BookingSettings.Payment.NONE) not in BookingSettings.Payment.values:
        raise errors.InvalidBookingTerms(field="payment")
    for name, value in changes.items():
        if name in SETTINGS_LIMITS and not _whole(value, *SETTINGS_LIMITS[name]):
            low, high = SETTINGS_LIMITS[name]
            raise errors.InvalidBookingTerms(field=name, min=low, max=high)
        if name in ("auto_confirm", "no_show_forfeit") and not isinstance(value, bool):
            raise errors.InvalidBookingTerms(field=name)
        if name not in SETTINGS_LIMITS and name not in ("auto_confirm", "no_show_forfeit", "payment"):
            raise errors.InvalidBookingTerms(field=str(name)[:40])
    with transaction.atomic():
        rules, _created = BookingSettings.objects.select_for_update().get_or_create(store=store)
        for name, value in changes.items():
            setattr(rules, name, value)
        if rules.payment == BookingSettings.Payment.DEPOSIT and rules.deposit_fen <= 0:
            raise errors.InvalidBookingTerms(field="deposit_fen", min=1)
        rules.save()
    return rules


def service_configure(*, actor: User, store_id: str, product_id: str, buffer_minutes: int = 0, seats: int = 1,
                      skill: str = "", is_active: bool = True) -> BookableService:
    """Make a catalog service of the store bookable, or change its terms (owner or manager)."""
    store, _role = store_for_member(user=actor, store_id=store_id, permission=roles.MENU_EDIT)
    product = (Product.objects.filter(store=store, public_id=product_id, kind=Product.Kind.SERVICE).first()
               if "\x00" not in product_id else None)
    if product is None or not product.duration_minutes:
        raise errors.ServiceNotOffered(service_id=product_id)
    if not _whole(buffer_minutes, 0, MAX_BUFFER):
        raise errors.InvalidBookingTerms(field="buffer_minutes", min=0, max=MAX_BUFFER)
    if not _whole(seats, 1, MAX_SEATS):
        raise errors.InvalidBookingTerms(field="seats", min=1, max=MAX_SEATS)
    if not isinstance(skill, str) or len(skill.strip()) > 32:
        raise errors.InvalidBookingTerms(field="skill")
    service, _created = BookableService.objects.update_or_create(
        product=product, defaults={"store": store, "buffer_minutes": buffer_minutes, "seats": seats,
                                   "skill": skill.strip(), "is_active": bool(is_active)})
    return service


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    kind: str = Resource.Kind.STAFF
    skills: Sequence[str] = ()
    working_hours: list[Any] | None = None  # None or [] = the store's hours
    is_active: bool = True
    user_id: str | None = None  # a member of the merchant (staff)


def resource_save(*, actor: User, store_id: str, spec: ResourceSpec, resource_id: str | None = None) -> Resource:
    """Add a staff member, room or machine, or change one (owner or manager)."""
    store, _role = store_for_member(user=actor, store_id=store_id, permission=roles.STORE_EDIT)
    name = (spec.name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise errors.InvalidResource(field="name")
    if spec.kind not in Resource.Kind.values:
        raise errors.InvalidResource(field="kind")
    skills = [s.strip() for s in spec.skills if isinstance(s, str) and s.strip()]
    if len(skills) > MAX_SKILLS or any(len(s) > 32 for s in skills) or len(skills) != len(spec.skills):
        raise errors.InvalidResource(field="skills")
    hours: list[Any] = []
    if spec.working_hours:
        try:
            hours = hours_validate(spec.working_hours)
        except HoursError as exc:
            raise errors.InvalidResource(field="working_hours", **exc.details) from None
    user = None
    if spec.user_id:
        user = User.objects.filter(public_id=spec.user_id, merchant_memberships__merchant_id=store.merchant_id).first()
        if user is None:
            raise errors.InvalidResource(field="user_id")
    if resource_id is None:
        resource = Resource(store=store)
    else:
        found = Resource.objects.filter(store=store, public_id=resource_id).first()
        if found is None:
            raise errors.ResourceNotFound(resource_id=resource_id)
        resource = found
    resource.name, resource.kind, resource.skills = name, spec.kind, skills
    resource.working_hours, resource.is_active, resource.user = hours, bool(spec.is_active), user
    resource.save()
    return resource


def time_off_add(*, actor: User, store_id: str, resource_id: str, starts_at: datetime, ends_at: datetime,
                 reason: str = "") -> TimeOff:
    """Mark a resource away (leave, repair). Bookings already inside stay: the store decides."""
    store, _role = store_for_member(user=actor, store_id=store_id, permission=roles.STORE_EDIT)
    resource = Resource.objects.filter(store=store, public_id=resource_id).first()
    if resource is None:
        raise errors.ResourceNotFound(resource_id=resource_id)
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at) or not (
            starts_at < ends_at <= starts_at + MAX_TIME_OFF):
        raise errors.InvalidTimeOff()
    return TimeOff.objects.create(resource=resource, starts_at=starts_at, ends_at=ends_at, reason=reason[:100])


# --- booking --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Booked:
    booking: Booking
    created: bool  # False: a retry with the same key answered the first booking


def _hash(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def _event(booking: Booking, *, action: str, source: str, actor: User | None, role: str, note: str = "") -> None:
    BookingEvent.objects.create(booking=booking, action=action, from_status=source, to_status=booking.status,
                                actor=actor, actor_role=role, note=note[:200])


def _slot_time_check(store: Store, rules: BookingSettings, start: datetime, now: datetime) -> None:
    if timezone.is_naive(start):
        raise errors.InvalidSlotTime(start=start.isoformat())
    if start.timestamp() / 60 < selectors.earliest_start(rules, now) - 1e-9:
        raise errors.SlotInPast(start=start.isoformat())
    last_day = selectors.local_today(store, now) + timedelta(days=rules.horizon_days)
    if selectors.local_today(store, start) > last_day:
        raise errors.SlotTooFar(start=start.isoformat(), horizon_days=rules.horizon_days)


def _take_slot(*, store: Store, service: BookableService, candidates: list[Resource], start: datetime,
               exclude_booking_id: int | None = None) -> Resource:
    """Lock the candidates (pk order) and answer the first, in the store's order, free at
    `start`; SlotOutsideHours if none works then, else SlotTaken. Call inside a transaction."""
    locked = {r.pk: r for r in Resource.objects.select_for_update().filter(
        pk__in=[c.pk for c in candidates]).order_by("pk")}
    ordered = [locked[c.pk] for c in candidates if c.pk in locked]
    terms = selectors.service_terms(service)
    day = selectors.local_today(store, start)
    at = int(start.timestamp()) // 60
    found_hours = False
    for resource, timeline in zip(ordered, selectors.resource_days(
            store=store, service=service, resources=ordered, first=day, days=1,
            exclude_booking_id=exclude_booking_id), strict=True):
        verdict = slots.slot_check(timeline, terms, at)
        if verdict == slots.OK:
            return resource
        found_hours = found_hours or verdict == slots.TAKEN
    if not found_hours:
        raise errors.SlotOutsideHours(start=start.isoformat())
    raise errors.SlotTaken(start=start.isoformat())


def booking_create(*, consumer: User, store_id: str, service_id: str, start: datetime,
                   resource_id: str | None = None, note: str = "", idempotency_key: str,
                   now: datetime | None = None) -> Booked:
    """Book a service at `start` with a given resource or the first free one. Pay at the
    store: confirmed at once when the store auto-confirms, else `requested` until it does.
    Retry-safe: the same key and request answer the first booking (409 for another request)."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise errors.IdempotencyKeyMissing()
    now = now or timezone.now()
    request_hash = _hash({"store": store_id, "service": service_id, "start": start.isoformat()
                          if isinstance(start, datetime) else start, "resource": resource_id or "", "note": note})
    existing = _replay(consumer, key, request_hash)
    if existing is not None:
        return Booked(booking=existing, created=False)
    store = store_get(public_id=store_id)
    service = selectors.service_of_store(store=store, service_id=service_id)
    candidates = selectors.resources_for(store=store, service=service, resource_id=resource_id)
    rules = selectors.settings_of(store)
    _slot_time_check(store, rules, start, now)
    if store.status != Store.Status.OPEN:
        raise errors.SlotOutsideHours(start=start.isoformat(), store_status=store.status)
    terms = selectors.service_terms(service)
    prepay = prepay_fen(rules, service.product.price_fen)

    def book(order: Order | None) -> Booking:
        resource = _take_slot(store=store, service=service, candidates=candidates, start=start)
        booking = Booking.objects.create(
            store=store, city_code=store.city_code, consumer=consumer, service=service, resource=resource,
            starts_at=start, ends_at=start + timedelta(minutes=terms.duration),
            blocks_until=start + timedelta(minutes=terms.duration + terms.buffer),
            price_fen=service.product.price_fen, payment=rules.payment if prepay else BookingSettings.Payment.NONE,
            prepay_fen=prepay, order=order, note=note[:200], idempotency_key=key, request_hash=request_hash)
        _event(booking, action="request", source="", actor=consumer, role="consumer",
               note=f"pay {prepay} fen by {order.public_id}" if order else "")
        if not prepay and rules.auto_confirm:
            _apply(booking, action="confirm", actor=None, roles={"system"}, note="auto")
        return booking

    def within(order: Order) -> None:
        book(order)

    try:
        if prepay:  # an order to pay first (like a voucher's); paid -> confirmed (on_order_changed)
            placed = order_place_voucher(
                consumer=consumer, store=store, label=service.product.name, ref=service.product.public_id,
                unit_price_fen=prepay, quantity=1, idempotency_key=f"booking:{key}",
                request={"booking": request_hash}, within=within, now=now, fulfilment=BOOKING)
            return Booked(booking=Booking.objects.select_related(*RELATED).get(order=placed.order),
                          created=placed.created)
        with transaction.atomic():
            booking = book(None)
    except IntegrityError:
        existing = _replay(consumer, key, request_hash)
        if existing is None:
            raise
        return Booked(booking=existing, created=False)
    return Booked(booking=booking, created=True)


def prepay_fen(rules: BookingSettings, price_fen: int) -> int:
    """What is paid online when booking: the deposit (at most the price), the full price, or 0."""
    if rules.payment == BookingSettings.Payment.DEPOSIT:
        return min(rules.deposit_fen, price_fen)
    if rules.payment == BookingSettings.Payment.FULL:
        return price_fen
    return 0


def _replay(consumer: User, key: str, request_hash: str) -> Booking | None:
    found = Booking.objects.filter(consumer=consumer, idempotency_key=key).first()
    if found is not None and found.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return found


# --- the state machine ------------------------------------------------------------------------------

RELATED = ("store", "service__product", "resource", "consumer", "order")


def _lock(booking_id: str) -> Booking:
    booking = (Booking.objects.select_for_update(of=("self",))
               .select_related(*RELATED)
               .filter(public_id=booking_id).first() if "\x00" not in booking_id else None)
    if booking is None:
        raise errors.BookingNotFound(booking_id=booking_id)
    return booking


def _roles_on(booking: Booking, actor: User) -> set[str]:
    found = set()
    if booking.consumer_id == actor.pk:
        found.add("consumer")
    try:
        role = merchant_role_for_store(user=actor, store=booking.store)
    except PermissionDenied:
        pass
    else:
        role_require(role=role, permission=roles.ORDERS_ACT)
        found.add("merchant")
    return found


def _apply(booking: Booking, *, action: str, actor: User | None, roles: set[str], note: str = "") -> Booking:
    transition = MACHINE.find(action=action, source=booking.status)
    if transition is None:
        raise IllegalTransition(status=booking.status, action=action)
    allowed = roles & transition.roles
    if not allowed:
        raise PermissionDenied(status=booking.status, action=action)
    source = booking.status
    booking.status = transition.target
    booking.save()
    _event(booking, action=action, source=source, actor=actor, role=sorted(allowed)[0], note=note)
    return booking


@transaction.atomic
def booking_act(*, actor: User, booking_id: str, action: str, note: str = "",
                now: datetime | None = None) -> Booking:
    """A person moves a booking on: the consumer cancels; the store confirms, checks in,
    completes, marks a no-show or cancels. Rules (docs/bookings.md): nobody cancels after the
    start; a consumer's cancellation after the store's deadline owes its late fee; a no-show
    is marked only after the start."""
    now = now or timezone.now()
    booking = _lock(booking_id)
    who = _roles_on(booking, actor)
    if not who:
        raise errors.BookingNotFound(booking_id=booking_id)
    if action == "cancel":
        if booking.status in (B.REQUESTED, B.CONFIRMED) and now >= booking.starts_at:
            raise errors.CancelTooLate(starts_at=booking.starts_at.isoformat())
        if who == {"consumer"} and booking.status in (B.REQUESTED, B.CONFIRMED):
            rules = selectors.settings_of(booking.store)
            if now > booking.starts_at - timedelta(minutes=rules.cancel_deadline_minutes):
                booking.fee_fen = min(rules.late_cancel_fee_fen, booking.price_fen)
                note = note or "late cancel"
    if action == "no_show" and booking.status == B.CONFIRMED and now < booking.starts_at:
        raise errors.TooEarlyForNoShow(starts_at=booking.starts_at.isoformat())
    # A merchant who booked for themselves acts as the store on the store's actions.
    roles_used = {"merchant"} if action in ("confirm", "check_in", "complete", "no_show") and "merchant" in who \
        else ({"consumer"} if "consumer" in who else who)
    if action == "confirm" and booking.prepay_fen and (booking.order is None or booking.order.paid_at is None):
        raise IllegalTransition(status=booking.status, action=action, reason="not_paid")
    booking = _apply(booking, action=action, actor=actor, roles=roles_used, note=note)
    if action in ("cancel", "no_show"):
        _settle_prepayment(booking, actor=actor, no_show=action == "no_show")
    return booking


def _settle_prepayment(booking: Booking, *, actor: User | None, no_show: bool) -> None:
    """The booking ended without the service: an unpaid order is cancelled; a paid one is
    refunded along its payment's path, less the late-cancel fee, or nothing back for a
    no-show when the store keeps prepayments (`no_show_forfeit`)."""
    order = booking.order
    if order is None:
        return
    from linli.orders.services import order_transition_as
    from linli.payments.models import Refund
    from linli.payments.services import refund_create

    if order.status == S.PENDING_PAYMENT:
        order_transition_as(order=order, action="cancel", actor=actor, role="system",
                            note=f"booking {booking.public_id} {booking.status}")
        return
    if order.paid_at is None or order.status in S.CANCELLED_ALL:
        return
    rules = selectors.settings_of(booking.store)
    kept = booking.prepay_fen if (no_show and rules.no_show_forfeit) else min(booking.fee_fen, booking.prepay_fen)
    back = booking.prepay_fen - kept - booking.refunded_fen
    if back <= 0:
        return
    refund_create(order_id=order.public_id, actor=actor or booking.consumer, role="system",
                  reason=f"booking {booking.public_id} {booking.status}", amount_fen=back,
                  idempotency_key=f"booking:{booking.public_id}", source=Refund.Source.CANCEL)
    booking.refunded_fen += back
    booking.save(update_fields=["refunded_fen", "updated_at"])


def booking_paid(*, order_id: str) -> Booking | None:
    """The booking's order is paid: confirm the booking and complete the order (action
    `book`), in one transaction on the locked booking. Idempotent. A booking that ended
    meanwhile (cancelled while the payment was on its way) has its money refunded."""
    from linli.orders.services import order_transition_as

    with transaction.atomic():
        booking = (Booking.objects.select_for_update(of=("self",)).select_related(*RELATED)
                   .filter(order__public_id=order_id).first())
        if booking is None or booking.order is None or booking.order.status != S.PAID:
            return booking
        if booking.status == B.REQUESTED:
            _apply(booking, action="confirm", actor=None, roles={"system"}, note="paid")
            order_transition_as(order=booking.order, action="book", actor=None, role="system",
                                note=f"booking {booking.public_id}")
        elif booking.status == B.CANCELLED:
            order_transition_as(order=booking.order, action="book", actor=None, role="system",
                                note=f"booking {booking.public_id} cancelled before payment")
            booking.order.refresh_from_db()
            _settle_prepayment(booking, actor=None, no_show=False)
    return booking


def booking_order_ended(*, order_id: str) -> Booking | None:
    """The booking's order ended unpaid (timeout, cancelled): the booking is cancelled and its
    time freed. Idempotent."""
    with transaction.atomic():
        booking = (Booking.objects.select_for_update(of=("self",)).select_related(*RELATED)
                   .filter(order__public_id=order_id, status=B.REQUESTED).first())
        if booking is not None:
            _apply(booking, action="cancel", actor=None, roles={"system"}, note="not paid")
    return booking


def on_order_changed(order: Order) -> None:
    """Receiver body (apps.py): a booking's order paid -> confirm; ended unpaid -> cancel."""
    if order.fulfilment != BOOKING:
        return
    if order.status == S.PAID:
        booking_paid(order_id=order.public_id)
    elif order.status == S.CANCELLED:
        booking_order_ended(order_id=order.public_id)


def booking_reschedule(*, actor: User, booking_id: str, start: datetime, resource_id: str | None = None,
                       now: datetime | None = None) -> Booking:
    """Move a booking to another time (and resource). The consumer may until the store's
    reschedule deadline, the store until the start; the new time is checked like a new
    booking, under the same locks (the booking's own time does not block it)."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock(booking_id)
        who = _roles_on(booking, actor)
        if not who:
            raise errors.BookingNotFound(booking_id=booking_id)
        if MACHINE.find(action="reschedule", source=booking.status) is None:
            raise IllegalTransition(status=booking.status, action="reschedule")
        rules = selectors.settings_of(booking.store)
        deadline = booking.starts_at - timedelta(minutes=0 if "merchant" in who
                                                 else rules.reschedule_deadline_minutes)
        if now > deadline:
            raise errors.RescheduleTooLate(starts_at=booking.starts_at.isoformat())
        _slot_time_check(booking.store, rules, start, now)
        service = booking.service
        candidates = selectors.resources_for(store=booking.store, service=service, resource_id=resource_id)
        resource = _take_slot(store=booking.store, service=service, candidates=candidates, start=start,
                              exclude_booking_id=booking.pk)
        terms = selectors.service_terms(service)
        was = f"{booking.starts_at.isoformat()} {booking.resource.public_id}"
        booking.starts_at, booking.resource = start, resource
        booking.ends_at = start + timedelta(minutes=terms.duration)
        booking.blocks_until = start + timedelta(minutes=terms.duration + terms.buffer)
        booking.reschedule_count += 1
        role = "merchant" if "merchant" in who and "consumer" not in who else "consumer"
        return _apply(booking, action="reschedule", actor=actor, roles={role}, note=f"was {was}")


# --- reminders ---------------------------------------------------------------------------------------

REMINDERS = (  # kind, how long before the start at most, at least
    (BookingReminder.Kind.DAY, timedelta(hours=24), timedelta(hours=1)),
    (BookingReminder.Kind.HOUR, timedelta(hours=1), timedelta(0)),
)


def reminders_send(*, now: datetime | None = None, batch: int = 1000) -> dict[str, int]:
    """Periodic (Celery beat): remind consumers of confirmed bookings the day before and
    one hour before, through notifications. Each reminder is recorded in the same
    transaction as its message, and the (booking, kind) pair is unique: running twice, or
    on two workers at once, sends each reminder once. A booking made less than an hour
    ahead gets only the hour reminder."""
    from linli.notifications.services import notify

    now = now or timezone.now()
    sent = {}
    for kind, most, least in REMINDERS:
        due = (Booking.objects.select_related("store", "service__product")
               .filter(status=B.CONFIRMED, starts_at__gt=now + least, starts_at__lte=now + most)
               .exclude(reminders__kind=kind).order_by("starts_at")[:batch])
        count = 0
        for booking in due:
            try:
                with transaction.atomic():
                    BookingReminder.objects.create(booking=booking, kind=kind, sent_at=now)
                    notify(booking.consumer, "booking_reminder", _reminder_title(booking, kind),
                           _reminder_body(booking), link=f"/bookings/mine#{booking.public_id}", now=now)
                count += 1
            except IntegrityError:
                continue  # another worker sent it
        sent[kind] = count
    return sent


def _local(booking: Booking) -> datetime:
    from zoneinfo import ZoneInfo

    return booking.starts_at.astimezone(ZoneInfo(booking.store.timezone))


def _reminder_title(booking: Booking, kind: str) -> str:
    if kind == BookingReminder.Kind.DAY:
        return _("Tomorrow: %(service)s") % {"service": booking.service.product.name}
    return _("In one hour: %(service)s") % {"service": booking.service.product.name}


def _reminder_body(booking: Booking) -> str:
    return _("%(store)s, %(when)s") % {"store": booking.store.name,
                                       "when": _local(booking).strftime("%Y-%m-%d %H:%M")}


def day_parse(raw: str) -> date:
    """A YYYY-MM-DD date, or 422 invalid_date."""
    try:
        day = date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise errors.InvalidDate(date=str(raw)[:20]) from None
    if day.isoformat() != raw:
        raise errors.InvalidDate(date=str(raw)[:20])
    return day
