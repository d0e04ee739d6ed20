"""Reads: a consumer's coupons with why each can or cannot be used, and the best coupon
for a cart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from linli.accounts.models import User
from linli.core.errors import DomainError
from linli.merchants.models import Product, Store
from linli.orders.pricing import CartLine, PriceBreakdown, PricingError, price_cart

from . import errors, services
from .models import Coupon


@dataclass(frozen=True)
class CouponView:
    coupon: Coupon
    refusal: DomainError | None  # None = usable

    @property
    def usable(self) -> bool:
        return self.refusal is None


def coupons_of(*, user: User, now: datetime, store: Store | None = None, limit: int = 100) -> list[CouponView]:
    """The user's coupons, usable first (soonest to expire first), then those usable elsewhere
    or later, then used and expired ones, each with the reason (`coupon_wrong_store` when a
    store is given, `coupon_not_yet_valid`, `coupon_used`, `coupon_expired`...).
    Used coupons older than the newest `limit` are not listed."""
    coupons = list(Coupon.objects.filter(user=user).select_related("template", "template__store", "order")
                   .order_by("-claimed_at")[:limit])
    new_customer: bool | None = None
    if any(c.template.new_customers_only for c in coupons):
        new_customer = services.is_new_customer(user)
    views = []
    for coupon in coupons:
        coupon.user = user
        try:
            services.coupon_check(coupon, store=store, now=now, new_customer=new_customer)
            views.append(CouponView(coupon, None))
        except DomainError as refusal:
            views.append(CouponView(coupon, refusal))
    return sorted(views, key=lambda v: (_rank(v), v.coupon.valid_until))


def _rank(view: CouponView) -> int:
    """Usable, then usable elsewhere (another store, not a new customer...), then spent."""
    if view.refusal is None:
        return 0
    return 2 if isinstance(view.refusal, (errors.CouponUsed, errors.CouponExpired)) else 1


def cart_parse(store: Store, cart: str) -> list[CartLine]:
    """"prd_a:2,prd_b:1" as cart lines at the products' base prices (no variants or
    options: the suggestion compares coupons, the order prices the real choices)."""
    wanted: dict[str, int] = {}
    for part in (cart or "").split(","):
        product_id, _, quantity = part.strip().partition(":")
        if not product_id or not quantity.isdigit() or not 1 <= int(quantity) <= 999 or len(wanted) >= 100:
            raise errors.InvalidCart(cart=cart[:200])
        wanted[product_id] = wanted.get(product_id, 0) + int(quantity)
    products = {p.public_id: p for p in Product.objects.filter(public_id__in=wanted, store=store)}
    missing = [pid for pid in wanted if pid not in products]
    if missing:
        raise errors.InvalidCart(cart=cart[:200], product_id=missing[0])
    return [CartLine(product_ref=pid, name=products[pid].name, unit_price_fen=products[pid].price_fen,
                     quantity=qty, packaging_fee_fen=products[pid].packaging_fee_fen)
            for pid, qty in wanted.items()]


@dataclass(frozen=True)
class CouponOption:
    coupon: Coupon
    breakdown: PriceBreakdown | None  # None when refused
    refusal: DomainError | None
    saves_fen: int  # against the cart with promotions only


@dataclass(frozen=True)
class BestCoupon:
    without: PriceBreakdown  # promotions only
    best: CouponOption | None  # the usable coupon giving the lowest total, when it saves anything
    options: list[CouponOption]  # every coupon: usable ones by total, then the refused ones


def coupon_best(*, consumer: User, store: Store, cart: list[CartLine], delivery: bool,
                now: datetime) -> BestCoupon:
    """Price the cart with each of the consumer's available coupons by the same engine and
    rules as the order (the delivery fee estimated with the nearest tier)."""
    from linli.orders.services import fee_rules_for, price_error

    fees = fee_rules_for(store)
    promotions, first_order = services.store_context(consumer=consumer, store=store, now=now)

    def price(coupon: Coupon | None) -> PriceBreakdown:
        plan = services.plan_with(promotions, first_order=first_order, cart=cart, coupon=coupon)
        try:
            return price_cart(cart, fees, delivery=delivery, at=now, discounts=plan.rules)
        except PricingError as exc:
            raise price_error(exc) from exc

    without = price(None)
    options = []
    for view in coupons_of(user=consumer, now=now, store=store):
        coupon = view.coupon
        if coupon.status != Coupon.Status.AVAILABLE:
            continue
        try:
            services.coupon_check(coupon, store=store, now=now, delivery=delivery)
            breakdown = price(coupon)
        except DomainError as refusal:
            options.append(CouponOption(coupon, None, refusal, 0))
            continue
        options.append(CouponOption(coupon, breakdown, None, without.total_fen - breakdown.total_fen))
    options.sort(key=lambda o: (o.breakdown is None, o.breakdown.total_fen if o.breakdown else 0,
                                o.coupon.valid_until))
    best = options[0] if options and options[0].breakdown is not None and options[0].saves_fen > 0 else None
    return BestCoupon(without=without, best=best, options=options)
