"""Reads of table reservations and the walk-in queue: what each page and endpoint shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from linli.accounts.models import User
from linli.merchants import roles
from linli.merchants.models import Store
from linli.merchants.selectors import store_for_member, store_get

from . import assign, errors
from .models import QueueTicket, Reservation, TableSetup, TableType
from .services import _party_check, booked_between, service_date, setup_of, store_zone, table_kinds
from .states import QS


@dataclass(frozen=True)
class StoreTables:
    store: Store
    setup: TableSetup
    table_types: list[TableType]
    waiting: dict[str, int]  # queue group -> waiting numbers today


def store_tables(*, store_id: str, now: datetime | None = None) -> StoreTables:
    store = store_get(public_id=store_id)
    setup = setup_of(store)
    types = list(TableType.objects.filter(store=store, is_active=True))
    waiting = {g: 0 for g, _ in assign.QUEUE_GROUPS}
    if setup.takes_queue:
        today = service_date(store, now or timezone.now())
        for group in QueueTicket.objects.filter(store=store, service_date=today, status=QueueTicket.Status.WAITING
                                                ).values_list("group", flat=True):
            waiting[group] = waiting.get(group, 0) + 1
    return StoreTables(store=store, setup=setup, table_types=types, waiting=waiting)


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # aware, in the store's zone
    available: bool
    table_type: str = ""  # the name of the type a reservation now would get


def parse_day(raw: str) -> date:
    try:
        day = date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise errors.InvalidSlot(date=raw) from None
    if day.isoformat() != raw:
        raise errors.InvalidSlot(date=raw)
    return day


def availability(*, store_id: str, day: date, party_size: int, now: datetime | None = None) -> list[Slot]:
    """The day's slots (store-local) still in the future, each with whether a table fits the party."""
    now = now or timezone.now()
    store = store_get(public_id=store_id)
    setup = setup_of(store)
    if not setup.takes_reservations:
        raise errors.ReservationsNotOffered(store_id=store_id)
    _party_check(party_size)
    kinds = table_kinds(store)
    if party_size > assign.max_seats(kinds):
        raise errors.PartyTooLarge(party_size=party_size, max_seats=assign.max_seats(kinds))
    zone = store_zone(store)
    today = now.astimezone(zone).date()
    if day > today + timedelta(days=setup.days_ahead):
        raise errors.SlotTooFarAhead(date=day.isoformat(), days_ahead=setup.days_ahead)
    if day < today or store.status == Store.Status.CLOSED:
        return []
    starts = [s for s in assign.day_slots(store.opening_hours, store.special_hours, day, zone,
                                          slot_minutes=setup.slot_minutes, seating_minutes=setup.seating_minutes)
              if s > now]
    if not starts:
        return []
    seating = timedelta(minutes=setup.seating_minutes)
    booked = booked_between(store, starts[0], starts[-1] + seating)
    names = {t.pk: t.name for t in TableType.objects.filter(store=store)}
    out = []
    for start in starts:
        picked = assign.table_assign(kinds, booked, party=party_size, start=start, end=start + seating)
        out.append(Slot(starts_at=start, available=picked is not None,
                        table_type=names.get(picked.kind, "") if picked else ""))
    return out


def reservations_of_consumer(*, user: User) -> QuerySet[Reservation]:
    return (Reservation.objects.filter(consumer=user).select_related("store", "table_type")
            .order_by("-starts_at")[:100])  # type: ignore[return-value]


def reservation_of_consumer(*, user: User, reservation_id: str) -> Reservation:
    reservation = (Reservation.objects.select_related("store", "table_type")
                   .filter(public_id=reservation_id, consumer=user).first() if "\x00" not in reservation_id else None)
    if reservation is None:
        raise errors.ReservationNotFound(reservation_id=reservation_id)
    return reservation


def cancel_deadline(reservation: Reservation) -> datetime:
    return reservation.starts_at - timedelta(minutes=setup_of(reservation.store).cancel_deadline_minutes)


def reservations_of_day(*, actor: User, store_id: str, day: date | None = None,
                        now: datetime | None = None) -> tuple[Store, date, list[Reservation]]:
    """A store's reservations starting on a local day (today by default), for its staff."""
    store, _role = store_for_member(user=actor, store_id=store_id, permission=roles.ORDERS_ACT)
    zone = store_zone(store)
    day = day or (now or timezone.now()).astimezone(zone).date()
    start = datetime.combine(day, time(0, 0), tzinfo=zone)
    rows = list(Reservation.objects.filter(store=store, starts_at__gte=start, starts_at__lt=start + timedelta(days=1))
                .select_related("consumer", "table_type").order_by("starts_at", "id"))
    return store, day, rows


@dataclass
class QueueGroup:
    group: str
    waiting: list[QueueTicket] = field(default_factory=list)
    called: list[QueueTicket] = field(default_factory=list)


def queue_board(*, actor: User, store_id: str, now: datetime | None = None) -> tuple[Store, list[QueueGroup]]:
    """Today's waiting and called numbers per group, for the store's staff."""
    store, _role = store_for_member(user=actor, store_id=store_id, permission=roles.ORDERS_ACT)
    today = service_date(store, now or timezone.now())
    groups = {g: QueueGroup(group=g) for g, _ in assign.QUEUE_GROUPS}
    for ticket in (QueueTicket.objects.filter(store=store, service_date=today, status__in=QS.ACTIVE)
                   .select_related("consumer").order_by("group", "number")):
        board = groups[ticket.group]
        (board.waiting if ticket.status == QueueTicket.Status.WAITING else board.called).append(ticket)
    return store, list(groups.values())


def queue_position(ticket: QueueTicket) -> int:
    """Waiting numbers ahead of this one in its group today (0 once called or closed)."""
    if ticket.status != QueueTicket.Status.WAITING:
        return 0
    return QueueTicket.objects.filter(store_id=ticket.store_id, service_date=ticket.service_date, group=ticket.group,
                                      status=QueueTicket.Status.WAITING, number__lt=ticket.number).count()


def queue_ticket_of_consumer(*, user: User, ticket_id: str) -> QueueTicket:
    ticket = (QueueTicket.objects.select_related("store").filter(public_id=ticket_id, consumer=user).first()
              if "\x00" not in ticket_id else None)
    if ticket is None:
        raise errors.QueueTicketNotFound(ticket_id=ticket_id)
    return ticket


def queue_tickets_of_consumer(*, user: User) -> list[QueueTicket]:
    return list(QueueTicket.objects.filter(consumer=user).select_related("store").order_by("-created_at")[:20])
