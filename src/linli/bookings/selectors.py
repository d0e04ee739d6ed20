"""Reads of service appointments: a store's bookable services and resources, availability
(the pure `slots` module over rows read here), my bookings, the merchant's calendar."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from linli.accounts.models import User
from linli.merchants.models import Product, Store
from linli.merchants.selectors import store_for_member, store_get

from . import errors, slots
from .models import BookableService, Booking, BookingSettings, Resource, TimeOff

MAX_DAYS = 31


def settings_of(store: Store) -> BookingSettings:
    """The store's booking rules (the defaults, unsaved, when it never set any)."""
    found = BookingSettings.objects.filter(store=store).first()
    return found or BookingSettings(store=store)


def service_of_store(*, store: Store, service_id: str) -> BookableService:
    """The active bookable service (catalog product id `prd_...`) of this store."""
    service = (BookableService.objects.select_related("product")
               .filter(store=store, product__public_id=service_id, is_active=True,
                       product__kind=Product.Kind.SERVICE, product__is_available=True)
               .first() if "\x00" not in service_id else None)
    if service is None or not service.product.duration_minutes:
        raise errors.ServiceNotOffered(service_id=service_id)
    return service


def services_of_store(*, store: Store) -> list[BookableService]:
    return list(BookableService.objects.select_related("product")
                .filter(store=store, is_active=True, product__kind=Product.Kind.SERVICE,
                        product__is_available=True, product__duration_minutes__isnull=False)
                .order_by("product__sort", "product_id"))


def resources_for(*, store: Store, service: BookableService, resource_id: str | None = None) -> list[Resource]:
    """Active resources of the store that can do the service (their skills include its
    skill, if it names one); only `resource_id` when given (404 if it cannot)."""
    found = [r for r in Resource.objects.filter(store=store, is_active=True)
             if not service.skill or service.skill in (r.skills or [])]
    if resource_id:
        found = [r for r in found if r.public_id == resource_id]
        if not found:
            raise errors.ResourceNotFound(resource_id=resource_id)
    return found


def service_terms(service: BookableService) -> slots.Service:
    return slots.Service(duration=int(service.product.duration_minutes or 0),
                         buffer=service.buffer_minutes, seats=max(1, service.seats))


def _minutes(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def from_minutes(value: int) -> datetime:
    return datetime.fromtimestamp(value * 60, tz=UTC)


def resource_days(*, store: Store, service: BookableService, resources: Sequence[Resource], first: date,
                  days: int, exclude_booking_id: int | None = None) -> list[slots.ResourceDay]:
    """Working and busy intervals (epoch minutes) of each resource over `days` local dates
    from `first`: two queries (bookings, time off) whatever the number of resources."""
    zone = ZoneInfo(store.timezone)
    lo = datetime(first.year, first.month, first.day, tzinfo=zone) - timedelta(days=1)
    hi = lo + timedelta(days=days + 2)
    ids = [r.pk for r in resources]
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    taken: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    rows = (Booking.objects.filter(resource_id__in=ids, status__in=Booking.HOLDING, starts_at__lt=hi,
                                   blocks_until__gt=lo)
            .exclude(pk=exclude_booking_id or 0)
            .values_list("resource_id", "service_id", "starts_at", "blocks_until"))
    for resource_id, service_id, starts_at, blocks_until in rows:
        start = _minutes(starts_at)
        busy[resource_id].append((start, _minutes(blocks_until)))
        if service_id == service.pk:
            taken[resource_id][start] += 1
    for resource_id, starts_at, ends_at in (TimeOff.objects.filter(resource_id__in=ids, starts_at__lt=hi,
                                                                   ends_at__gt=lo)
                                            .values_list("resource_id", "starts_at", "ends_at")):
        busy[resource_id].append((_minutes(starts_at), _minutes(ends_at)))
    return [slots.ResourceDay(
        key=r.public_id,
        working=slots.working_intervals(store_weekly=store.opening_hours, store_special=store.special_hours,
                                        resource_weekly=r.working_hours or None, tz=store.timezone,
                                        first=first, days=days),
        busy=busy[r.pk], taken=dict(taken[r.pk])) for r in resources]


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    resources: list[tuple[str, int]]  # (resource public id, seats left)


@dataclass(frozen=True)
class Availability:
    store: Store
    service: BookableService
    resources: list[Resource]
    slots: list[Slot]


def earliest_start(rules: BookingSettings, now: datetime) -> int:
    """The first bookable minute: now plus the store's lead time, rounded up."""
    return math.ceil((now + timedelta(minutes=rules.lead_minutes)).timestamp() / 60)


def local_today(store: Store, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(store.timezone)).date()


def availability_get(*, store_id: str, service_id: str, day: date, days: int = 1,
                     resource_id: str | None = None, now: datetime | None = None) -> Availability:
    """Bookable slots of a service over `days` local dates from `day`: working hours (the
    resource's within the store's, special dates and holidays), existing bookings with their
    buffers and time off, from now + the store's lead time to its horizon."""
    if not 1 <= days <= MAX_DAYS:
        raise errors.InvalidDate(days=days)
    now = now or timezone.now()
    store = store_get(public_id=store_id)
    service = service_of_store(store=store, service_id=service_id)
    resources = resources_for(store=store, service=service, resource_id=resource_id)
    rules = settings_of(store)
    last_day = local_today(store, now) + timedelta(days=rules.horizon_days)
    days = max(0, min(days, (last_day - day).days + 1))
    if store.status != Store.Status.OPEN or days == 0:
        return Availability(store=store, service=service, resources=resources, slots=[])
    terms = service_terms(service)
    zone = ZoneInfo(store.timezone)
    window_end = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(days=days)
    found = slots.availability(
        resource_days(store=store, service=service, resources=resources, first=day, days=days), terms,
        step=max(1, rules.step_minutes), not_before=earliest_start(rules, now), until=_minutes(window_end))
    return Availability(store=store, service=service, resources=resources, slots=[
        Slot(starts_at=from_minutes(start), ends_at=from_minutes(start + terms.duration), resources=free)
        for start, free in found])


# --- bookings -------------------------------------------------------------------------------------

def _bookings() -> QuerySet[Booking]:
    return Booking.objects.select_related("store", "service__product", "resource", "consumer", "order")


def bookings_of(*, user: User, upcoming: bool | None = None, now: datetime | None = None,
                limit: int = 100) -> list[Booking]:
    """My bookings: upcoming (still holding time) soonest first, or past ones latest first."""
    rows = _bookings().filter(consumer=user)
    if upcoming is True:
        return list(rows.filter(status__in=Booking.HOLDING).order_by("starts_at", "id")[:limit])
    if upcoming is False:
        return list(rows.exclude(status__in=Booking.HOLDING).order_by("-starts_at", "-id")[:limit])
    return list(rows.order_by("-starts_at", "-id")[:limit])


def booking_of(*, user: User, booking_id: str) -> Booking:
    booking = (_bookings().prefetch_related("events").filter(public_id=booking_id, consumer=user).first()
               if "\x00" not in booking_id else None)
    if booking is None:
        raise errors.BookingNotFound(booking_id=booking_id)
    return booking


@dataclass(frozen=True)
class Calendar:
    store: Store
    first: date
    days: list[date]
    resources: list[Resource]
    bookings: list[Booking]


def calendar_get(*, actor: User, store_id: str, first: date, days: int = 1,
                 resource_id: str | None = None) -> Calendar:
    """The merchant's calendar: every booking of `days` local dates (1 = day, 7 = week),
    by resource, cancelled ones left out."""
    if days not in (1, 7):
        raise errors.InvalidDate(days=days)
    store, _role = store_for_member(user=actor, store_id=store_id, permission="orders.act")
    zone = ZoneInfo(store.timezone)
    lo = datetime(first.year, first.month, first.day, tzinfo=zone)
    resources = list(Resource.objects.filter(store=store))
    if resource_id:
        resources = [r for r in resources if r.public_id == resource_id]
        if not resources:
            raise errors.ResourceNotFound(resource_id=resource_id)
    rows = (_bookings().filter(store=store, starts_at__gte=lo, starts_at__lt=lo + timedelta(days=days))
            .exclude(status=Booking.Status.CANCELLED)
            .filter(Q(resource__in=resources)).order_by("starts_at", "id"))
    return Calendar(store=store, first=first, days=[first + timedelta(days=i) for i in range(days)],
                    resources=resources, bookings=list(rows))


def resources_of_store(*, actor: User, store_id: str) -> tuple[Store, list[Resource]]:
    store, _role = store_for_member(user=actor, store_id=store_id, permission="store.view")
    return store, list(Resource.objects.filter(store=store))
