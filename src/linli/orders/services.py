"""Order use cases: place an order, and move it through its state machine."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import PlatformRole, User
from linli.accounts.phone import phone_normalise
from linli.core.errors import (
    DomainError,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidInput,
    PermissionDenied,
)
from linli.discovery.geo import haversine_m
from linli.inventory.services import stock_release, stock_take
from linli.merchants import roles as merchant_roles
from linli.merchants.hours import every_day, is_open_at
from linli.merchants.models import (
    MerchantMember,
    Option,
    OptionGroup,
    Product,
    ProductVariant,
    Store,
)
from linli.merchants.selectors import store_get, store_is_open
from linli.merchants.zones import BeyondLastTier, delivery_fee_for, point_in_polygon

from . import errors
from .events import order_changed_on_commit
from .models import Order, OrderEvent, OrderItem
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
    groups with their available options (three queries for any number of products)."""
    variants = ProductVariant.objects.filter(product__in=products, is_available=True)
    groups = OptionGroup.objects.filter(product__in=products).prefetch_related(
        Prefetch("options", queryset=Option.objects.filter(is_available=True)))
    found_variants: dict[int, list[Choice]] = {}
    for v in variants:
        found_variants.setdefault(v.product_id, []).append(Choice(v.public_id, v.name, v.price_delta_fen))
    found_groups: dict[int, list[GroupOffer]] = {}
    for g in groups:
        found_groups.setdefault(g.product_id, []).append(GroupOffer(
            ref=g.public_id, name=g.name, min_choices=g.min_choices, max_choices=g.max_choices,
            options=tuple(Choice(o.public_id, o.name, o.price_delta_fen, g.name)
                          for o in g.options.all())))
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
}


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
) -> OrderPlaced:
    """Place an order and take its stock, all or nothing. A retry with the same
    idempotency key returns the first order; the same key with a different body is refused."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise errors.IdempotencyKeyMissing()
    request_hash = _request_hash({
        "store": store_id, "lines": [line.as_request() for line in lines], "fulfilment": fulfilment,
        "address": asdict(address) if address else None, "note": note,
    })
    existing = _existing_for_key(consumer=consumer, key=key, request_hash=request_hash)
    if existing is not None:
        return OrderPlaced(order=existing, created=False)

    merged, quantities = _merge_lines(lines)
    store = store_get(public_id=store_id)
    now = now or timezone.now()
    if not store_is_open(store=store, at=now):
        raise errors.StoreClosed(store_id=store.public_id)
    local_now = now.astimezone(ZoneInfo(store.timezone))
    products = {p.public_id: p for p in Product.objects.filter(public_id__in=list(quantities))}
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

    delivery = fulfilment == Order.Fulfilment.DELIVERY
    distance_m = None
    delivery_fee_fen = store.delivery_fee_fen
    if delivery:
        if address is None:
            raise errors.AddressRequired()
        address = replace(address, contact_phone=phone_normalise(
            address.contact_phone, region=settings.LINLI_DEFAULT_REGION))
        distance_m = round(haversine_m(store.lat, store.lng, address.lat, address.lng))
        delivery_fee_fen = _delivery_fee(store, address, distance_m)

    offers = product_offers(list(products.values()))
    cart = []
    for (pid, variant_ref, option_refs), qty in merged.items():
        variant, options = line_choices(offers[pid], variant_ref or None, option_refs)
        cart.append(CartLine(product_ref=pid, name=products[pid].name,
                             unit_price_fen=products[pid].price_fen, quantity=qty,
                             variant=variant, options=options))
    rules = FeeRules(packaging_fee_fen=store.packaging_fee_fen,
                     delivery_fee_fen=delivery_fee_fen, min_order_fen=store.min_order_fen)
    try:
        breakdown = price_cart(cart, rules, delivery=delivery)
    except PricingError as exc:
        raise _PRICING_ERRORS[exc.code](**exc.details) from exc

    try:
        with transaction.atomic():
            order = Order.objects.create(
                consumer=consumer, store=store, city_code=store.city_code, fulfilment=fulfilment,
                items_fen=breakdown.items_fen, packaging_fee_fen=breakdown.packaging_fen,
                delivery_fee_fen=breakdown.delivery_fee_fen, total_fen=breakdown.total_fen,
                price_lines=[asdict(line) for line in breakdown.lines],
                address=asdict(address) if delivery and address else None,
                distance_m=distance_m,
                pickup_code="" if delivery else f"{secrets.randbelow(10**6):06d}",
                note=note, idempotency_key=key, request_hash=request_hash,
                pay_deadline=now + settings.LINLI_UNPAID_ORDER_TTL,
            )
            stock_take(
                store_id=store.pk,
                lines=[(products[pid], qty) for pid, qty in quantities.items()],
                reference=order.public_id, actor=consumer,
            )
            OrderItem.objects.bulk_create([
                OrderItem(order=order, product=products[line.product_ref], name=line.name,
                          unit_price_fen=line.unit_total_fen, quantity=line.quantity,
                          amount_fen=line.unit_total_fen * line.quantity,
                          variant=asdict(line.variant) if line.variant else None,
                          options=[asdict(option) for option in line.options])
                for line in cart
            ])
            OrderEvent.objects.create(order=order, action="place", from_status="",
                                      to_status=order.status, actor=consumer, actor_role="consumer")
            order_changed_on_commit(order)
    except IntegrityError:
        # The same key raced in from a retry on another connection: answer its order.
        existing = _existing_for_key(consumer=consumer, key=key, request_hash=request_hash)
        if existing is None:
            raise
        return OrderPlaced(order=existing, created=False)
    return OrderPlaced(order=order, created=True)


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
    order = Order.objects.select_for_update().select_related("store").filter(public_id=order_id).first()
    if order is None:
        raise errors.OrderNotFound(order_id=order_id)
    return order


def _apply(order: Order, *, action: str, actor: User | None, roles: set[str], note: str = "") -> Order:
    """Check the table and record one transition. The order row is locked by the caller."""
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
    elif transition.target == S.COMPLETED:
        order.completed_at = now
    elif transition.target == S.CANCELLED:
        order.cancelled_at = now
        order.cancel_reason = note
        stock_release(
            store_id=order.store_id,
            lines=list(order.items.values_list("product_id", "quantity")),
            reference=order.public_id, actor=actor,
        )
        if source != S.PENDING_PAYMENT:
            from linli.delivery.services import delivery_cancel_for_order
            from linli.payments.services import payment_refund_order

            payment_refund_order(order=order, actor=actor, reason=note or action)
            delivery_cancel_for_order(order=order, actor=actor)
    order.save()
    OrderEvent.objects.create(order=order, action=action, from_status=source,
                              to_status=order.status, actor=actor,
                              actor_role=sorted(allowed)[0], note=note)
    order_changed_on_commit(order)
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
    """Cancel orders whose payment window has passed and give their stock back."""
    now = now or timezone.now()
    due = Order.objects.filter(status=S.PENDING_PAYMENT, pay_deadline__lte=now)
    cancelled = 0
    for order_id in due.values_list("public_id", flat=True)[:1000]:
        with transaction.atomic():
            order = _lock(order_id)
            if order.status == S.PENDING_PAYMENT and order.pay_deadline <= now:
                _apply(order, action="cancel", actor=None, roles={"system"}, note="payment timeout")
                cancelled += 1
    return cancelled


def orders_auto_complete(*, now: datetime | None = None) -> int:
    """Complete delivered orders the consumer did not confirm within a day."""
    now = now or timezone.now()
    cutoff = now - settings.LINLI_AUTO_COMPLETE_AFTER
    due = Order.objects.filter(status=S.DELIVERED, updated_at__lte=cutoff)
    done = 0
    for order_id in due.values_list("public_id", flat=True)[:1000]:
        with transaction.atomic():
            order = _lock(order_id)
            if order.status == S.DELIVERED:
                _apply(order, action="confirm", actor=None, roles={"system"}, note="auto")
                done += 1
    return done
