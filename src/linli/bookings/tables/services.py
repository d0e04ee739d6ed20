"""Table reservation and walk-in queue use cases (src/linli/bookings/tables/README.md).

Every write is one transaction. The store's `TableSetup` row is locked (select_for_update)
before a table is picked or a queue number drawn, so two consumers reserving the last table
for a slot, or two walk-ins taking a number at the same moment, are decided one after the
other: exactly one gets the table, numbers never repeat. Status changes go through the
tables below and write an event row with who and when; the consumer is told through
`notifications.services.notify` (in the transaction, handed to channels on commit).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.core.errors import IdempotencyKeyReused, IllegalTransition
from linli.core.realtime import publish
from linli.merchants import roles
from linli.merchants.hours import is_open_on
from linli.merchants.models import Store
from linli.merchants.selectors import StoreNotFound, store_for_member, store_get
from linli.notifications.services import notify

from . import assign, errors
from .models import QueueEvent, QueueTicket, Reservation, ReservationEvent, TableSetup, TableType
from .states import MERCHANT_QUEUE_ACTIONS, MERCHANT_RESERVATION_ACTIONS, QS, QUEUE, RESERVATION, RS

MAX_PARTY = 50



# --- shared helpers -----------------------------------------------------------------------------

def store_zone(store: Store) -> ZoneInfo:
    return ZoneInfo(store.timezone)


def setup_of(store: Store) -> TableSetup:
    """The store's settings; an unsaved default (takes nothing) when it has none yet."""
    return TableSetup.objects.filter(store=store).first() or TableSetup(store=store)


def _locked_setup(store: Store) -> TableSetup:
    TableSetup.objects.get_or_create(store=store)
    return TableSetup.objects.select_for_update().get(store=store)


def table_kinds(store: Store) -> list[assign.TableKind]:
    return [assign.TableKind(key=t.pk, seats=t.seats, count=t.count)
            for t in TableType.objects.filter(store=store, is_active=True)]


def _party_check(party_size: int) -> None:
    if isinstance(party_size, bool) or not isinstance(party_size, int) or not 1 <= party_size <= MAX_PARTY:
        raise errors.InvalidPartySize(party_size=party_size)


def _member_store(actor: User, store_id: str, permission: str) -> Store:
    store, _role = store_for_member(user=actor, store_id=store_id, permission=permission)
    return store


def _reservation_event(reservation: Reservation, *, action: str, source: str, actor: User | None,
                       role: str, reason: str = "") -> None:
    ReservationEvent.objects.create(reservation=reservation, action=action, from_status=source,
                                    to_status=reservation.status, actor=actor, actor_role=role, reason=reason[:200])


def queue_channel(store_id: str, group: str = "") -> str:
    """Server-Sent Events channel of a store's queue board, or of one group (its tickets' pages)."""
    return f"tables-queue.{store_id}.{group}" if group else f"tables-queue.{store_id}"


def _queue_event(ticket: QueueTicket, *, action: str, source: str, actor: User | None, role: str) -> None:
    QueueEvent.objects.create(ticket=ticket, action=action, from_status=source, to_status=ticket.status,
                              actor=actor, actor_role=role)
    store_id = ticket.store.public_id
    event = {"type": "refresh", "ticket_id": ticket.public_id, "code": ticket.code, "status": ticket.status}
    for channel in (queue_channel(store_id), queue_channel(store_id, ticket.group)):
        transaction.on_commit(lambda channel=channel: publish(channel, event))  # type: ignore[misc]


# --- merchant: settings and table types ---------------------------------------------------------

@dataclass(frozen=True)
class SetupInput:
    takes_reservations: bool
    takes_queue: bool
    auto_confirm: bool = True
    seating_minutes: int = 90
    slot_minutes: int = 30
    cancel_deadline_minutes: int = 60
    days_ahead: int = 14
    skip_after_minutes: int = 10


def table_setup_save(*, actor: User, store_id: str, data: SetupInput) -> TableSetup:
    store = _member_store(actor, store_id, roles.STORE_EDIT)
    checks = {
        "seating_minutes": 15 <= data.seating_minutes <= 480,
        "slot_minutes": data.slot_minutes in assign.SLOT_MINUTES_ALLOWED,
        "cancel_deadline_minutes": 0 <= data.cancel_deadline_minutes <= 48 * 60,
        "days_ahead": 0 <= data.days_ahead <= 90,
        "skip_after_minutes": 0 <= data.skip_after_minutes <= 120,
    }
    for name, ok in checks.items():
        if not ok:
            raise errors.InvalidTableSetup(field=name, value=getattr(data, name))
    with transaction.atomic():
        setup = _locked_setup(store)
        for name, value in data.__dict__.items():
            setattr(setup, name, value)
        setup.save()
    return setup


def _table_type_check(name: str, seats: int, count: int) -> None:
    if not (name.strip() and len(name) <= 40 and 1 <= seats <= 30 and 0 <= count <= 200):
        raise errors.InvalidTableType(name=name, seats=seats, count=count)


def table_type_create(*, actor: User, store_id: str, name: str, seats: int, count: int) -> TableType:
    store = _member_store(actor, store_id, roles.STORE_EDIT)
    _table_type_check(name, seats, count)
    return TableType.objects.create(store=store, name=name.strip(), seats=seats, count=count)


def table_type_update(*, actor: User, type_id: str, name: str | None = None, seats: int | None = None,
                      count: int | None = None, is_active: bool | None = None) -> TableType:
    """Change a table type. Reservations already made keep their table; a smaller count only
    limits new reservations."""
    table_type = TableType.objects.select_related("store").filter(public_id=type_id).first()
    if table_type is None:
        raise errors.TableTypeNotFound(type_id=type_id)
    try:
        _member_store(actor, table_type.store.public_id, roles.STORE_EDIT)
    except StoreNotFound:
        raise errors.TableTypeNotFound(type_id=type_id) from None
    name = table_type.name if name is None else name
    seats = table_type.seats if seats is None else seats
    count = table_type.count if count is None else count
    _table_type_check(name, seats, count)
    table_type.name, table_type.seats, table_type.count = name.strip(), seats, count
    if is_active is not None:
        table_type.is_active = is_active
    table_type.save()
    return table_type


# --- reservations -------------------------------------------------------------------------------

def slot_check(*, store: Store, setup: TableSetup, starts_at: datetime, now: datetime) -> datetime:
    """The slot's start as an aware time, or the error that says what is wrong with it.
    A naive time is read in the store's time zone."""
    zone = store_zone(store)
    if timezone.is_naive(starts_at):
        starts_at = starts_at.replace(tzinfo=zone)
    local = starts_at.astimezone(zone)
    if starts_at <= now:
        raise errors.SlotInPast(starts_at=starts_at.isoformat())
    if local.date() > now.astimezone(zone).date() + timedelta(days=setup.days_ahead):
        raise errors.SlotTooFarAhead(starts_at=starts_at.isoformat(), days_ahead=setup.days_ahead)
    if not assign.on_grid(local, setup.slot_minutes):
        raise errors.SlotNotOnGrid(starts_at=starts_at.isoformat(), slot_minutes=setup.slot_minutes)
    if store.status == Store.Status.CLOSED or not assign.seating_fits(
            store.opening_hours, store.special_hours, local, seating_minutes=setup.seating_minutes):
        raise errors.SlotOutsideHours(starts_at=starts_at.isoformat(), seating_minutes=setup.seating_minutes)
    return starts_at


def booked_between(store: Store, start: datetime, end: datetime) -> list[assign.Booked]:
    """Tables held by reservations overlapping [start, end)."""
    rows = Reservation.objects.filter(store=store, status__in=RS.HOLDING, starts_at__lt=end,
                                      ends_at__gt=start).values_list("table_type_id", "table_no", "starts_at",
                                                                     "ends_at")
    return [assign.Booked(kind=k, table_no=n, start=s, end=e) for k, n, s, e in rows]


def _request_hash(store_id: str, party_size: int, starts_at: datetime, note: str) -> str:
    raw = f"{store_id}|{party_size}|{int(starts_at.timestamp())}|{note}"  # the instant, whatever the offset
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Placed:
    reservation: Reservation
    created: bool  # False: the replay of an earlier request with the same idempotency key


def _replay(consumer: User, key: str, request_hash: str) -> Reservation | None:
    if not key:
        return None
    earlier = Reservation.objects.filter(consumer=consumer, idempotency_key=key).first()
    if earlier is not None and earlier.request_hash != request_hash:
        raise IdempotencyKeyReused(idempotency_key=key)
    return earlier


def reservation_create(*, consumer: User, store_id: str, party_size: int, starts_at: datetime, note: str = "",
                       idempotency_key: str = "", now: datetime | None = None) -> Placed:
    """Reserve a table for the party at a slot: the smallest fitting table type with a table
    free for the whole seating. Retry-safe with an idempotency key."""
    now = now or timezone.now()
    store = store_get(public_id=store_id)
    if timezone.is_naive(starts_at):
        starts_at = starts_at.replace(tzinfo=store_zone(store))
    note = (note or "").strip()[:200]
    key = (idempotency_key or "")[:64]
    request_hash = _request_hash(store.public_id, party_size, starts_at, note)
    earlier = _replay(consumer, key, request_hash)  # a retry gets the first answer, even once the slot passed
    if earlier is not None:
        return Placed(earlier, False)
    setup = setup_of(store)
    if not setup.takes_reservations:
        raise errors.ReservationsNotOffered(store_id=store_id)
    _party_check(party_size)
    start = slot_check(store=store, setup=setup, starts_at=starts_at, now=now)
    try:
        with transaction.atomic():
            reservation = _reserve(consumer=consumer, store=store, party_size=party_size, start=start, note=note,
                                   key=key, request_hash=request_hash)
    except IntegrityError:  # the same key, sent twice at once: the first one won
        earlier = _replay(consumer, key, request_hash)
        if earlier is None:
            raise
        return Placed(earlier, False)
    return Placed(reservation, True)


def _reserve(*, consumer: User, store: Store, party_size: int, start: datetime, note: str, key: str,
             request_hash: str) -> Reservation:
    setup = _locked_setup(store)  # one at a time per store from here to commit
    if not setup.takes_reservations:
        raise errors.ReservationsNotOffered(store_id=store.public_id)
    kinds = table_kinds(store)
    if party_size > assign.max_seats(kinds):
        raise errors.PartyTooLarge(party_size=party_size, max_seats=assign.max_seats(kinds))
    end = start + timedelta(minutes=setup.seating_minutes)
    picked = assign.table_assign(kinds, booked_between(store, start, end), party=party_size, start=start, end=end)
    if picked is None:
        raise errors.NoTableAvailable(starts_at=start.isoformat(), party_size=party_size)
    reservation = Reservation.objects.create(
        store=store, consumer=consumer, table_type_id=picked.kind, table_no=picked.table_no, party_size=party_size,
        starts_at=start, ends_at=end, note=note, idempotency_key=key, request_hash=request_hash)
    _reservation_event(reservation, action="request", source="", actor=consumer, role="consumer")
    if setup.auto_confirm:
        _reservation_move(reservation, action="confirm", role="system", actor=None)
    return reservation


def _reservation_move(reservation: Reservation, *, action: str, role: str, actor: User | None,
                      reason: str = "") -> None:
    step = RESERVATION.find(action=action, source=reservation.status)
    if step is None or role not in step.roles:
        raise IllegalTransition(action=action, status=reservation.status)
    source = reservation.status
    reservation.status = step.target
    if action in ("cancel", "decline"):
        reservation.cancel_reason = reason[:200]
    reservation.save(update_fields=["status", "cancel_reason", "updated_at"])
    _reservation_event(reservation, action=action, source=source, actor=actor, role=role, reason=reason)
    _tell_consumer(reservation, action=action, role=role)


def _local_label(reservation: Reservation) -> str:
    return reservation.starts_at.astimezone(store_zone(reservation.store)).strftime("%m-%d %H:%M")


def _tell_consumer(reservation: Reservation, *, action: str, role: str) -> None:
    if role == "consumer":
        return
    args = {"store": reservation.store.name, "when": _local_label(reservation), "n": reservation.party_size}
    titles = {
        "confirm": _("Table reserved"),
        "decline": _("Reservation declined"),
        "cancel": _("Reservation cancelled by the store"),
    }
    if action not in titles:
        return
    body = _("%(store)s, %(when)s, %(n)s people") % args
    notify(reservation.consumer, f"table_reservation_{action}", titles[action], body,
           f"/me/reservations#{reservation.public_id}", category="order",
           dedupe_key=f"reservation:{reservation.public_id}:{action}")


def reservation_cancel(*, consumer: User, reservation_id: str, reason: str = "",
                       now: datetime | None = None) -> Reservation:
    """The consumer withdraws: a request any time before it is decided, a confirmed
    reservation until `cancel_deadline_minutes` before its start."""
    now = now or timezone.now()
    with transaction.atomic():
        reservation = (Reservation.objects.select_for_update(of=("self",)).select_related("store")
                       .filter(public_id=reservation_id, consumer=consumer).first()
                       if "\x00" not in reservation_id else None)
        if reservation is None:
            raise errors.ReservationNotFound(reservation_id=reservation_id)
        if reservation.status == RS.CONFIRMED:
            deadline = reservation.starts_at - timedelta(minutes=setup_of(reservation.store).cancel_deadline_minutes)
            if now > deadline:
                raise errors.CancelDeadlinePassed(reservation_id=reservation_id, deadline=deadline.isoformat())
        _reservation_move(reservation, action="cancel", role="consumer", actor=consumer, reason=reason)
    return reservation


def reservation_act(*, actor: User, reservation_id: str, action: str, reason: str = "",
                    now: datetime | None = None) -> Reservation:
    """Store staff (orders.act): confirm, decline, seat (check in), complete, no_show, cancel."""
    now = now or timezone.now()
    if action not in MERCHANT_RESERVATION_ACTIONS:
        raise IllegalTransition(action=action)
    with transaction.atomic():
        reservation = (Reservation.objects.select_for_update(of=("self",)).select_related("store", "consumer")
                       .filter(public_id=reservation_id).first() if "\x00" not in reservation_id else None)
        if reservation is None:
            raise errors.ReservationNotFound(reservation_id=reservation_id)
        try:
            _member_store(actor, reservation.store.public_id, roles.ORDERS_ACT)
        except StoreNotFound:
            raise errors.ReservationNotFound(reservation_id=reservation_id) from None
        if action == "no_show" and now < reservation.starts_at:
            raise errors.NoShowTooEarly(reservation_id=reservation_id, starts_at=reservation.starts_at.isoformat())
        _reservation_move(reservation, action=action, role="merchant", actor=actor, reason=reason)
    return reservation


# --- the walk-in queue --------------------------------------------------------------------------

def service_date(store: Store, now: datetime) -> date:
    return now.astimezone(store_zone(store)).date()


def queue_take(*, consumer: User, store_id: str, party_size: int, now: datetime | None = None) -> QueueTicket:
    """Draw the next number of the party's group (A 1-2, B 3-4, C 5+) for today; one active
    number per consumer per store."""
    now = now or timezone.now()
    store = store_get(public_id=store_id)
    if not setup_of(store).takes_queue:
        raise errors.QueueNotOffered(store_id=store_id)
    _party_check(party_size)
    # Opening hours only: a store paused for orders ("busy") is exactly when walk-ins queue.
    if not is_open_on(store.opening_hours, store.special_hours, now.astimezone(store_zone(store))):
        raise errors.QueueClosed(store_id=store_id)
    today = service_date(store, now)
    group = assign.queue_group(party_size)
    try:
        with transaction.atomic():
            _locked_setup(store)
            kinds = table_kinds(store)
            if party_size > assign.max_seats(kinds):
                raise errors.PartyTooLarge(party_size=party_size, max_seats=assign.max_seats(kinds))
            active = list(QueueTicket.objects.filter(store=store, consumer=consumer, status__in=QS.ACTIVE))
            for stale in [t for t in active if t.service_date < today]:
                _queue_move(stale, action="expire", role="system", actor=None)
            current = next((t for t in active if t.service_date >= today), None)
            if current is not None:
                raise errors.QueueTicketActive(ticket_id=current.public_id, code=current.code)
            last = (QueueTicket.objects.filter(store=store, service_date=today, group=group)
                    .aggregate(m=Max("number"))["m"] or 0)
            ticket = QueueTicket.objects.create(store=store, consumer=consumer, service_date=today, group=group,
                                                number=last + 1, party_size=party_size)
            _queue_event(ticket, action="take", source="", actor=consumer, role="consumer")
    except IntegrityError:  # the one-active-ticket constraint, should the lock ever be bypassed
        raise errors.QueueTicketActive(store_id=store_id) from None
    return ticket


def _queue_move(ticket: QueueTicket, *, action: str, role: str, actor: User | None,
                now: datetime | None = None) -> None:
    step = QUEUE.find(action=action, source=ticket.status)
    if step is None or role not in step.roles:
        raise IllegalTransition(action=action, status=ticket.status)
    source = ticket.status
    ticket.status = step.target
    if action == "call":
        ticket.called_at = now or timezone.now()
    ticket.save(update_fields=["status", "called_at", "updated_at"])
    _queue_event(ticket, action=action, source=source, actor=actor, role=role)


def queue_cancel(*, consumer: User, ticket_id: str) -> QueueTicket:
    with transaction.atomic():
        ticket = (QueueTicket.objects.select_for_update().filter(public_id=ticket_id, consumer=consumer).first()
                  if "\x00" not in ticket_id else None)
        if ticket is None:
            raise errors.QueueTicketNotFound(ticket_id=ticket_id)
        _queue_move(ticket, action="cancel", role="consumer", actor=consumer)
    return ticket


def queue_call_next(*, actor: User, store_id: str, group: str, now: datetime | None = None) -> QueueTicket:
    """Call the first waiting number of the group: "your table is ready" goes to its holder."""
    now = now or timezone.now()
    store = _member_store(actor, store_id, roles.ORDERS_ACT)
    if group not in {g for g, _ in assign.QUEUE_GROUPS}:
        raise errors.InvalidQueueGroup(group=group)
    with transaction.atomic():
        _locked_setup(store)
        ticket = (QueueTicket.objects.select_for_update(of=("self",)).select_related("consumer")
                  .filter(store=store, service_date=service_date(store, now), group=group, status=QS.WAITING)
                  .order_by("number").first())
        if ticket is None:
            raise errors.QueueEmpty(group=group)
        ticket.store = store
        _queue_move(ticket, action="call", role="merchant", actor=actor, now=now)
        notify(ticket.consumer, "table_queue_called", _("Your table is ready"),
               _("%(store)s: number %(code)s, please come to the front desk.")
               % {"store": store.name, "code": ticket.code}, f"/queue/{ticket.public_id}",
               category="order", urgent=True, dedupe_key=f"queue:{ticket.public_id}:called")
    return ticket


def queue_ticket_act(*, actor: User, ticket_id: str, action: str, now: datetime | None = None) -> QueueTicket:
    """Staff seat a number (waiting or called) or skip a called one that did not come
    within `skip_after_minutes`."""
    now = now or timezone.now()
    if action not in MERCHANT_QUEUE_ACTIONS:
        raise IllegalTransition(action=action)
    with transaction.atomic():
        ticket = (QueueTicket.objects.select_for_update(of=("self",)).select_related("store").filter(public_id=ticket_id).first()
                  if "\x00" not in ticket_id else None)
        if ticket is None:
            raise errors.QueueTicketNotFound(ticket_id=ticket_id)
        try:
            _member_store(actor, ticket.store.public_id, roles.ORDERS_ACT)
        except StoreNotFound:
            raise errors.QueueTicketNotFound(ticket_id=ticket_id) from None
        if action == "skip" and ticket.status == QS.CALLED and ticket.called_at is not None:
            may_skip_at = ticket.called_at + timedelta(minutes=setup_of(ticket.store).skip_after_minutes)
            if now < may_skip_at:
                raise errors.SkipTooEarly(ticket_id=ticket_id, may_skip_at=may_skip_at.isoformat())
        _queue_move(ticket, action=action, role="merchant", actor=actor)
    return ticket
