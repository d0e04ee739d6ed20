"""Marketing use cases: claim a coupon, resolve a cart's discounts, redeem a coupon with an
order, give it back when the order is cancelled or refunded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from linli.accounts.models import User
from linli.core.versioned import Versioned
from linli.merchants.models import Store
from linli.orders.models import Order
from linli.orders.pricing import CartLine, DiscountRule, PriceLine
from linli.orders.states import S

from . import errors, rules
from .models import (
    ClaimCounter,
    Coupon,
    CouponEvent,
    CouponRedemption,
    CouponTemplate,
    Promotion,
    funding_split,
)

# --- claiming -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    coupon: Coupon
    created: bool  # False: a retry with the same Idempotency-Key answered the first claim


def is_new_customer(consumer: User, store: Store | None = None, *, besides: Order | None = None) -> bool:
    """No order (at this store, or anywhere) that was not cancelled or refunded, other than
    `besides` (the order being placed)."""
    orders = Order.objects.filter(consumer=consumer)
    if store is not None:
        orders = orders.filter(store=store)
    if besides is not None:
        orders = orders.exclude(pk=besides.pk)
    return not orders.exclude(status__in=S.CANCELLED_ALL).exists()


def _claimed_with_key(user: User, template_id: str, key: str) -> Coupon | None:
    if not key:
        return None
    return (Coupon.objects.select_related("template", "template__store")
            .filter(user=user, template__public_id=template_id, claim_key=key).first())


def coupon_claim(*, user: User, template_id: str, key: str = "", now: datetime | None = None) -> Claimed:
    """Claim one coupon of a template (free). The user's count and the template's quota are
    each taken by a conditional UPDATE in one transaction (the user's row first, the shared
    template row last and briefly), so neither the per-user limit nor the quota can be
    passed by concurrent claims. A template with a `points_cost` takes the points in the same
    transaction (409 points_insufficient: nothing claimed, nothing spent). A retry with the
    same `key` answers the first coupon."""
    now = now or timezone.now()
    key = (key or "").strip()[:100]
    first = _claimed_with_key(user, template_id, key)
    if first is not None:
        return Claimed(first, created=False)
    template = CouponTemplate.objects.filter(public_id=template_id, is_active=True).first()
    if template is None:
        raise errors.CouponTemplateNotFound(template_id=template_id)
    if ((template.claim_starts_at and now < template.claim_starts_at)
            or (template.claim_ends_at and now >= template.claim_ends_at)
            or (template.valid_until and now >= template.valid_until)):
        raise errors.CouponClaimClosed(template_id=template_id)
    if template.new_customers_only and not is_new_customer(user):
        raise errors.CouponNewCustomersOnly(template_id=template_id)
    try:
        with transaction.atomic():
            counter, _ = ClaimCounter.objects.get_or_create(template=template, user=user)
            if not (ClaimCounter.objects.filter(pk=counter.pk, count__lt=template.per_user_limit)
                    .update(count=F("count") + 1)):
                raise errors.CouponClaimLimit(template_id=template_id, per_user_limit=template.per_user_limit)
            room = Q(total_quota__isnull=True) | Q(issued_count__lt=F("total_quota"))
            if not CouponTemplate.objects.filter(room, pk=template.pk).update(issued_count=F("issued_count") + 1):
                raise errors.CouponSoldOut(template_id=template_id)
            valid_from, valid_until = template.validity_for(now)
            coupon = Coupon.objects.create(template=template, user=user, valid_from=valid_from,
                                           valid_until=valid_until, claimed_at=now, claim_key=key)
            if template.points_cost:  # 积分兑换: the points go in the claim's transaction or nothing does
                from linli.pos.points import points_spend  # points sit above marketing

                points_spend(member=user, points=template.points_cost, key=f"coupon:{coupon.public_id}",
                             reference=coupon.public_id, actor=user)
            CouponEvent.objects.create(coupon=coupon, action="claim", actor=user)
    except (errors.CouponClaimLimit, IntegrityError):
        first = _claimed_with_key(user, template_id, key)  # the same key raced in on another connection
        if first is None:
            raise
        return Claimed(first, created=False)
    return Claimed(coupon, created=True)


# --- checking a coupon against a cart ---------------------------------------------------------

def coupon_spec(coupon: Coupon) -> rules.CouponSpec:
    t = coupon.template
    return rules.CouponSpec(ref=coupon.public_id, label=t.name, kind=t.kind, amount_fen=t.amount_fen,
                            percent_off=t.percent_off, cap_fen=t.cap_fen, threshold_fen=t.threshold_fen,
                            stacks_with_promotions=t.stacks_with_promotions)


def coupon_check(coupon: Coupon, *, store: Store | None, now: datetime, delivery: bool | None = None,
                 new_customer: bool | None = None) -> None:
    """Raise why this coupon cannot be used (for this store and fulfilment when given), or
    return. `new_customer` None = look it up when the coupon needs it."""
    template = coupon.template
    if coupon.status == Coupon.Status.USED:
        raise errors.CouponUsed(coupon_id=coupon.public_id)
    if coupon.status == Coupon.Status.EXPIRED or now >= coupon.valid_until:
        raise errors.CouponExpired(coupon_id=coupon.public_id, valid_until=coupon.valid_until.isoformat())
    if now < coupon.valid_from:
        raise errors.CouponNotYetValid(coupon_id=coupon.public_id, valid_from=coupon.valid_from.isoformat())
    if store is not None and not _in_scope(template, store):
        raise errors.CouponWrongStore(coupon_id=coupon.public_id, store_id=store.public_id)
    if delivery is False and template.kind == CouponTemplate.Kind.FREE_DELIVERY:
        raise errors.CouponDeliveryOnly(coupon_id=coupon.public_id)
    if template.new_customers_only:
        if new_customer is None:
            new_customer = is_new_customer(coupon.user)
        if not new_customer:
            raise errors.CouponNewCustomersOnly(coupon_id=coupon.public_id)


def _in_scope(template: CouponTemplate, store: Store) -> bool:
    if template.scope == CouponTemplate.Scope.STORE:
        return template.store_id == store.pk
    if template.scope == CouponTemplate.Scope.CATEGORY:
        return template.category_id == store.category_id
    return True


def _own_coupon(consumer: User, coupon_id: str) -> Coupon:
    coupon = (Coupon.objects.select_related("template").filter(public_id=coupon_id, user=consumer).first())
    if coupon is None:  # someone else's or made up: the same answer, existence not revealed
        raise errors.CouponNotFound(coupon_id=coupon_id)
    coupon.user = consumer
    return coupon


# --- the cart's discounts ---------------------------------------------------------------------

_PROMOTIONS = Versioned("promotions")  # per store pk


def promotions_changed(*store_pks: int) -> None:
    """These stores' promotions changed (receivers: every Promotion save and delete)."""
    _PROMOTIONS.changed(*store_pks)


_Entry = tuple[datetime, datetime, rules.PromotionSpec]  # (starts_at, ends_at, the rule)


def _promotions_not_ended(store_pk: int, at: datetime) -> list[_Entry]:
    found = (Promotion.objects.filter(store_id=store_pk, is_active=True, ends_at__gt=at)
             .select_related("product").order_by())
    return [(p.starts_at, p.ends_at, rules.PromotionSpec(
        ref=p.public_id, label=p.name, kind=p.kind, priority=p.priority, exclusive=p.exclusive,
        tiers=p.tier_list(), amount_fen=p.amount_fen,
        product_ref=p.product.public_id if p.product else "", special_price_fen=p.special_price_fen,
        per_order_limit=p.per_order_limit, buy_qty=p.buy_qty, free_qty=p.free_qty)) for p in found]


def promotions_cache_keys(store: Store) -> list[str]:
    """What `promotions_live(store, ...)` reads from the cache (core/cachebatch.py)."""
    return _PROMOTIONS.keys(store.pk)


def promotions_live(store: Store, now: datetime) -> list[rules.PromotionSpec]:
    """The store's promotions running at `now`. Every cart and order asks (it was 15 % of
    placing an order), so the store's active promotions not ended when the list was built
    are cached until a promotion of the store changes; which of them run is decided per
    call from their times, so one that starts or ends meanwhile is right to the second.
    A list holds what had not ended at the `now` of the call that built it: a call with an
    earlier `now` (a test's or a replay's clock) reads the database."""
    def build() -> tuple[datetime, list[_Entry]]:
        return now, _promotions_not_ended(store.pk, now)

    built_at, entries = _PROMOTIONS.get(store.pk, build, settings.LINLI_PROMOTIONS_CACHE_SECONDS)
    if now < built_at:
        entries = _promotions_not_ended(store.pk, now)
    return [spec for starts_at, ends_at, spec in entries if starts_at <= now < ends_at]


def store_context(*, consumer: User | None, store: Store, now: datetime) -> tuple[list[rules.PromotionSpec], bool]:
    """(the store's live promotions, whether the consumer's order would be a first order
    there): read once per cart; the second only when a first-order promotion runs. No
    consumer (a visitor's cart): not known to be a first order."""
    promotions = promotions_live(store, now)
    first_order = (consumer is not None and any(p.kind == rules.FIRST_ORDER for p in promotions)
                   and is_new_customer(consumer, store))
    return promotions, first_order


def plan_with(promotions: Sequence[rules.PromotionSpec], *, first_order: bool, cart: Sequence[CartLine],
              coupon: Coupon | None) -> rules.Plan:
    """`rules.discount_plan` with the coupon's threshold checked where the engine checks it:
    CouponBelowThreshold {threshold_fen, items_fen} when the goods at that point fall short."""
    plan = rules.discount_plan(promotions, lines=cart, first_order=first_order,
                               coupon=coupon_spec(coupon) if coupon else None)
    if coupon is not None and plan.coupon_rule is not None:
        goods = rules.goods_before(cart, plan.rules, plan.coupon_rule)
        if goods < plan.coupon_rule.threshold_fen:
            raise errors.CouponBelowThreshold(coupon_id=coupon.public_id,
                                              threshold_fen=plan.coupon_rule.threshold_fen, items_fen=goods)
    return plan


def discount_rules_for(*, consumer: User | None, store: Store, cart: Sequence[CartLine], coupon_id: str | None,
                       now: datetime, delivery: bool = True) -> list[DiscountRule]:
    """The DiscountRules `orders.pricing.price_cart` gets for this cart: the store's live
    promotions and, when `coupon_id` is given, the consumer's coupon, or the reason the
    coupon is refused (nothing is written either way). `consumer` None: a visitor's cart
    (the H5 cart drawer before login) gets the promotions only."""
    coupon = None
    if coupon_id:
        if consumer is None:
            raise errors.CouponNotFound(coupon_id=coupon_id)
        coupon = _own_coupon(consumer, coupon_id)
        coupon_check(coupon, store=store, now=now, delivery=delivery)
    promotions, first_order = store_context(consumer=consumer, store=store, now=now)
    return list(plan_with(promotions, first_order=first_order, cart=cart, coupon=coupon).rules)


# --- redemption and return --------------------------------------------------------------------

def coupon_redeem(*, consumer: User, coupon_id: str, order: Order, lines: Sequence[PriceLine],
                  now: datetime) -> CouponRedemption | None:
    """Mark the coupon used by this order, inside the order's transaction. The conditional
    UPDATE is the guard: of two orders racing for one coupon exactly one finds it still
    available; the other gets CouponUsed and its transaction (its order) rolls back. A
    coupon the engine took nothing off (e.g. free delivery on a free-delivery store) is not
    spent: None."""
    discount = -sum(line.amount_fen for line in lines if line.kind == "discount" and line.ref == coupon_id)
    if discount <= 0:
        return None
    coupon = _own_coupon(consumer, coupon_id)
    taken = (Coupon.objects.filter(pk=coupon.pk, status=Coupon.Status.AVAILABLE, valid_from__lte=now,
                                   valid_until__gt=now)
             .update(status=Coupon.Status.USED, order=order, used_at=now))
    if not taken:
        raise errors.CouponUsed(coupon_id=coupon_id)
    template = coupon.template
    platform_fen, merchant_fen = funding_split(template.funded_by, template.platform_share_percent, discount)
    redemption = CouponRedemption.objects.create(
        coupon=coupon, order=order, store_id=order.store_id, discount_fen=discount,
        funded_by=template.funded_by, platform_fen=platform_fen, merchant_fen=merchant_fen, redeemed_at=now)
    CouponEvent.objects.create(coupon=coupon, action="use", order=order, actor=consumer)
    return redemption


def discounts_commit(*, consumer: User, order: Order, discounts: Sequence[DiscountRule], coupon_id: str | None,
                     lines: Sequence[PriceLine], now: datetime) -> None:
    """Inside the order's transaction, make the discounts it was priced with true: the
    coupon is spent by this order (`coupon_redeem`), and a first-order discount is
    confirmed. The latter locks the consumer's row, then looks for another live order at
    the store: of two first orders placed at the same instant the second waits for the
    first's commit, sees it, and is refused (409 first_order_used, nothing written; placed
    again, it is priced without the discount). Other carts never take the lock."""
    if coupon_id:
        coupon_redeem(consumer=consumer, coupon_id=coupon_id, order=order, lines=lines, now=now)
    if any(isinstance(rule, rules.FirstOrderRule) for rule in discounts):
        User.objects.select_for_update().filter(pk=consumer.pk).values_list("pk", flat=True).first()
        if not is_new_customer(consumer, order.store, besides=order):
            raise errors.FirstOrderUsed()


def coupon_return_for_order(*, order: Order, now: datetime | None = None) -> Coupon | None:
    """A cancelled or refunded order gives its coupon back: available again while it is
    valid, `expired` after its end. Idempotent (each later change of the order finds the
    redemption already returned)."""
    if order.status not in S.CANCELLED_ALL:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        redemption = (CouponRedemption.objects.select_for_update(of=("self",)).select_related("coupon")
                      .filter(order=order, returned_at__isnull=True).first())
        if redemption is None:
            return None
        redemption.returned_at = now
        redemption.save(update_fields=["returned_at"])
        coupon = redemption.coupon
        valid = coupon.valid_until > now
        coupon.status = Coupon.Status.AVAILABLE if valid else Coupon.Status.EXPIRED
        Coupon.objects.filter(pk=coupon.pk, status=Coupon.Status.USED, order=order).update(
            status=coupon.status, order=None, used_at=None)
        CouponEvent.objects.create(coupon=coupon, action="return" if valid else "return_expired",
                                   order=order, actor=None)
    return coupon


def coupons_return_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Give back the coupons of cancelled or refunded orders whose `order_changed` receiver
    never ran (the process died between the order's commit and the receiver). Runs from
    the beat; `coupon_return_for_order` is idempotent, so a receiver running at the same
    moment gives the coupon back once. Returns how many coupons came back."""
    now = now or timezone.now()
    order_ids = list(CouponRedemption.objects.filter(returned_at__isnull=True, order__status__in=S.CANCELLED_ALL)
                     .values_list("order_id", flat=True)[:limit])
    returned = 0
    for order in Order.objects.filter(pk__in=order_ids):
        if coupon_return_for_order(order=order, now=now) is not None:
            returned += 1
    return returned
