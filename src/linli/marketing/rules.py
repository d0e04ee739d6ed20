"""Which promotions and which coupon apply to a cart, as the pricing engine's DiscountRules.

Pure Python on plain data (no Django). The pricing engine (`orders.pricing.price_cart`) is
the only place that computes a discount; this module decides *which* rules go in and in
what order, and uses the engine itself as the oracle for "what are the goods at this
point" (choosing the best 满减 tier, telling a buyer their coupon is below its threshold),
so the two can never disagree.

Order handed to pricing (pricing applies every percent rule first, then the amount rules
in the order given, then the delivery rules):
  percent coupon → special prices → 买X送Y gifts → the best full-reduction tier →
  first-order discount → amount coupon → free-delivery coupon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from linli.orders.pricing import (
    AMOUNT_OFF_ITEMS,
    DELIVERY_OFF,
    DISCOUNT_KINDS,
    PERCENT_OFF_ITEMS,
    CartLine,
    DiscountRule,
    FeeRules,
    price_cart,
)

TIERED = "tiered"  # 满30减5 / 满50减10 / 满80减18: the best reachable tier applies
FIRST_ORDER = "first_order"  # 新客立减: the consumer's first order at this store
SPECIAL_PRICE = "special_price"  # 限时特价: a product at a special unit price
BUY_X_GET_Y = "buy_x_get_y"  # 买X送Y: of every X + Y units of one product in the cart, Y are free
PROMOTION_KINDS = (TIERED, FIRST_ORDER, SPECIAL_PRICE, BUY_X_GET_Y)


@dataclass(frozen=True)
class FirstOrderRule(DiscountRule):
    """A 新客立减 discount: priced like any DiscountRule, but only true while the consumer
    has no other order at the store, which the order's transaction confirms under a lock
    (`services.discounts_commit`): two first orders placed at the same instant get it once."""

AMOUNT_OFF = "amount_off"  # 满减 coupon (threshold 0 = no-threshold coupon, 无门槛)
PERCENT_OFF = "percent_off"  # 折扣券: percent_off of the goods, at most cap_fen
FREE_DELIVERY = "free_delivery"  # 免配送费
COUPON_KINDS = (AMOUNT_OFF, PERCENT_OFF, FREE_DELIVERY)

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # any aware time: goods-only pricing ignores it


@dataclass(frozen=True)
class Tier:
    threshold_fen: int
    amount_fen: int


@dataclass(frozen=True)
class PromotionSpec:
    """A store promotion live now, as the engine needs it."""

    ref: str
    label: str
    kind: str
    priority: int = 0  # higher first
    exclusive: bool = False  # combines with no other promotion
    tiers: tuple[Tier, ...] = ()  # TIERED
    amount_fen: int = 0  # FIRST_ORDER
    product_ref: str = ""  # SPECIAL_PRICE
    special_price_fen: int = 0  # SPECIAL_PRICE: the unit base price during the promotion
    per_order_limit: int | None = None  # SPECIAL_PRICE: units at the special price per order; BUY_X_GET_Y: free units
    buy_qty: int = 0  # BUY_X_GET_Y: X, the units paid for in each group
    free_qty: int = 0  # BUY_X_GET_Y: Y, the units given in each group


@dataclass(frozen=True)
class CouponSpec:
    ref: str  # the consumer's coupon public id (cpn_...)
    label: str
    kind: str
    amount_fen: int = 0
    percent_off: int = 0
    cap_fen: int | None = None
    threshold_fen: int = 0
    stacks_with_promotions: bool = True


def yuan(fen: int) -> str:
    """3000 -> "30", 3050 -> "30.5", 5 -> "0.05": amounts as people write them in labels."""
    whole, part = divmod(fen, 100)
    return f"{whole}" if not part else f"{whole}.{part:02d}".rstrip("0")


def tier_label(tier: Tier) -> str:
    return f"满{yuan(tier.threshold_fen)}减{yuan(tier.amount_fen)}"


# --- validation: what ops may not save --------------------------------------------------------

def coupon_problems(*, kind: str, amount_fen: int, percent_off: int, cap_fen: int | None,
                    threshold_fen: int) -> list[str]:
    """Codes of what is wrong with a coupon's terms (empty = fine)."""
    problems = []
    if kind not in COUPON_KINDS:
        return ["coupon_kind_unknown"]
    if amount_fen < 0 or threshold_fen < 0 or (cap_fen is not None and cap_fen < 0):
        problems.append("amount_negative")
    if kind == AMOUNT_OFF:
        if amount_fen <= 0:
            problems.append("amount_required")
        if threshold_fen and threshold_fen <= amount_fen:
            problems.append("threshold_below_discount")  # 满5减5 would give the goods away
    if kind == PERCENT_OFF and not 1 <= percent_off <= 99:
        problems.append("percent_out_of_range")  # 100 % off goods is not a coupon
    if kind != PERCENT_OFF and percent_off:
        problems.append("percent_not_allowed")
    if kind == FREE_DELIVERY and amount_fen:
        problems.append("amount_not_allowed")
    return problems


def tiers_problems(tiers: Sequence[Tier]) -> list[str]:
    """Tiers must rise in threshold and in discount, each discount below its threshold."""
    if not tiers:
        return ["tiers_required"]
    problems = []
    for tier in tiers:
        if tier.amount_fen <= 0 or tier.threshold_fen <= tier.amount_fen:
            problems.append("threshold_below_discount")
            break
    pairs = list(zip(tiers, tiers[1:], strict=False))
    if any(b.threshold_fen <= a.threshold_fen or b.amount_fen <= a.amount_fen for a, b in pairs):
        problems.append("tiers_not_ascending")
    return problems


# --- choosing ---------------------------------------------------------------------------------

def goods_after(lines: Sequence[CartLine], rules: Sequence[DiscountRule]) -> int:
    """The goods subtotal once these item rules have been applied, by the pricing engine."""
    items_only = [rule for rule in rules if rule.kind != DELIVERY_OFF]
    breakdown = price_cart(lines, FeeRules(), delivery=False, at=_EPOCH, discounts=items_only)
    return breakdown.total_fen - breakdown.packaging_fen


def goods_before(lines: Sequence[CartLine], rules: Sequence[DiscountRule], target: DiscountRule) -> int:
    """The goods subtotal the engine compares `target`'s threshold with: after every rule
    it applies before `target` (percent rules, then amount rules in order, then delivery)."""
    ordered = [rule for _, rule in sorted(enumerate(rules),
                                          key=lambda p: (DISCOUNT_KINDS.index(p[1].kind), p[0]))]
    return goods_after(lines, ordered[:ordered.index(target)])


def best_tier(tiers: Sequence[Tier], goods_fen: int) -> Tier | None:
    """The reachable tier that takes off the most (ties: the lower threshold), or None."""
    reachable = [tier for tier in tiers if tier.threshold_fen <= goods_fen]
    if not reachable:
        return None
    return max(reachable, key=lambda tier: (tier.amount_fen, -tier.threshold_fen))


def promotions_chosen(promotions: Sequence[PromotionSpec], *, lines: Sequence[CartLine],
                      first_order: bool) -> list[PromotionSpec]:
    """The promotions that apply to this cart, by priority (higher first, then ref): each
    applicable one is taken unless it is exclusive and something was taken already; once
    an exclusive one is taken nothing else is. Applicable: a special price whose product is
    in the cart, a first-order discount for a first order, tiers whose lowest threshold the
    gross goods reach."""
    gross = sum(line.unit_total_fen * line.quantity for line in lines)
    in_cart = {line.product_ref for line in lines}

    def applies(promotion: PromotionSpec) -> bool:
        if promotion.kind == SPECIAL_PRICE:
            return promotion.product_ref in in_cart
        if promotion.kind == BUY_X_GET_Y:
            return _free_units(promotion, lines) > 0
        if promotion.kind == FIRST_ORDER:
            return first_order and promotion.amount_fen > 0
        if promotion.kind == TIERED:
            return any(tier.threshold_fen <= gross for tier in promotion.tiers)
        return False

    chosen: list[PromotionSpec] = []
    for promotion in sorted(promotions, key=lambda p: (-p.priority, p.ref)):
        if not applies(promotion):
            continue
        if chosen and (promotion.exclusive or chosen[0].exclusive):
            if chosen[0].exclusive:
                break
            continue
        chosen.append(promotion)
    return chosen


def coupon_rule(coupon: CouponSpec) -> DiscountRule:
    if coupon.kind == PERCENT_OFF:
        return DiscountRule(ref=coupon.ref, label=coupon.label, kind=PERCENT_OFF_ITEMS,
                            percent_off=coupon.percent_off, cap_fen=coupon.cap_fen,
                            threshold_fen=coupon.threshold_fen, source="coupon")
    if coupon.kind == FREE_DELIVERY:
        return DiscountRule(ref=coupon.ref, label=coupon.label, kind=DELIVERY_OFF, percent_off=100,
                            cap_fen=coupon.cap_fen, threshold_fen=coupon.threshold_fen, source="coupon")
    return DiscountRule(ref=coupon.ref, label=coupon.label, kind=AMOUNT_OFF_ITEMS,
                        amount_fen=coupon.amount_fen, cap_fen=coupon.cap_fen,
                        threshold_fen=coupon.threshold_fen, source="coupon")


def _special_price_rule(promotion: PromotionSpec, lines: Sequence[CartLine]) -> DiscountRule | None:
    left = promotion.per_order_limit
    off = 0
    for line in lines:
        if line.product_ref != promotion.product_ref:
            continue
        units = line.quantity if left is None else min(line.quantity, left)
        off += max(0, line.unit_price_fen - promotion.special_price_fen) * units
        if left is not None:
            left -= units
    if not off:
        return None
    return DiscountRule(ref=promotion.ref, label=promotion.label, kind=AMOUNT_OFF_ITEMS, amount_fen=off)


def _free_units(promotion: PromotionSpec, lines: Sequence[CartLine]) -> int:
    """买X送Y: Y free units for every full group of X + Y units of the product in the cart,
    at most `per_order_limit` free units."""
    group = promotion.buy_qty + promotion.free_qty
    if promotion.buy_qty < 1 or promotion.free_qty < 1:
        return 0
    units = sum(line.quantity for line in lines if line.product_ref == promotion.product_ref)
    free = units // group * promotion.free_qty
    return free if promotion.per_order_limit is None else min(free, promotion.per_order_limit)


def _gift_rule(promotion: PromotionSpec, lines: Sequence[CartLine]) -> DiscountRule | None:
    """The free units of a 买X送Y are the cheapest of the product's units in the cart (the
    base price: options and packaging are paid), as on Meituan; the rule takes their price off."""
    free = _free_units(promotion, lines)
    prices = sorted(line.unit_price_fen for line in lines if line.product_ref == promotion.product_ref
                    for _ in range(line.quantity))
    off = sum(prices[:free])
    if not off:
        return None
    return DiscountRule(ref=promotion.ref, label=promotion.label, kind=AMOUNT_OFF_ITEMS, amount_fen=off)


def gift_problems(*, buy_qty: int, free_qty: int) -> list[str]:
    """What is wrong with a 买X送Y's terms (codes of models.PROBLEM_MESSAGES)."""
    if not 1 <= buy_qty <= 99 or not 1 <= free_qty <= 99:
        return ["gift_quantities"]
    return []


@dataclass(frozen=True)
class Plan:
    rules: tuple[DiscountRule, ...]
    coupon_rule: DiscountRule | None  # the coupon's rule, when one was given
    promotions_dropped: bool  # a coupon that does not stack pushed the promotions out


def discount_plan(promotions: Sequence[PromotionSpec], *, lines: Sequence[CartLine],
                  first_order: bool, coupon: CouponSpec | None = None) -> Plan:
    """The rules for this cart, in the order pricing should get them (see the module doc).
    A coupon that does not stack with promotions replaces them."""
    chosen = promotions_chosen(promotions, lines=lines, first_order=first_order)
    dropped = bool(coupon and not coupon.stacks_with_promotions and chosen)
    if coupon and not coupon.stacks_with_promotions:
        chosen = []
    own = coupon_rule(coupon) if coupon else None
    rules: list[DiscountRule] = [own] if own and own.kind == PERCENT_OFF_ITEMS else []
    for promotion in chosen:
        if promotion.kind == SPECIAL_PRICE:
            rule = _special_price_rule(promotion, lines)
            if rule:
                rules.append(rule)
    for promotion in chosen:
        if promotion.kind == BUY_X_GET_Y:
            rule = _gift_rule(promotion, lines)
            if rule:
                rules.append(rule)
    tiered = next((p for p in chosen if p.kind == TIERED), None)
    if tiered:
        tier = best_tier(tiered.tiers, goods_after(lines, rules))
        if tier:
            rules.append(DiscountRule(ref=tiered.ref, label=tier_label(tier), kind=AMOUNT_OFF_ITEMS,
                                      amount_fen=tier.amount_fen, threshold_fen=tier.threshold_fen))
    for promotion in chosen:
        if promotion.kind == FIRST_ORDER:
            rules.append(FirstOrderRule(ref=promotion.ref, label=promotion.label, kind=AMOUNT_OFF_ITEMS,
                                        amount_fen=promotion.amount_fen))
    if own and own.kind != PERCENT_OFF_ITEMS:
        rules.append(own)
    return Plan(rules=tuple(rules), coupon_rule=own, promotions_dropped=dropped)
