"""Price a cart, pure Python (no Django). Consumer, merchant and settlement read the same
breakdown: `price_cart` returns it line by line and the order stores it as `price_lines`.

Lines, in the order they are computed and listed (docs/orders.md, "Pricing"):

1. **item** — one per cart line: unit = product base price + variant delta (规格, may be
   negative) + option deltas (加料, never negative); amount = unit × quantity.
2. **discount** on items — the `DiscountRule`s of kind `percent_off_items` first, then
   `amount_off_items` (满减), each in the order given. Each takes off at most its cap and
   at most what is left of the goods subtotal, so the goods never go below 0.
3. The **minimum order** (起送价, delivery only) is checked against the goods subtotal
   *after* item discounts: fees never count towards it (as on Meituan).
4. **packaging** — one line: each product's per-unit fee × quantity, plus the store's
   per-order fee. Never discounted.
5. **delivery** (delivery only) — the tier whose `max_m` reaches the distance, else the
   flat fee; then `delivery_off` discounts, each at most what is left of the delivery fee.
6. **surcharge** (delivery only) — the store's night surcharge when the order time, read
   in the store's time zone, falls in its window `[start, end)` (a window whose end is
   not after its start runs past midnight: 22:00–06:00). Never discounted.

The total is the sum of the lines and is never negative.

Rounding (fen): everything is integer fen. A percentage discount is `base × percent / 100`
rounded to the nearest fen, a half fen in the customer's favour (the discount rounds up at
exactly .5: 15% of ¥12.30 takes off ¥1.85, not ¥1.84).

A line's unit price rule lives in `choices_resolve`, the one rule the server (order,
cart) and, mirrored in linli.js, the browser apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from linli.merchants.zones import BeyondLastTier, delivery_fee_for


class PricingError(ValueError):
    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Choice:
    """A chosen variant or option as it was when ordered: id, name and price delta."""

    ref: str
    name: str
    delta_fen: int = 0
    group: str = ""  # options: the name of their group

    def as_dict(self) -> dict[str, str | int]:
        """`dataclasses.asdict`, written out: every order stores its choices this way, and
        asdict's recursive deep copy cost more than the rest of the pricing."""
        return {"ref": self.ref, "name": self.name, "delta_fen": self.delta_fen, "group": self.group}


@dataclass(frozen=True)
class CartLine:
    product_ref: str
    name: str
    unit_price_fen: int  # the product's base price
    quantity: int
    variant: Choice | None = None
    options: tuple[Choice, ...] = ()
    packaging_fee_fen: int = 0  # the product's packaging fee, charged per unit

    @property
    def unit_total_fen(self) -> int:
        """Base + variant delta + option deltas: what one unit of this line costs."""
        return (self.unit_price_fen + (self.variant.delta_fen if self.variant else 0)
                + sum(option.delta_fen for option in self.options))


@dataclass(frozen=True)
class GroupOffer:
    """One option group of a product: its options (ref -> name, delta) and how many to pick."""

    ref: str
    name: str
    min_choices: int
    max_choices: int
    options: tuple[Choice, ...]


@dataclass(frozen=True)
class ProductOffer:
    """What a product lets the buyer choose: its available variants and option groups."""

    ref: str
    variants: tuple[Choice, ...] = ()
    groups: tuple[GroupOffer, ...] = field(default_factory=tuple)


def choices_resolve(offer: ProductOffer, variant_ref: str | None,
                    option_refs: Sequence[str]) -> tuple[Choice | None, tuple[Choice, ...]]:
    """The chosen variant and options (in the product's group order), or PricingError:
    `variant_required` (the product has variants and none was chosen), `variant_unknown`
    (not one of this product's available variants), `option_unknown` (not an available
    option of any of its groups), `option_duplicate`, `option_choice_count` (a group got
    fewer than its minimum or more than its maximum; details name the group)."""
    variant = None
    if variant_ref:
        variant = next((v for v in offer.variants if v.ref == variant_ref), None)
        if variant is None:
            raise PricingError("variant_unknown", product_id=offer.ref, variant=variant_ref)
    elif offer.variants:
        raise PricingError("variant_required", product_id=offer.ref,
                           variants=[v.ref for v in offer.variants])
    wanted = list(option_refs)
    if len(set(wanted)) != len(wanted):
        duplicate = next(ref for ref in wanted if wanted.count(ref) > 1)
        raise PricingError("option_duplicate", product_id=offer.ref, option=duplicate)
    where = {o.ref: g for g in offer.groups for o in g.options}
    for ref in wanted:
        if ref not in where:
            raise PricingError("option_unknown", product_id=offer.ref, option=ref)
    chosen: list[Choice] = []
    for group in offer.groups:
        picked = [o for o in group.options if o.ref in wanted]
        if not group.min_choices <= len(picked) <= group.max_choices:
            raise PricingError("option_choice_count", product_id=offer.ref, group=group.name,
                               group_id=group.ref, min_choices=group.min_choices,
                               max_choices=group.max_choices, chosen=len(picked))
        chosen += [Choice(o.ref, o.name, o.delta_fen, group.name) for o in picked]
    return variant, tuple(chosen)


# --- the store's rules ------------------------------------------------------------------------

def window_minutes(hhmm: str) -> int:
    """"HH:MM" (00:00 to 24:00) as minutes since midnight, or ValueError."""
    if not (isinstance(hhmm, str) and len(hhmm) == 5 and hhmm[2] == ":"
            and (hhmm[:2] + hhmm[3:]).isdigit()):
        raise ValueError(f"not HH:MM: {hhmm!r}")
    h, m = int(hhmm[:2]), int(hhmm[3:])
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m != 0):
        raise ValueError(f"not a time of day: {hhmm!r}")
    return h * 60 + m


def in_window(minute_of_day: int, start: str, end: str) -> bool:
    """Is this local minute in `[start, end)`? An end not after the start runs past
    midnight (22:00–06:00 holds 23:59 and 05:59, not 06:00); start == end is empty."""
    lo, hi = window_minutes(start), window_minutes(end)
    if lo == hi:
        return False
    if lo < hi:
        return lo <= minute_of_day < hi
    return minute_of_day >= lo or minute_of_day < hi


@dataclass(frozen=True)
class FeeRules:
    """A store's fees as pricing needs them (orders.services.fee_rules_for builds it)."""

    packaging_fee_fen: int = 0  # per order, on top of the products' per-unit fees
    delivery_fee_fen: int = 0  # flat, when there are no tiers
    min_order_fen: int = 0  # 起送价: goods after item discounts, delivery only
    delivery_fee_tiers: tuple[tuple[int, int], ...] = ()  # ((max_m, fee_fen), ...) ascending
    night_surcharge_fen: int = 0  # 0 = no surcharge
    night_start: str = "22:00"  # store-local, [start, end)
    night_end: str = "06:00"
    timezone: str = "Asia/Shanghai"


# --- discounts: the interface the marketing issue fills ----------------------------------------

PERCENT_OFF_ITEMS = "percent_off_items"  # e.g. 85折: percent_off=15
AMOUNT_OFF_ITEMS = "amount_off_items"  # 满减: amount_fen off when goods >= threshold_fen
DELIVERY_OFF = "delivery_off"  # 减配送费: amount_fen off, or percent_off (100 = free delivery)
DISCOUNT_KINDS = (PERCENT_OFF_ITEMS, AMOUNT_OFF_ITEMS, DELIVERY_OFF)  # also the order applied


@dataclass(frozen=True)
class DiscountRule:
    """One promotion or coupon, already chosen as applicable by marketing (who decides what
    stacks); pricing only computes it. `label` is shown as is to consumer, merchant and
    settlement ("满30减5"); `ref` names the promotion/coupon (a public id) for settlement.

    - `percent_off_items`: `percent_off` (1–100) of the goods left after earlier discounts.
    - `amount_off_items` (满减): `amount_fen` off the goods.
    - `delivery_off`: `amount_fen` off the delivery fee, or `percent_off` of it.
    `threshold_fen`: the rule applies only when the goods subtotal at that point (after
    earlier item discounts) is at least this much. `cap_fen`: the most it may take off.
    """

    ref: str
    label: str
    kind: str
    percent_off: int = 0
    amount_fen: int = 0
    threshold_fen: int = 0
    cap_fen: int | None = None
    source: str = "promotion"  # or "coupon": who funds it is settlement's business

    def __post_init__(self) -> None:
        if self.kind not in DISCOUNT_KINDS:
            raise ValueError(f"unknown discount kind {self.kind!r}")
        if not 0 <= self.percent_off <= 100 or self.amount_fen < 0 or self.threshold_fen < 0:
            raise ValueError("percent_off must be 0..100; amount and threshold not negative")
        if self.cap_fen is not None and self.cap_fen < 0:
            raise ValueError("cap_fen must not be negative")
        if self.kind == PERCENT_OFF_ITEMS and self.amount_fen:
            raise ValueError("percent_off_items takes percent_off, not amount_fen")
        if self.kind == AMOUNT_OFF_ITEMS and self.percent_off:
            raise ValueError("amount_off_items takes amount_fen, not percent_off")
        if self.kind == DELIVERY_OFF and self.percent_off and self.amount_fen:
            raise ValueError("delivery_off takes amount_fen or percent_off, not both")

    def off_fen(self, base_fen: int) -> int:
        """What this rule takes off a base of `base_fen` (0 below its threshold is decided by
        the caller, which knows the goods subtotal): never more than the cap or the base."""
        if self.percent_off:
            off = (base_fen * self.percent_off + 50) // 100  # half a fen to the customer
        else:
            off = self.amount_fen
        if self.cap_fen is not None:
            off = min(off, self.cap_fen)
        return max(0, min(off, base_fen))


# --- the breakdown -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PriceLine:
    kind: str  # "item", "discount", "packaging", "delivery", "surcharge"
    label: str  # items: the product name; discounts: the rule's label; fees: the kind
    amount_fen: int  # negative for discounts
    quantity: int = 1
    unit_price_fen: int = 0
    product_ref: str = ""
    variant: Choice | None = None
    options: tuple[Choice, ...] = ()
    ref: str = ""  # discounts: the rule's ref
    target: str = ""  # discounts: "items" or "delivery"

    def as_dict(self) -> dict[str, object]:
        """`dataclasses.asdict`, written out (see `Choice.as_dict`): the order's stored line."""
        return {"kind": self.kind, "label": self.label, "amount_fen": self.amount_fen,
                "quantity": self.quantity, "unit_price_fen": self.unit_price_fen,
                "product_ref": self.product_ref,
                "variant": self.variant.as_dict() if self.variant else None,
                "options": [option.as_dict() for option in self.options],
                "ref": self.ref, "target": self.target}


@dataclass(frozen=True)
class PriceBreakdown:
    lines: tuple[PriceLine, ...]

    def _sum(self, kind: str) -> int:
        return sum(line.amount_fen for line in self.lines if line.kind == kind)

    @property
    def items_fen(self) -> int:
        """The goods before discounts."""
        return self._sum("item")

    @property
    def packaging_fen(self) -> int:
        return self._sum("packaging")

    @property
    def delivery_fee_fen(self) -> int:
        """The delivery fee before discounts (the surcharge is its own line)."""
        return self._sum("delivery")

    @property
    def surcharge_fen(self) -> int:
        return self._sum("surcharge")

    @property
    def discount_fen(self) -> int:
        """What the discounts take off, as a positive number."""
        return -self._sum("discount")

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


def _item_lines(lines: Sequence[CartLine]) -> list[PriceLine]:
    out = []
    for line in lines:
        if line.quantity <= 0:
            raise PricingError("invalid_quantity", quantity=line.quantity)
        unit = line.unit_total_fen
        if (line.unit_price_fen < 0 or unit < 0 or line.packaging_fee_fen < 0
                or any(o.delta_fen < 0 for o in line.options)):
            raise PricingError("invalid_price", unit_price_fen=unit)
        out.append(PriceLine(
            kind="item", label=line.name, amount_fen=unit * line.quantity, quantity=line.quantity,
            unit_price_fen=unit, product_ref=line.product_ref, variant=line.variant,
            options=line.options))
    return out  # in the cart's order; nothing below depends on that order


def _discount_line(rule: DiscountRule, off: int, target: str) -> PriceLine:
    return PriceLine(kind="discount", label=rule.label, amount_fen=-off, ref=rule.ref, target=target)


def _delivery_fee(rules: FeeRules, distance_m: int | None) -> int:
    if not rules.delivery_fee_tiers:
        return rules.delivery_fee_fen
    tiers = [{"max_m": m, "fee_fen": f} for m, f in rules.delivery_fee_tiers]
    if distance_m is None:
        return tiers[0]["fee_fen"]  # address not known yet: the nearest tier, an estimate
    try:
        return delivery_fee_for(tiers, rules.delivery_fee_fen, distance_m)
    except BeyondLastTier as exc:
        raise PricingError("address_out_of_range", distance_m=distance_m, max_m=exc.max_m) from exc


def night_surcharge_applies(rules: FeeRules, at: datetime) -> bool:
    """Is `at` (aware) within the store's night window, read in the store's time zone?"""
    if not rules.night_surcharge_fen:
        return False
    local = at.astimezone(ZoneInfo(rules.timezone))
    return in_window(local.hour * 60 + local.minute, rules.night_start, rules.night_end)


def price_cart(lines: Sequence[CartLine], rules: FeeRules, *, delivery: bool, at: datetime,
               distance_m: int | None = None,
               discounts: Sequence[DiscountRule] = ()) -> PriceBreakdown:
    """The cart's breakdown (see the module docstring for the rules and their order).
    `at` is the order time (aware); `distance_m` the delivery distance (None before an
    address is chosen: the estimate uses the nearest tier). Raises PricingError:
    'empty_cart' | 'invalid_quantity' | 'invalid_price' | 'below_minimum_order' |
    'address_out_of_range' (beyond the last tier)."""
    if not lines:
        raise PricingError("empty_cart")
    if at.tzinfo is None:
        raise ValueError("price_cart needs an aware order time")
    items = _item_lines(lines)
    out: list[PriceLine] = list(items)
    goods = sum(line.amount_fen for line in items)

    ordered = sorted(enumerate(discounts), key=lambda pair: (DISCOUNT_KINDS.index(pair[1].kind), pair[0]))
    for _, rule in ordered:
        if rule.kind == DELIVERY_OFF or goods < rule.threshold_fen:
            continue
        off = rule.off_fen(goods)
        if off:
            goods -= off
            out.append(_discount_line(rule, off, "items"))

    if delivery and goods < rules.min_order_fen:
        raise PricingError("below_minimum_order", min_order_fen=rules.min_order_fen, items_fen=goods)

    packaging = sum(line.packaging_fee_fen * line.quantity for line in lines) + rules.packaging_fee_fen
    if packaging:
        out.append(PriceLine(kind="packaging", label="packaging", amount_fen=packaging))

    if delivery:
        fee = _delivery_fee(rules, distance_m)
        if fee:
            out.append(PriceLine(kind="delivery", label="delivery", amount_fen=fee))
        for _, rule in ordered:
            if rule.kind != DELIVERY_OFF or goods < rule.threshold_fen:
                continue
            off = rule.off_fen(fee)
            if off:
                fee -= off
                out.append(_discount_line(rule, off, "delivery"))
        if night_surcharge_applies(rules, at):
            out.append(PriceLine(kind="surcharge", label="night", amount_fen=rules.night_surcharge_fen))
    return PriceBreakdown(lines=tuple(out))
