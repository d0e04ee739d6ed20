"""Fulfilment modes (issue 5): store pickup (到店自取), dine-in by table QR (扫码点餐) with
table tabs (一桌多单, paid once at the end), and scheduled orders (预约, time slots).

`fulfilment_check` is the one validation `orders.services.order_place` calls for the mode
of an order; the rest are the use cases around it: tables (owner/manager), a table's tab
(joined by each order placed at the table, billed once through `payments`), the slots a
checkout offers, and the merchant's pickup-code lookup. See docs/orders.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from linli.accounts.models import User
from linli.core.errors import InvalidInput
from linli.discovery.geo import haversine_m
from linli.merchants import roles
from linli.merchants.models import Store
from linli.merchants.selectors import role_require, store_get, store_is_open
from linli.merchants.store_profile import store_for_console

from . import errors, slots
from .models import Order, OrderItem, Table, TableTab
from .states import S

if TYPE_CHECKING:
    from linli.delivery.selectors import DeliveryPromise

# Group-buy vouchers (marketing, issue 9): an order that buys vouchers of a deal; nothing to
# deliver, no stock, no rider. Not among `Order.Fulfilment.choices` (that would need an
# orders migration) so `POST /orders` refuses it; only `services.order_place_voucher` makes one.
VOUCHER = "voucher"
# Service appointments (bookings, issue 11) that take a deposit or the full price: the same
# kind of order, made by `order_place_voucher(fulfilment=BOOKING)`; `book` completes it once paid.
BOOKING = "booking"
DEFAULT_TAB_TTL = timedelta(hours=4)  # settings.LINLI_TAB_TTL overrides it
LABEL_MAX = 20
MAX_TABLES = 500


def tab_ttl() -> timedelta:
    """How long a tab stays open for new orders and unpaid orders wait on it."""
    return getattr(settings, "LINLI_TAB_TTL", DEFAULT_TAB_TTL)


# --- the validation order_place calls ------------------------------------------------------

@dataclass(frozen=True)
class FulfilmentPlan:
    fulfilment: str
    table: Table | None = None
    scheduled_for: datetime | None = None


def _table_by_id(table_id: str) -> Table:
    table = (Table.objects.select_related("store").filter(public_id=table_id).first()
             if "\x00" not in table_id else None)
    if table is None:
        raise errors.TableNotFound(table_id=table_id)
    return table


def order_lead_minutes(store: Store, fulfilment: str, distance_m: int | None) -> int:
    """Minutes from placing to handing over: preparation, plus the ride for delivery."""
    ride = distance_m if fulfilment == Order.Fulfilment.DELIVERY else None
    return slots.lead_minutes(prep_minutes=store.prep_minutes, distance_m=ride)


SLOT_ERRORS = {"scheduled_in_past": errors.ScheduledInPast, "invalid_slot": errors.InvalidSlot,
               "scheduled_outside_hours": errors.ScheduledOutsideHours}


def fulfilment_check(*, store: Store, fulfilment: str, table_id: str | None,
                     scheduled_for: datetime | None, distance_m: int | None,
                     now: datetime) -> FulfilmentPlan:
    """The mode of an order, checked before anything is written: a known mode; dine-in at
    an active table of this store (`table_not_in_store`, `table_inactive`); a scheduled time
    that is an offered slot (`scheduled_in_past`, `invalid_slot`, `scheduled_outside_hours`)."""
    if fulfilment not in Order.Fulfilment.values:
        raise InvalidInput(field="fulfilment", value=str(fulfilment)[:20])
    table = None
    if fulfilment == Order.Fulfilment.DINE_IN:
        if not table_id:
            raise errors.TableRequired()
        table = _table_by_id(table_id)
        if table.store_id != store.pk:
            raise errors.TableNotInStore(table_id=table_id, store_id=store.public_id)
        if not table.is_active:
            raise errors.TableInactive(table_id=table_id, label=table.label)
        if scheduled_for is not None:
            raise errors.InvalidSlot(reason="dine_in_is_now")
    elif table_id:
        raise InvalidInput(field="table_id", reason="dine_in_only")
    if scheduled_for is not None:
        if store.status != Store.Status.OPEN:
            raise errors.StoreClosed(store_id=store.public_id)
        problem = slots.slot_problem(
            at=scheduled_for, now=now, tz=store.timezone, weekly=store.opening_hours,
            special=store.special_hours, lead=order_lead_minutes(store, fulfilment, distance_m))
        if problem is not None:
            code, details = problem
            raise SLOT_ERRORS[code](**details)
    return FulfilmentPlan(fulfilment=fulfilment, table=table, scheduled_for=scheduled_for)


def tab_join(*, plan: FulfilmentPlan, now: datetime) -> TableTab | None:
    """The open tab of the plan's table, opened now if there is none. Call inside the
    order's transaction: the table row is locked so two diners ordering at once share one
    tab, and a bill asked for meanwhile (tab `paying`) makes the next order open a new one."""
    if plan.table is None:
        return None
    Table.objects.select_for_update().filter(pk=plan.table.pk).first()
    tab = TableTab.objects.filter(table=plan.table, status=TableTab.Status.OPEN).first()
    if tab is not None and tab.closes_at <= now:  # nobody asked for the bill in time
        tab.status = TableTab.Status.CLOSED
        tab.save(update_fields=["status"])
        tab = None
    if tab is None:
        tab = TableTab.objects.create(store_id=plan.table.store_id, table=plan.table,
                                      closes_at=now + tab_ttl())
    return tab


def order_prepare_at(order: Order) -> datetime | None:
    """When the kitchen should start a scheduled order (the slot minus preparation and
    the ride); None for an as-soon-as-possible order."""
    if order.scheduled_for is None:
        return None
    lead = order_lead_minutes(order.store, order.fulfilment, order.distance_m)
    return order.scheduled_for - timedelta(minutes=lead)


# --- scheduled orders: the slots a checkout offers -----------------------------------------

def delivery_slots(*, store_id: str, fulfilment: str, lat: float | None = None,
                   lng: float | None = None, now: datetime | None = None) -> list[datetime]:
    """The slots of today and tomorrow (store time) for delivery to (lat, lng) or pickup.
    Delivery needs the point: the ride adds to the lead time, and it must be in range."""
    store = store_get(public_id=store_id)
    now = now or timezone.now()
    if fulfilment not in (Order.Fulfilment.DELIVERY, Order.Fulfilment.PICKUP):
        raise InvalidInput(field="fulfilment", value=str(fulfilment)[:20])
    distance_m = None
    if fulfilment == Order.Fulfilment.DELIVERY:
        if lat is None or lng is None:
            raise errors.AddressRequired()
        from .services import delivery_quote

        distance_m, _fee = delivery_quote(store, lat, lng)  # AddressOutOfRange if too far
    if store.status != Store.Status.OPEN:
        return []
    return slots.slots_offered(now=now, tz=store.timezone, weekly=store.opening_hours,
                               special=store.special_hours,
                               lead=order_lead_minutes(store, fulfilment, distance_m))


@dataclass(frozen=True)
class DeliveryEstimate:
    """What a checkout shows before the order: the distance, its fee and the promised time."""

    store: Store
    distance_m: int
    fee_fen: int
    promise: DeliveryPromise


def delivery_estimate(*, store_id: str, lat: float, lng: float, now: datetime | None = None) -> DeliveryEstimate:
    """The fee and the delivery time an order placed now to (lat, lng) would get: what
    placing it promises (delivery.selectors.delivery_promise), read the same way.
    `address_out_of_range` beyond the store's area, `store_closed` outside its hours (its
    slots are what it offers then)."""
    from linli.delivery.selectors import delivery_promise  # delivery sits above orders

    from .services import delivery_quote

    store = store_get(public_id=store_id)
    distance_m, fee = delivery_quote(store, lat, lng)
    now = now or timezone.now()
    if not store_is_open(store=store, at=now):
        raise errors.StoreClosed(store_id=store.public_id)
    promise = delivery_promise(city_code=store.city_code, prep_minutes=store.prep_minutes,
                               distance_m=distance_m, now=now)
    return DeliveryEstimate(store=store, distance_m=distance_m, fee_fen=fee, promise=promise)


def distance_to(store: Store, lat: float, lng: float) -> int:
    return round(haversine_m(store.lat, store.lng, lat, lng))


# --- tables: owner and manager manage them; every member may list and print them ----------

def _store_and_role(*, actor: User, store_id: str, permission: str) -> Store:
    store, role = store_for_console(user=actor, store_id=store_id)
    role_require(role=role, permission=permission)
    return store


def _label_clean(label: object) -> str:
    text = " ".join(str(label or "").split())
    if not (1 <= len(text) <= LABEL_MAX) or not all(c.isalnum() or c in " -_#" for c in text):
        raise errors.TableLabelInvalid(field="label", label=text[:40])
    return text


def tables_list(*, actor: User, store_id: str) -> tuple[Store, list[Table]]:
    store = _store_and_role(actor=actor, store_id=store_id, permission=roles.STORE_VIEW)
    return store, list(Table.objects.filter(store=store).order_by("label", "id"))


def table_create(*, actor: User, store_id: str, label: str) -> Table:
    store = _store_and_role(actor=actor, store_id=store_id, permission=roles.STORE_EDIT)
    clean = _label_clean(label)
    if Table.objects.filter(store=store).count() >= MAX_TABLES:
        raise InvalidInput(field="label", reason="too_many_tables", max=MAX_TABLES)
    try:
        with transaction.atomic():
            return Table.objects.create(store=store, label=clean)
    except IntegrityError:
        raise errors.TableLabelTaken(field="label", label=clean) from None


def table_update(*, actor: User, store_id: str, table_id: str, label: str | None = None,
                 is_active: bool | None = None) -> Table:
    store = _store_and_role(actor=actor, store_id=store_id, permission=roles.STORE_EDIT)
    table = Table.objects.filter(store=store, public_id=table_id).first()
    if table is None:
        raise errors.TableNotFound(table_id=table_id)
    if label is not None:
        table.label = _label_clean(label)
    if is_active is not None:
        table.is_active = bool(is_active)
    try:
        with transaction.atomic():
            table.save()
    except IntegrityError:
        raise errors.TableLabelTaken(field="label", label=table.label) from None
    return table


def table_for_diner(*, table_id: str) -> Table:
    """What scanning a table's QR code opens: the active table with its (listed) store."""
    table = _table_by_id(table_id)
    store_get(public_id=table.store.public_id)  # a delisted store's tables open nothing
    if not table.is_active:
        raise errors.TableInactive(table_id=table_id, label=table.label)
    return table


# --- the table's tab: seen by the diners who ordered on it, billed once --------------------

def _tab_orders() -> Prefetch:
    return Prefetch("orders", queryset=Order.objects.order_by("id").prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("id"))))


def tab_current(*, table: Table, consumer: User, now: datetime | None = None) -> TableTab | None:
    """The table's newest tab of this sitting (opened within the tab's lifetime) on which the
    consumer has an order: the diners who ordered at the table share its bill."""
    since = (now or timezone.now()) - tab_ttl()
    return (TableTab.objects.filter(table=table, orders__consumer=consumer, opened_at__gt=since)
            .select_related("table", "store").prefetch_related(_tab_orders())
            .order_by("-id").first())


def tab_get_for_diner(*, tab_id: str, consumer: User) -> TableTab:
    tab = (TableTab.objects.select_related("table", "store").prefetch_related(_tab_orders())
           .filter(public_id=tab_id, orders__consumer=consumer).first()
           if "\x00" not in tab_id else None)
    if tab is None:
        raise errors.TabNotFound(tab_id=tab_id)
    return tab


def tab_unpaid_fen(tab: TableTab) -> int:
    return sum(o.total_fen for o in tab.orders.all() if o.status == S.PENDING_PAYMENT)


def tab_bill(*, tab_id: str, consumer: User, now: datetime) -> tuple[TableTab, list[Order]]:
    """For `payments.services.payment_create_for_tab`, inside its transaction: lock the tab
    (after its table, in the order a new order locks them) and its unpaid orders. Only a
    diner with an order on it may ask for the bill."""
    tab = TableTab.objects.filter(public_id=tab_id, orders__consumer=consumer).first() \
        if "\x00" not in tab_id else None
    if tab is None:
        raise errors.TabNotFound(tab_id=tab_id)
    Table.objects.select_for_update().filter(pk=tab.table_id).first()
    tab = TableTab.objects.select_for_update().get(pk=tab.pk)
    if tab.status not in (TableTab.Status.OPEN, TableTab.Status.PAYING):
        raise errors.TabNotPayable(tab_id=tab_id, status=tab.status)
    orders = list(Order.objects.select_for_update().select_related("store")
                  .filter(tab=tab, status=S.PENDING_PAYMENT, pay_deadline__gt=now).order_by("id"))
    if not orders:
        raise errors.TabNotPayable(tab_id=tab_id, status=tab.status)
    return tab, orders


def tab_payment_opened(*, tab: TableTab, payment_id: str, amount_fen: int) -> None:
    """The bill is asked for: the tab takes no more orders and waits for this payment."""
    tab.status = TableTab.Status.PAYING
    tab.payment_id = payment_id
    tab.amount_fen = amount_fen
    tab.save(update_fields=["status", "payment_id", "amount_fen"])


@dataclass(frozen=True)
class TabSettled:
    tab: TableTab
    paid: list[Order]
    unpayable_fen: int  # paid for orders that could no longer take it: refund this much


def tab_settle(*, payment_id: str, amount_fen: int) -> TabSettled | None:
    """The tab's payment succeeded (`payments._payment_apply`, payment row locked): every
    unpaid order on the tab moves to `paid` (actor system); what was paid for orders
    cancelled meanwhile is returned for refunding. None if the payment is not a tab's."""
    from .services import order_transition_as

    tab = TableTab.objects.select_for_update().filter(payment_id=payment_id).first()
    if tab is None:
        return None
    paid: list[Order] = []
    for order in Order.objects.filter(tab=tab, status=S.PENDING_PAYMENT).order_by("id"):
        paid.append(order_transition_as(order=order, action="pay", actor=None, role="system",
                                        note=f"tab {tab.public_id}"))
    tab.status = TableTab.Status.PAID if paid else TableTab.Status.CLOSED
    tab.paid_at = timezone.now()
    tab.save(update_fields=["status", "paid_at"])
    return TabSettled(tab=tab, paid=paid,
                      unpayable_fen=max(amount_fen - sum(o.total_fen for o in paid), 0))


def tabs_for_store(*, store: Store) -> list[TableTab]:
    """The merchant's view of dine-in: unpaid tabs, grouped by table, oldest first, with
    their orders and items (the kitchen works from it while diners add orders)."""
    return list(TableTab.objects.filter(store=store, status__in=[TableTab.Status.OPEN,
                                                                 TableTab.Status.PAYING])
                .select_related("table").prefetch_related(_tab_orders()).order_by("opened_at"))


# --- store pickup: the merchant looks an order up by its pickup code ------------------------

def orders_by_pickup_code(*, actor: User, store_id: str, code: str) -> list[Order]:
    """The store's live pickup (and dine-in) orders with this code, newest first: what the
    console's search box finds when a customer shows their code (or its QR) at the counter."""
    store = _store_and_role(actor=actor, store_id=store_id, permission=roles.ORDERS_ACT)  # stranger: 404
    code = "".join(ch for ch in str(code) if ch.isdigit())[:8]
    if len(code) != 6:
        raise errors.PickupCodeInvalid(field="code")
    qs: QuerySet[Order] = (Order.objects.filter(store=store, pickup_code=code)
                           .exclude(status__in=[S.PENDING_PAYMENT, S.COMPLETED, *S.CANCELLED_ALL])
                           .select_related("store", "table").prefetch_related("items"))
    return list(qs.order_by("-created_at")[:10])


def order_fulfilment_out(order: Order) -> dict[str, Any]:
    """The fulfilment fields of an order's API answer."""
    prepare_at = order_prepare_at(order)
    return {
        "table": {"id": order.table.public_id, "label": order.table.label} if order.table_id else None,
        "tab_id": order.tab.public_id if order.tab_id else None,
        "scheduled_for": order.scheduled_for.isoformat() if order.scheduled_for else None,
        "prepare_at": prepare_at.isoformat() if prepare_at else None,
    }
