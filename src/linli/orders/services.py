"""Order use cases: place an order, and move it through its state machine."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import PlatformRole, User
from linli.accounts.phone import phone_normalise
from linli.core import cachebatch
from linli.core.compiled import CompiledInsert, CompiledQuery
from linli.core.errors import (
    DomainError,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidInput,
    PermissionDenied,
)
from linli.discovery.geo import haversine_m
from linli.inventory.alerts import rules_cache_key
from linli.inventory.models import StockItem
from linli.inventory.services import (
    stock_check,
    stock_commit,
    stock_release,
    stock_reserve,
    stock_sold_out_hinted,
)
from linli.merchants import roles as merchant_roles
from linli.merchants.hours import every_day, is_open_at
from linli.merchants.models import (
    MerchantMember,
    OptionGroup,
    Product,
    ProductVariant,
    Store,
)
from linli.merchants.selectors import StoreNotFound, store_get, store_is_open, store_listed
from linli.merchants.zones import BeyondLastTier, delivery_fee_for, point_in_polygon

from . import errors
from .events import order_changed_on_commit
from .fulfilment import BOOKING, VOUCHER, fulfilment_check, tab_join
from .models import Order, OrderEvent, OrderItem, StoreOrderSettings
from .pricing import (
    CartLine,
    Choice,
    FeeRules,
    GroupOffer,
    PricingError,
    ProductOffer,
    choices_resolve,
    price_cart,
)
from .states import ACTION_FULFILMENT, ORDER_MACHINE, S

logger = logging.getLogger("linli.orders")

MAX_QUANTITY = 999
MAX_LINES = 100
MAX_LINE_OPTIONS = 50


# --- errors of a line's variant and options (规格 / 加料) -----------------------------------

class VariantRequired(InvalidInput):
    code = "variant_required"
    message = _("Choose a size or portion (variant) for this product.")


class VariantUnknown(InvalidInput):
    code = "variant_unknown"
    message = _("The chosen variant is not offered by this product.")


class OptionUnknown(InvalidInput):
    code = "option_unknown"
    message = _("A chosen option is not offered by this product.")


class OptionDuplicate(InvalidInput):
    code = "option_duplicate"
    message = _("The same option was chosen twice.")


class OptionChoiceCount(InvalidInput):
    code = "option_choice_count"
    message = _("Too few or too many options were chosen in one of the product's option groups.")


CHOICE_ERRORS: dict[str, type[DomainError]] = {
    cls.code: cls for cls in (VariantRequired, VariantUnknown, OptionUnknown, OptionDuplicate,
                              OptionChoiceCount)
}


@dataclass(frozen=True)
class LineInput:
    product_id: str
    quantity: int
    variant: str | None = None  # a ProductVariant public id
    options: tuple[str, ...] = ()  # Option public ids

    def key(self) -> tuple[str, str, tuple[str, ...]]:
        """Lines with the same product, variant and options are one line."""
        return self.product_id, self.variant or "", tuple(sorted(self.options))

    def as_request(self) -> dict[str, object]:
        """For the idempotency hash: a line without choices hashes as it always did."""
        out: dict[str, object] = {"product_id": self.product_id, "quantity": self.quantity}
        if self.variant:
            out["variant"] = self.variant
        if self.options:
            out["options"] = sorted(self.options)
        return out


@dataclass(frozen=True)
class OrderPlaced:
    order: Order
    created: bool  # False when an idempotent retry answered the first order
    # A new order's events as written (its `place` event), so the API can answer without
    # reading the order back (`selectors.order_placed_view`); empty for a retry.
    events: tuple[OrderEvent, ...] = ()


@dataclass(frozen=True)
class AddressInput:
    text: str
    lat: float
    lng: float
    contact_name: str
    contact_phone: str


def _request_hash(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _existing_for_key(*, consumer: User, key: str, request_hash: str) -> Order | None:
    order = Order.objects.filter(consumer=consumer, idempotency_key=key).first()
    if order is not None and order.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return order


def _merge_lines(lines: list[LineInput]) -> tuple[dict[tuple[str, str, tuple[str, ...]], int],
                                                   dict[str, int]]:
    """(quantity per distinct line, quantity per product). A product's lines together
    stay within MAX_QUANTITY, as its stock is taken once."""
    if not lines:
        raise errors.EmptyCart()
    if len(lines) > MAX_LINES:
        raise errors.InvalidQuantity(max_lines=MAX_LINES)
    merged: dict[tuple[str, str, tuple[str, ...]], int] = {}
    per_product: dict[str, int] = {}
    for line in lines:
        if not isinstance(line.quantity, int) or line.quantity < 1:
            raise errors.InvalidQuantity(product_id=line.product_id, quantity=line.quantity)
        if len(line.options) > MAX_LINE_OPTIONS:
            raise OptionChoiceCount(product_id=line.product_id, chosen=len(line.options),
                                    max_options=MAX_LINE_OPTIONS)
        merged[line.key()] = merged.get(line.key(), 0) + line.quantity
        per_product[line.product_id] = per_product.get(line.product_id, 0) + line.quantity
        if per_product[line.product_id] > MAX_QUANTITY:
            raise errors.InvalidQuantity(product_id=line.product_id,
                                         quantity=per_product[line.product_id])
    return merged, per_product


def product_offers(products: list[Product]) -> dict[str, ProductOffer]:
    """What each product lets the buyer choose: its available variants and its option
    groups with their available options (two queries for any number of products)."""
    found_variants: dict[int, list[Choice]] = {}
    for product_id, ref, name, delta in (ProductVariant.objects.filter(product__in=products, is_available=True)
                                         .values_list("product_id", "public_id", "name", "price_delta_fen")):
        found_variants.setdefault(product_id, []).append(Choice(ref, name, delta))
    # Groups with their options in one LEFT JOIN (a group with no option still counts: a
    # required one then cannot be satisfied), in the groups' and the options' own order.
    rows = (OptionGroup.objects.filter(product__in=products)
            .order_by("product_id", "sort", "id", "options__sort", "options__id")
            .values_list("product_id", "id", "public_id", "name", "min_choices", "max_choices",
                         "options__public_id", "options__name", "options__price_delta_fen",
                         "options__is_available"))
    groups: dict[int, tuple[int, str, str, int, int, list[Choice]]] = {}
    for product_id, group_pk, ref, name, low, high, opt_ref, opt_name, opt_delta, opt_on in rows:
        group = groups.setdefault(group_pk, (product_id, ref, name, low, high, []))
        if opt_ref is not None and opt_on:
            group[5].append(Choice(opt_ref, opt_name, opt_delta, name))
    found_groups: dict[int, list[GroupOffer]] = {}
    for product_id, ref, name, low, high, options in groups.values():
        found_groups.setdefault(product_id, []).append(GroupOffer(
            ref=ref, name=name, min_choices=low, max_choices=high, options=tuple(options)))
    return {p.public_id: ProductOffer(ref=p.public_id,
                                      variants=tuple(found_variants.get(p.pk, ())),
                                      groups=tuple(found_groups.get(p.pk, ())))
            for p in products}


def line_choices(offer: ProductOffer, variant: str | None,
                 options: tuple[str, ...] | list[str]) -> tuple[Choice | None, tuple[Choice, ...]]:
    """`pricing.choices_resolve` with its refusals as the API's errors."""
    try:
        return choices_resolve(offer, variant, options)
    except PricingError as exc:
        raise CHOICE_ERRORS[exc.code](**exc.details) from exc


def delivery_quote(store: Store, lat: float, lng: float) -> tuple[int, int]:
    """(distance in metres, delivery fee) from the store to a point, or AddressOutOfRange:
    what the checkout shows per saved address, by the same rule `order_place` applies."""
    distance_m = round(haversine_m(store.lat, store.lng, lat, lng))
    probe = AddressInput(text="", lat=lat, lng=lng, contact_name="", contact_phone="")
    return distance_m, _delivery_fee(store, probe, distance_m)


def _delivery_fee(store: Store, address: AddressInput, distance_m: int) -> int:
    """The delivery fee to this address, or AddressOutOfRange. The area is the store's
    zone polygon when it has one, else its radius; fee tiers, when set, price by distance
    and end delivery after the last tier."""
    if store.delivery_zone:
        if not point_in_polygon(address.lat, address.lng, store.delivery_zone):
            raise errors.AddressOutOfRange(distance_m=distance_m, area="zone")
    elif distance_m > store.delivery_radius_m:
        raise errors.AddressOutOfRange(distance_m=distance_m, radius_m=store.delivery_radius_m)
    try:
        return delivery_fee_for(store.delivery_fee_tiers, store.delivery_fee_fen, distance_m)
    except BeyondLastTier as exc:
        raise errors.AddressOutOfRange(distance_m=distance_m, max_m=exc.max_m) from exc


_PRICING_ERRORS = {
    "empty_cart": errors.EmptyCart,
    "invalid_quantity": errors.InvalidQuantity,
    "below_minimum_order": errors.BelowMinimumOrder,
    "address_out_of_range": errors.AddressOutOfRange,
    "invalid_price": errors.InvalidPrice,
}


def fee_rules_for(store: Store) -> FeeRules:
    """The store's fees as `pricing.price_cart` reads them: one place, so the cart drawer,
    the checkout and the order are priced by the same rules."""
    return FeeRules(
        packaging_fee_fen=store.packaging_fee_fen, delivery_fee_fen=store.delivery_fee_fen,
        min_order_fen=store.min_order_fen,
        delivery_fee_tiers=tuple((t["max_m"], t["fee_fen"]) for t in store.delivery_fee_tiers or ()),
        night_surcharge_fen=store.night_surcharge_fen, night_start=store.night_start,
        night_end=store.night_end, timezone=store.timezone,
    )


def price_error(exc: PricingError) -> DomainError:
    """A pricing refusal as the API's error."""
    return _PRICING_ERRORS[exc.code](**exc.details)


def order_place(
    *,
    consumer: User,
    store_id: str,
    lines: list[LineInput],
    fulfilment: str,
    address: AddressInput | None,
    note: str = "",
    idempotency_key: str,
    now: datetime | None = None,
    expected_total_fen: int | None = None,  # pricing: the total the client showed
    extras: OrderExtras | None = None,
    table_id: str | None = None,  # fulfilment modes: dine-in at this table (tbl_...)
    scheduled_for: datetime | None = None,  # fulfilment modes: a slot (orders.slots)
    coupon_id: str | None = None,  # marketing: the consumer's claimed coupon (cpn_...)
    reroute_allowed: bool = False,  # chain re-routing: hand it to the next store on a reject
    rerouted_from: Order | None = None,  # orders.reroute: the rejected order this one replaces
) -> OrderPlaced:
    """Place an order and take its stock, all or nothing. A retry with the same
    idempotency key returns the first order; the same key with a different body is refused.

    The idempotency check rides on the insert: the order's unique (consumer, key) refuses
    a second order, and only then, or when the request is refused for any other reason
    (sold out since, price changed...), is the first order looked up, so a retry always
    gets the first answer while a new order pays no extra query."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise errors.IdempotencyKeyMissing()
    extras = order_extras_clean(extras)  # utensils and invoice (lifecycle): 422 before anything
    request_hash = _request_hash({
        "store": store_id, "lines": [line.as_request() for line in lines], "fulfilment": fulfilment,
        "address": asdict(address) if address else None, "note": note,
        **({"extras": asdict(extras)} if extras != OrderExtras() else {}),
        **({"table": table_id} if table_id else {}),
        **({"scheduled_for": scheduled_for.isoformat()} if scheduled_for else {}),
        **({"coupon": coupon_id} if coupon_id else {}),
        **({"reroute": True} if reroute_allowed else {}),
    })
    try:
        with cachebatch.batch():  # _order_create prefetches what it reads after the catalog
            order, event = _order_create(
                consumer=consumer, store_id=store_id, lines=lines, fulfilment=fulfilment,
                address=address, note=note, key=key, request_hash=request_hash, now=now,
                expected_total_fen=expected_total_fen, extras=extras, table_id=table_id,
                scheduled_for=scheduled_for, coupon_id=coupon_id,
                reroute_allowed=reroute_allowed, rerouted_from=rerouted_from)
    except (DomainError, IntegrityError):
        # A retry (the key is taken, possibly by a request that raced in on another
        # connection): answer its first order; the same key with another body is refused.
        existing = _existing_for_key(consumer=consumer, key=key, request_hash=request_hash)
        if existing is None:
            raise
        return OrderPlaced(order=existing, created=False)
    return OrderPlaced(order=order, created=True, events=(event,))


@functools.cache
def _catalog_sql(n: int) -> str:
    """The cart's products with their stock row and whether each has variants or option
    groups, for `n` public ids. Written out once per cart size rather than built by the ORM
    per order: building that query (three tables, two EXISTS) and a model per joined row
    cost ~1.1 ms of CPU an order, a third of `order_place`; this costs ~0.1 ms."""
    product, stock = Product._meta.db_table, StockItem._meta.db_table
    variant, group = ProductVariant._meta.db_table, OptionGroup._meta.db_table
    marks = ", ".join(["%s"] * n)  # table names from the models, values bound as parameters
    return (f"SELECT p.id, p.public_id, p.store_id, p.name, p.price_fen, p.packaging_fee_fen, "  # noqa: S608
            f"p.is_available, p.is_sold_out, p.availability, s.store_id, s.quantity, s.unlimited, "
            f"EXISTS (SELECT 1 FROM {variant} v WHERE v.product_id = p.id AND v.is_available), "
            f"EXISTS (SELECT 1 FROM {group} g WHERE g.product_id = p.id) "
            f"FROM {product} p LEFT JOIN {stock} s ON s.product_id = p.id "
            f"WHERE p.public_id IN ({marks})")


_CATALOG_FIELDS = ("id", "public_id", "store_id", "name", "price_fen", "packaging_fee_fen",
                   "is_available", "is_sold_out", "availability")


_STORE_LISTED = CompiledQuery(Store, lambda public_id: store_listed(public_id=public_id)[:1])
# An order's three inserts, their SQL built once (core/compiled.py: a third of an order's
# CPU went to building it through create() and bulk_create()).
_INSERT_ORDER = CompiledInsert(Order)
_INSERT_ITEM = CompiledInsert(OrderItem)
_INSERT_EVENT = CompiledInsert(OrderEvent)


def _placed_event(order: Order, consumer: User) -> OrderEvent:
    """An order's first event row: the consumer placed it (every kind of order)."""
    [event] = _INSERT_EVENT.insert([OrderEvent(order=order, action="place", from_status="",
                                               to_status=order.status, actor=consumer,
                                               actor_role="consumer")])
    return event


@dataclass(frozen=True)
class _CatalogRead:
    store: Store
    products: dict[str, Product]  # by public id; only the fields placement reads are loaded
    stock: dict[int, tuple[int, bool]]  # product pk -> (available, unlimited), this store's rows
    with_choices: list[Product]  # those with available variants or any option group


def _catalog_read(store_id: str, product_ids: list[str]) -> _CatalogRead:
    """The store and the cart's products with their stock, fresh from the primary, in two
    statements. Errors in the order `store_get` and the product checks give them: unknown
    or closed store first (`StoreNotFound`)."""
    found = _STORE_LISTED.fetch(store_id)
    if not found:
        raise StoreNotFound(store_id=store_id)
    store = found[0]
    products: dict[str, Product] = {}
    stock: dict[int, tuple[int, bool]] = {}
    with_choices = []
    with connection.cursor() as cursor:
        cursor.execute(_catalog_sql(len(product_ids)), product_ids)
        rows = cursor.fetchall()
    for row in rows:
        values = list(row[:9])
        if isinstance(values[8], str):  # JSON arrives as text on SQLite and psycopg here
            values[8] = json.loads(values[8])
        values[6], values[7] = bool(values[6]), bool(values[7])
        product = Product.from_db(connection.alias, _CATALOG_FIELDS, values)
        if product.store_id == store.pk:
            product.store = store  # one instance for the whole order
            if row[9] == store.pk:
                stock[product.pk] = (row[10], bool(row[11]))
        products[product.public_id] = product
        if row[12] or row[13]:
            with_choices.append(product)
    return _CatalogRead(store=store, products=products, stock=stock, with_choices=with_choices)


def _cache_keys(store: Store, *, fulfilment: str, scheduled_for: datetime | None) -> list[str]:
    """The cache keys placing an order in this store reads after the catalog."""
    from linli.delivery.selectors import city_load_cache_key  # delivery sits above orders
    from linli.marketing.services import promotions_cache_keys  # so does marketing

    keys = [*promotions_cache_keys(store), rules_cache_key(store.pk)]
    if fulfilment == Order.Fulfilment.DELIVERY and scheduled_for is None:
        keys.append(city_load_cache_key(store.city_code))
    return keys


def _order_create(*, consumer: User, store_id: str, lines: list[LineInput], fulfilment: str,
                  address: AddressInput | None, note: str, key: str, request_hash: str,
                  now: datetime | None, expected_total_fen: int | None, extras: OrderExtras,
                  table_id: str | None, scheduled_for: datetime | None,
                  coupon_id: str | None = None, reroute_allowed: bool = False,
                  rerouted_from: Order | None = None) -> tuple[Order, OrderEvent]:
    """Check, price and write a new order with its stock (`order_place` without the retry)."""
    merged, quantities = _merge_lines(lines)
    # inventory: a product found sold out a moment ago is refused without a query
    stock_sold_out_hinted(store_public_id=store_id, wanted=quantities)
    catalog = _catalog_read(store_id, list(quantities))
    store, products = catalog.store, catalog.products
    # The cache reads below (promotions, the city's load, the stock-alert check after the
    # commit) in one round trip instead of one each (core/cachebatch.py).
    cachebatch.prefetch(_cache_keys(store, fulfilment=fulfilment, scheduled_for=scheduled_for))
    now = now or timezone.now()
    if scheduled_for is None and not store_is_open(store=store, at=now):  # scheduled: at its slot
        raise errors.StoreClosed(store_id=store.public_id)
    local_now = now.astimezone(ZoneInfo(store.timezone))
    for product_id in quantities:
        product = products.get(product_id)
        if product is None:
            raise errors.ProductNotFound(product_id=product_id)
        if product.store_id != store.pk:
            raise errors.ProductNotInStore(product_id=product_id)
        if not product.is_available:
            raise errors.ProductUnavailable(product_id=product_id)
        if product.is_sold_out:
            raise errors.ProductSoldOut(product_id=product_id)
        if product.availability and not is_open_at(every_day(*product.availability), local_now):
            raise errors.ProductNotAvailableNow(product_id=product_id, windows=product.availability)
    # inventory: refuse what the stock clearly cannot cover (the counts came with the
    # products; nothing written; a sold-out flash sale answers here). stock_reserve
    # re-checks it atomically below.
    stock_lines = [(products[pid], qty) for pid, qty in quantities.items()]
    stock_seen = catalog.stock
    stock_check(store_id=store.pk, lines=stock_lines, seen=stock_seen)

    delivery = fulfilment == Order.Fulfilment.DELIVERY
    distance_m = None
    if delivery:
        if address is None:
            raise errors.AddressRequired()
        address = replace(address, contact_phone=phone_normalise(
            address.contact_phone, region=settings.LINLI_DEFAULT_REGION))
        distance_m = round(haversine_m(store.lat, store.lng, address.lat, address.lng))
        _delivery_fee(store, address, distance_m)  # the area check; the fee is priced below
    plan = fulfilment_check(store=store, fulfilment=fulfilment, table_id=table_id,
                            scheduled_for=scheduled_for, distance_m=distance_m, now=now)
    promised_at = None
    if delivery and distance_m is not None:
        if plan.scheduled_for is not None:
            promised_at = plan.scheduled_for  # the consumer chose the slot
        else:
            from linli.delivery.selectors import delivery_promise  # delivery sits above orders

            promised_at = delivery_promise(city_code=store.city_code, prep_minutes=store.prep_minutes,
                                           distance_m=distance_m, now=now).at

    offers = product_offers(catalog.with_choices) if catalog.with_choices else {}
    cart = []
    for (pid, variant_ref, option_refs), qty in merged.items():
        offer = offers.get(pid) or ProductOffer(ref=pid, variants=(), groups=())
        variant, options = line_choices(offer, variant_ref or None, option_refs)
        cart.append(CartLine(product_ref=pid, name=products[pid].name,
                             unit_price_fen=products[pid].price_fen, quantity=qty,
                             variant=variant, options=options,
                             packaging_fee_fen=products[pid].packaging_fee_fen))
    from linli.marketing import services as marketing  # marketing sits above orders

    discounts = marketing.discount_rules_for(consumer=consumer, store=store, cart=cart,
                                             coupon_id=coupon_id, now=now,
                                             delivery=delivery)  # promotions + coupon, or 4xx
    try:
        breakdown = price_cart(cart, fee_rules_for(store), delivery=delivery, at=now,
                               distance_m=distance_m, discounts=discounts)
    except PricingError as exc:
        raise price_error(exc) from exc
    if expected_total_fen is not None and expected_total_fen != breakdown.total_fen:
        # The client showed another total: answer the new price, write nothing (pricing).
        raise errors.PriceChanged(expected_total_fen=expected_total_fen,
                                  total_fen=breakdown.total_fen,
                                  lines=[line.as_dict() for line in breakdown.lines])

    with transaction.atomic():
        tab = tab_join(plan=plan, now=now)  # dine-in: the table's open tab
        [order] = _INSERT_ORDER.insert([Order(
            consumer=consumer, store=store, city_code=store.city_code, fulfilment=fulfilment,
            items_fen=breakdown.items_fen, packaging_fee_fen=breakdown.packaging_fen,
            delivery_fee_fen=breakdown.delivery_fee_fen, total_fen=breakdown.total_fen,
            price_lines=[line.as_dict() for line in breakdown.lines],
            address=asdict(address) if delivery and address else None,
            distance_m=distance_m,
            pickup_code="" if delivery else f"{secrets.randbelow(10**6):06d}",
            note=note, idempotency_key=key, request_hash=request_hash,
            pay_deadline=tab.closes_at if tab else now + settings.LINLI_UNPAID_ORDER_TTL,
            table=plan.table, tab=tab, scheduled_for=plan.scheduled_for, promised_at=promised_at,
            reroute_allowed=reroute_allowed and delivery, rerouted_from=rerouted_from,
            **asdict(extras),
        )])
        _INSERT_ITEM.insert([
            OrderItem(order=order, product=products[line.product_ref], name=line.name,
                      unit_price_fen=line.unit_total_fen, quantity=line.quantity,
                      amount_fen=line.unit_total_fen * line.quantity,
                      variant=line.variant.as_dict() if line.variant else None,
                      options=[option.as_dict() for option in line.options])
            for line in cart
        ])
        event = _placed_event(order, consumer)
        # marketing: the coupon is spent and a first-order discount confirmed by this order,
        # or the order is not placed
        marketing.discounts_commit(consumer=consumer, order=order, discounts=discounts, coupon_id=coupon_id,
                                   lines=breakdown.lines, now=now)
        # inventory: reserve last, so the stock row is locked only until the commit
        stock_reserve(store_id=store.pk, lines=stock_lines, reference=order.public_id,
                      actor=consumer, seen=stock_seen)
        order_changed_on_commit(order)
    return order, event


def _roles_on(order: Order, actor: User) -> set[str]:
    roles = set()
    if order.consumer_id == actor.pk:
        roles.add("consumer")
    member_role = (MerchantMember.objects.filter(user=actor, merchant_id=order.store.merchant_id)
                   .values_list("role", flat=True).first())
    if member_role is not None and merchant_roles.allows(member_role, merchant_roles.ORDERS_ACT):
        roles.add("merchant")  # owner, manager and cashier alike (merchants.roles)
    if actor.platform_role == PlatformRole.OPERATOR:
        roles.add("operator")
    return roles


def _lock(order_id: str) -> Order:
    # The order row only (`of`): locking its store too would serialise every order of a
    # store and deadlock with payments that lock the order, then a payment (found by the
    # concurrent random-sequence test on PostgreSQL).
    order = (Order.objects.select_for_update(of=("self",)).select_related("store")
             .filter(public_id=order_id).first())
    if order is None:
        raise errors.OrderNotFound(order_id=order_id)
    return order


# What a transition may change (_apply, _lifecycle_record): only these are written. The
# full row also re-encrypted the address and re-encoded the price lines at every step
# (~0.2 ms of CPU a transition, six or more an order). Every _apply works on a row it has
# just locked, so nothing else of it can be pending. tests/orders/conftest.py holds the
# row equal to the object after every transition of every order test.
_TRANSITION_FIELDS = ("status", "paid_at", "promised_at", "accept_deadline", "completed_at",
                      "delivered_at", "refunded_at", "cancelled_at", "cancel_reason",
                      "cancel_request", "cancel_request_reason", "cancel_request_at",
                      "cancel_decline_reason", "updated_at")


def _apply(order: Order, *, action: str, actor: User | None, roles: set[str], note: str = "") -> Order:
    """Check the table and record one transition. The order row is locked by the caller."""
    _lifecycle_check(order, action=action, roles=roles, note=note)
    transition = ORDER_MACHINE.find(action=action, source=order.status)
    needed_mode = ACTION_FULFILMENT.get(action)
    if transition is None or (needed_mode and order.fulfilment != needed_mode):
        raise IllegalTransition(status=order.status, action=action)
    allowed = roles & transition.roles
    if not allowed:
        raise PermissionDenied(status=order.status, action=action)
    source, now = order.status, timezone.now()
    order.status = transition.target
    if transition.target == S.PAID:
        order.paid_at = now
        if order.promised_at and order.scheduled_for is None:
            # the promise counted from checkout; the kitchen starts once it is paid
            order.promised_at += max(timedelta(0), now - order.created_at)
        stock_commit(reference=order.public_id, actor=actor)  # inventory: held units are sold
        if order.fulfilment not in (VOUCHER, BOOKING):  # vouchers, bookings: nothing to accept
            order.accept_deadline = now + _accept_timeout(order.store_id)
    elif transition.target == S.COMPLETED:
        order.completed_at = now
    elif transition.target == S.DELIVERED:
        order.delivered_at = now
    elif transition.target == S.REFUNDED:
        order.refunded_at = now
    elif transition.target in (S.CANCELLED, S.REFUNDING):
        order.cancelled_at = now
        order.cancel_reason = note
        stock_release(reference=order.public_id, actor=actor)  # inventory: held or sold units back
    _lifecycle_record(order, action=action, note=note, now=now)
    order.save(update_fields=_TRANSITION_FIELDS)
    _INSERT_EVENT.insert([OrderEvent(order=order, action=action, from_status=source,
                                     to_status=order.status, actor=actor,
                                     actor_role=sorted(allowed)[0], note=note)])
    if transition.target == S.REFUNDING:
        from linli.delivery.services import delivery_cancel_for_order
        from linli.payments.services import payment_refund_order

        # Payments refunds every successful payment and, once nothing is pending, moves the
        # order on to `refunded` (order_refund_settled) in this same transaction.
        payment_refund_order(order=order, actor=actor, reason=note or action)
        delivery_cancel_for_order(order=order, actor=actor)
        order.refresh_from_db()
    order_changed_on_commit(order)
    if action == "reject" and order.reroute_allowed:
        from .reroute import order_reroute_on_commit

        order_reroute_on_commit(order)  # the chain's next store gets it once this commits
    if action == "accept" and order.fulfilment == Order.Fulfilment.DELIVERY:
        from linli.delivery.services import delivery_open_for_order

        delivery_open_for_order(order=order)
    return order


@transaction.atomic
def order_act(
    *, order_id: str, actor: User, action: str, note: str = "", pickup_code: str | None = None
) -> Order:
    """A person moves an order on: consumer cancel/confirm, merchant accept/reject/prepare/
    ready/collect, operator cancel. Riders go through the delivery app."""
    order = _lock(order_id)
    roles = _roles_on(order, actor)
    if not roles:
        raise errors.OrderNotFound(order_id=order_id)  # not theirs: do not reveal it exists
    if action == "collect" and order.status == S.READY and (
        not pickup_code or not secrets.compare_digest(pickup_code, order.pickup_code)
    ):
        raise errors.PickupCodeInvalid()
    return _apply(order, action=action, actor=actor, roles=roles, note=note)


def order_transition_as(*, order: Order, action: str, actor: User | None, role: str,
                        note: str = "") -> Order:
    """For other apps' services that have already established the actor's role
    (the payment notification as `system`, the assigned rider as `rider`).
    Locks the order; call inside the caller's transaction."""
    locked = _lock(order.public_id)
    return _apply(locked, action=action, actor=actor, roles={role}, note=note)


def orders_cancel_unpaid(*, now: datetime | None = None) -> int:
    """Cancel orders whose payment window has passed and give their stock back. Each order
    is re-checked on its locked row: a payment notification that got the lock first wins
    (the order is paid and skipped); one arriving after finds it cancelled and is refunded."""
    now = now or timezone.now()
    due = (Order.objects.filter(status=S.PENDING_PAYMENT, pay_deadline__lte=now)
           .order_by("pay_deadline").values_list("public_id", flat=True)[:1000])

    def step(order: Order) -> bool:
        if order.status != S.PENDING_PAYMENT or order.pay_deadline > now:
            return False
        _apply(order, action="cancel", actor=None, roles={"system"}, note="payment timeout")
        return True

    return _timeout_each(list(due), step, "unpaid-timeout")


def orders_auto_complete(*, now: datetime | None = None) -> int:
    """Complete delivered orders the consumer did not confirm within
    LINLI_AUTO_COMPLETE_AFTER of delivery (`delivered_at`; rows from before it existed
    fall back to their last change)."""
    now = now or timezone.now()
    cutoff = now - settings.LINLI_AUTO_COMPLETE_AFTER
    due = (Order.objects.filter(status=S.DELIVERED)
           .filter(Q(delivered_at__lte=cutoff) | Q(delivered_at__isnull=True, updated_at__lte=cutoff))
           .order_by("id").values_list("public_id", flat=True)[:1000])

    def step(order: Order) -> bool:
        if order.status != S.DELIVERED or (order.delivered_at or order.updated_at) > cutoff:
            return False
        _apply(order, action="confirm", actor=None, roles={"system"}, note="auto")
        return True

    return _timeout_each(list(due), step, "auto-complete")


# --- lifecycle (issue 5): cancellation rules, cancel requests, timeouts, extras, re-order -----
# Rules by state (docs/orders.md): the consumer cancels freely until the merchant accepts;
# after that they may only ask (`request_cancel`, one request per order) and the merchant
# approves (refund) or declines with a reason; from `ready` on it is `cancel_too_late`.
# Every cancellation of a paid order goes `refunding` -> `refunded` through payments.

CANCEL_REQUEST_PENDING = "pending"
CANCEL_REQUEST_APPROVED = "approved"
CANCEL_REQUEST_DECLINED = "declined"
_REASON_REQUIRED = ("reject", "request_cancel", "decline_cancel")
MAX_UTENSILS = 20


def _lifecycle_check(order: Order, *, action: str, roles: set[str], note: str) -> None:
    """The cancellation rules the table alone cannot say, checked before the table so the
    consumer learns *why* (not a bare 403/409)."""
    consumer_only = "consumer" in roles and not roles & {"operator", "system"}
    if consumer_only and action in ("cancel", "request_cancel"):
        if order.status in S.TOO_LATE_TO_CANCEL:
            raise errors.CancelTooLate(status=order.status)
        if action == "cancel" and order.status in (S.ACCEPTED, S.PREPARING):
            raise errors.CancelRequestRequired(status=order.status)
    if ORDER_MACHINE.find(action=action, source=order.status) is None:
        return  # the table refuses it (illegal_transition)
    if action in _REASON_REQUIRED and not note.strip():
        raise errors.ReasonRequired(action=action)
    if action == "request_cancel" and order.cancel_request == CANCEL_REQUEST_PENDING:
        raise errors.CancelRequestPending()
    if action == "request_cancel" and order.cancel_request:
        raise errors.CancelRequestAlreadyMade(cancel_request=order.cancel_request)
    if action in ("approve_cancel", "decline_cancel") and order.cancel_request != CANCEL_REQUEST_PENDING:
        raise errors.NoCancelRequest()
    if action == "ready" and order.cancel_request == CANCEL_REQUEST_PENDING:
        raise errors.CancelRequestPending()  # answer the consumer before the food is handed on


def _lifecycle_record(order: Order, *, action: str, note: str, now: datetime) -> None:
    """What a cancel-request step leaves on the order (the event row is written by _apply)."""
    if action == "request_cancel":
        order.cancel_request = CANCEL_REQUEST_PENDING
        order.cancel_request_reason = note.strip()
        order.cancel_request_at = now
    elif action == "approve_cancel":
        order.cancel_request = CANCEL_REQUEST_APPROVED
        order.cancel_reason = note.strip() or order.cancel_request_reason
    elif action == "decline_cancel":
        order.cancel_request = CANCEL_REQUEST_DECLINED
        order.cancel_decline_reason = note.strip()


def _accept_timeout(store_id: int) -> timedelta:
    minutes = (StoreOrderSettings.objects.filter(store_id=store_id)
               .values_list("accept_timeout_minutes", flat=True).first())
    return timedelta(minutes=minutes) if minutes else settings.LINLI_ACCEPT_TIMEOUT


def order_refund_settled(*, order: Order) -> Order:
    """The payments app says every refund of this order has completed: `refunding` ->
    `refunded`. Anything else is left alone (e.g. a late payment refunded on a `cancelled`
    order). Call inside the caller's transaction."""
    locked = _lock(order.public_id)
    if locked.status != S.REFUNDING:
        return locked
    return _apply(locked, action="refund_complete", actor=None, roles={"system"},
                  note="refund completed")


def _timeout_each(order_ids: list[str], step: Callable[[Order], bool], job: str) -> int:
    """Run one timeout step per order, each in its own transaction on the locked row, so a
    payment or a merchant acting at the same moment is either seen (and the step skipped)
    or waits for us. One bad order is logged and does not stop the others."""
    done = 0
    for order_id in order_ids:
        try:
            with transaction.atomic():
                if step(_lock(order_id)):
                    done += 1
        except DomainError as exc:
            logger.error("%s: order %s refused: %s %s", job, order_id, exc.code, exc.details)
    return done


def orders_accept_timeout(*, now: datetime | None = None) -> int:
    """Paid orders the merchant did not accept by their deadline: accepted for stores that
    opted in (StoreOrderSettings.auto_accept), else rejected and refunded."""
    now = now or timezone.now()
    due = (Order.objects.filter(status=S.PAID, accept_deadline__lte=now)
           .order_by("accept_deadline").values_list("public_id", flat=True)[:1000])

    def step(order: Order) -> bool:
        if order.status != S.PAID or order.accept_deadline is None or order.accept_deadline > now:
            return False  # accepted, rejected or cancelled meanwhile: nothing to do
        auto = StoreOrderSettings.objects.filter(store_id=order.store_id, auto_accept=True).exists()
        if auto:
            _apply(order, action="accept", actor=None, roles={"system"}, note="auto-accepted")
        else:
            _apply(order, action="reject", actor=None, roles={"system"}, note="not accepted in time")
        return True

    return _timeout_each(list(due), step, "accept-timeout")


# A cancel request the store does not answer in time is approved by the system, through
# the merchant's own transition (`approve_cancel`), so the refund is the same.
DEFAULT_CANCEL_REQUEST_TIMEOUT_MINUTES = 10
MAX_CANCEL_REQUEST_TIMEOUT_MINUTES = 60
CANCEL_REQUEST_TIMEOUT_NOTE = "cancel request not answered in time"


def _cancel_request_timeouts(store_ids: set[int]) -> dict[int, timedelta]:
    minutes = dict(StoreOrderSettings.objects.filter(store_id__in=store_ids)
                   .values_list("store_id", "cancel_request_timeout_minutes"))
    return {store_id: timedelta(minutes=minutes.get(store_id, DEFAULT_CANCEL_REQUEST_TIMEOUT_MINUTES))
            for store_id in store_ids}


def cancel_request_deadline(order: Order) -> datetime | None:
    """When the system approves the order's pending cancel request (None: none pending)."""
    if order.cancel_request != CANCEL_REQUEST_PENDING or order.cancel_request_at is None:
        return None
    return order.cancel_request_at + _cancel_request_timeouts({order.store_id})[order.store_id]


def orders_cancel_request_timeout(*, now: datetime | None = None) -> int:
    """Approve (as `system`) every cancel request its store left unanswered for the store's
    `cancel_request_timeout_minutes`: the order is refunded exactly as when the merchant
    approves. Re-checked on the locked row, so a merchant's answer that got there first
    (declined or approved) leaves the order alone, and one that comes after is refused
    (409 illegal_transition / no_cancel_request)."""
    now = now or timezone.now()
    # Pending requests are few and short-lived (at most the longest store timeout): read them
    # past the shortest possible timeout, then apply each store's own in Python.
    pending = list(Order.objects.filter(
        status__in=(S.ACCEPTED, S.PREPARING), cancel_request=CANCEL_REQUEST_PENDING,
        cancel_request_at__lte=now - timedelta(minutes=1),
    ).order_by("cancel_request_at").values_list("public_id", "store_id", "cancel_request_at")[:5000])
    timeouts = _cancel_request_timeouts({store_id for _, store_id, _ in pending})
    due = [order_id for order_id, store_id, at in pending if at + timeouts[store_id] <= now][:1000]

    def step(order: Order) -> bool:
        deadline = cancel_request_deadline(order)
        if order.status not in (S.ACCEPTED, S.PREPARING) or deadline is None or deadline > now:
            return False  # answered (or moved on) meanwhile: nothing to do
        _apply(order, action="approve_cancel", actor=None, roles={"system"},
               note=CANCEL_REQUEST_TIMEOUT_NOTE)
        return True

    return _timeout_each(due, step, "cancel-request-timeout")


# --- order extras: utensils and invoice request ------------------------------------------

@dataclass(frozen=True)
class OrderExtras:
    utensils: int | None = None  # sets of utensils; 0 = none (the eco choice); None = not said
    invoice_title: str = ""
    invoice_tax_no: str = ""
    invoice_email: str = ""


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def tax_no_valid(tax_no: str) -> bool:
    """A taxpayer id: the 18-character unified social credit code (GB 32100-2015) with its
    check character, or an older 15/20-character tax registration number."""
    if len(tax_no) in (15, 20):
        return tax_no.isascii() and tax_no.isalnum() and tax_no == tax_no.upper()
    if len(tax_no) != 18 or any(c not in _USCC_CHARS for c in tax_no):
        return False
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(tax_no[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31] == tax_no[17]


def order_extras_clean(extras: OrderExtras | None) -> OrderExtras:
    """Normalise and check utensils and the invoice request (422 with the field's code)."""
    if extras is None:
        return OrderExtras()
    utensils = extras.utensils
    if utensils is not None and (isinstance(utensils, bool) or not isinstance(utensils, int)
                                 or not 0 <= utensils <= MAX_UTENSILS):
        raise errors.UtensilsInvalid(field="utensils", max=MAX_UTENSILS)
    title = (extras.invoice_title or "").strip()
    tax_no = (extras.invoice_tax_no or "").strip().upper().replace(" ", "")
    email = (extras.invoice_email or "").strip()
    if (tax_no or email) and not title:
        raise errors.InvoiceTitleRequired(field="invoice_title")
    if len(title) > 100:
        raise InvalidInput(field="invoice_title", max_length=100)
    if tax_no and not tax_no_valid(tax_no):
        raise errors.InvoiceTaxNoInvalid(field="invoice_tax_no")
    if title:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise errors.InvoiceEmailInvalid(field="invoice_email") from exc
    return OrderExtras(utensils=utensils, invoice_title=title, invoice_tax_no=tax_no,
                       invoice_email=email)


# --- store order settings (auto-accept, accept timeout) ----------------------------------

MAX_ACCEPT_TIMEOUT_MINUTES = 60


def store_order_settings_get(*, store_id: str, actor: User) -> tuple[Store, StoreOrderSettings]:
    store = store_get(public_id=store_id)
    _require_store_role(store, actor, merchant_roles.ORDERS_ACT)
    found = StoreOrderSettings.objects.filter(store=store).first()
    return store, found or StoreOrderSettings(store=store)


@transaction.atomic
def store_order_settings_set(*, store_id: str, actor: User, auto_accept: bool,
                             accept_timeout_minutes: int | None,
                             cancel_request_timeout_minutes: int | None = None) -> StoreOrderSettings:
    """Owner or manager sets how the store takes orders (applies to orders paid from now;
    a new cancel-request timeout applies to pending requests too). A None
    `cancel_request_timeout_minutes` keeps what is set."""
    store = store_get(public_id=store_id)
    _require_store_role(store, actor, merchant_roles.STORE_EDIT)
    if accept_timeout_minutes is not None and not 1 <= accept_timeout_minutes <= MAX_ACCEPT_TIMEOUT_MINUTES:
        raise InvalidInput(field="accept_timeout_minutes", min=1, max=MAX_ACCEPT_TIMEOUT_MINUTES)
    defaults: dict[str, object] = {"auto_accept": auto_accept,
                                   "accept_timeout_minutes": accept_timeout_minutes}
    if cancel_request_timeout_minutes is not None:
        if not 1 <= cancel_request_timeout_minutes <= MAX_CANCEL_REQUEST_TIMEOUT_MINUTES:
            raise InvalidInput(field="cancel_request_timeout_minutes", min=1,
                               max=MAX_CANCEL_REQUEST_TIMEOUT_MINUTES)
        defaults["cancel_request_timeout_minutes"] = cancel_request_timeout_minutes
    found, _ = StoreOrderSettings.objects.update_or_create(store=store, defaults=defaults)
    return found


def _require_store_role(store: Store, actor: User, permission: str) -> None:
    role = (MerchantMember.objects.filter(user=actor, merchant_id=store.merchant_id)
            .values_list("role", flat=True).first())
    if role is None:
        from linli.merchants.selectors import StoreNotFound

        raise StoreNotFound(store_id=store.public_id)  # not theirs: do not reveal it
    if not merchant_roles.allows(role, permission):
        raise PermissionDenied(permission=permission)


# --- re-order (再来一单): the old order's lines as a new cart at today's prices ------------

@dataclass(frozen=True)
class ReorderLine:
    product_id: str
    name: str
    quantity: int
    variant: str | None
    options: tuple[str, ...]
    choices_label: str
    was_unit_price_fen: int
    unit_price_fen: int | None  # today's price with today's deltas; None when it cannot be had
    # ok | price_changed (can be ordered at the new price) | unavailable | sold_out |
    # not_available_now | stock_low | choices_changed (a variant/option is gone or the rules
    # changed) | gone (the product left the store)
    status: str

    @property
    def orderable(self) -> bool:
        return self.status in ("ok", "price_changed")


@dataclass(frozen=True)
class ReorderCart:
    store: Store
    store_open: bool
    fulfilment: str
    note: str
    utensils: int | None
    lines: list[ReorderLine]

    @property
    def items_fen(self) -> int:
        return sum(line.unit_price_fen * line.quantity for line in self.lines
                   if line.orderable and line.unit_price_fen is not None)

    @property
    def changed(self) -> bool:
        return any(line.status != "ok" for line in self.lines)


def order_reorder(*, consumer: User, order_id: str, now: datetime | None = None) -> ReorderCart:
    """再来一单: a cart (not an order) holding the order's lines at today's prices and
    availability, every line flagged; the consumer reviews it and places a new order with
    the orderable lines. Only the order's own consumer may; a few queries whatever the size."""
    order = Order.objects.select_related("store").filter(public_id=order_id, consumer=consumer).first()
    if order is None:
        raise errors.OrderNotFound(order_id=order_id)
    now = now or timezone.now()
    store = order.store
    local_now = now.astimezone(ZoneInfo(store.timezone))
    items = list(order.items.select_related("product").order_by("id"))
    products = [item.product for item in items]
    offers = product_offers(products)
    stock = dict(StockItem.objects.filter(product__in=products).values_list("product_id", "quantity"))
    lines = []
    for item in items:
        product = item.product
        variant_ref = (item.variant or {}).get("ref")
        option_refs = tuple(option["ref"] for option in item.options or ())
        unit_price: int | None = None
        if product.store_id != store.pk:
            status = "gone"
        elif not product.is_available:
            status = "unavailable"
        elif product.is_sold_out or stock.get(product.pk, 0) <= 0:
            status = "sold_out"
        elif product.availability and not is_open_at(every_day(*product.availability), local_now):
            status = "not_available_now"
        else:
            try:
                variant, options = line_choices(offers[product.public_id], variant_ref, option_refs)
            except InvalidInput:
                status = "choices_changed"
            else:
                unit_price = CartLine(product_ref=product.public_id, name=product.name,
                                      unit_price_fen=product.price_fen, quantity=item.quantity,
                                      variant=variant, options=options).unit_total_fen
                if stock.get(product.pk, 0) < item.quantity:
                    status = "stock_low"
                else:
                    status = "ok" if unit_price == item.unit_price_fen else "price_changed"
        lines.append(ReorderLine(
            product_id=product.public_id, name=product.name, quantity=item.quantity,
            variant=variant_ref, options=option_refs, choices_label=item.choices_label,
            was_unit_price_fen=item.unit_price_fen, unit_price_fen=unit_price, status=status))
    return ReorderCart(store=store, store_open=store_is_open(store=store, at=now),
                       fulfilment=order.fulfilment, note=order.note, utensils=order.utensils,
                       lines=lines)


# --- fulfilment modes: group-buy vouchers (marketing, issue 9) ------------------------------

def order_place_voucher(*, consumer: User, store: Store, label: str, ref: str, unit_price_fen: int,
                        quantity: int, idempotency_key: str, request: dict[str, object],
                        within: Callable[[Order], None], now: datetime | None = None,
                        fulfilment: str = VOUCHER) -> OrderPlaced:
    """An order buying `quantity` vouchers of a deal (`ref`, marketing's public id): one
    item price line, no order items, no stock, no delivery; paid, refunded and timed out
    like any order. `within(order)` runs inside the order's transaction (marketing takes
    the deal's quota there: if it raises, there is no order). Idempotent by key like
    `order_place`: the same key and `request` answer the first order."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise errors.IdempotencyKeyMissing()
    request_hash = _request_hash({"voucher": ref, **request})
    now = now or timezone.now()
    total = unit_price_fen * quantity
    line = {"kind": "item", "label": label, "amount_fen": total, "quantity": quantity,
            "unit_price_fen": unit_price_fen, "product_ref": "", "variant": None, "options": [],
            "ref": ref, "target": ""}
    try:
        with transaction.atomic():
            [order] = _INSERT_ORDER.insert([Order(
                consumer=consumer, store=store, city_code=store.city_code, fulfilment=fulfilment,
                items_fen=total, total_fen=total, price_lines=[line], idempotency_key=key,
                request_hash=request_hash, pay_deadline=now + settings.LINLI_UNPAID_ORDER_TTL)])
            event = _placed_event(order, consumer)
            within(order)
            order_changed_on_commit(order)
    except (DomainError, IntegrityError):
        existing = _existing_for_key(consumer=consumer, key=key, request_hash=request_hash)
        if existing is None:
            raise
        return OrderPlaced(order=existing, created=False)
    return OrderPlaced(order=order, created=True, events=(event,))
