"""Price a cart, pure Python. Consumer, merchant and settlement read the same breakdown.

The foundation prices items + packaging + delivery fee and enforces the minimum order;
promotions, coupons, fee tiers and surcharges plug in here later (issue 5).

A line's unit price is the product's base price plus its chosen variant's delta (规格,
may be negative) plus every chosen option's delta (加料, never negative).
`choices_resolve` checks a line's choices against what the product offers, and is the
one rule the server (order, cart) and, mirrored in linli.js, the browser apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


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


@dataclass(frozen=True)
class CartLine:
    product_ref: str
    name: str
    unit_price_fen: int  # the product's base price
    quantity: int
    variant: Choice | None = None
    options: tuple[Choice, ...] = ()

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


@dataclass(frozen=True)
class FeeRules:
    packaging_fee_fen: int = 0
    delivery_fee_fen: int = 0
    min_order_fen: int = 0


@dataclass(frozen=True)
class PriceLine:
    kind: str  # "item", "packaging", "delivery"
    label: str
    amount_fen: int
    quantity: int = 1
    unit_price_fen: int = 0
    product_ref: str = ""
    variant: Choice | None = None
    options: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class PriceBreakdown:
    lines: tuple[PriceLine, ...]

    def _sum(self, kind: str) -> int:
        return sum(line.amount_fen for line in self.lines if line.kind == kind)

    @property
    def items_fen(self) -> int:
        return self._sum("item")

    @property
    def packaging_fen(self) -> int:
        return self._sum("packaging")

    @property
    def delivery_fee_fen(self) -> int:
        return self._sum("delivery")

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


def price_cart(lines: list[CartLine], rules: FeeRules, *, delivery: bool) -> PriceBreakdown:
    """Raise PricingError('empty_cart' | 'invalid_quantity' | 'below_minimum_order')."""
    if not lines:
        raise PricingError("empty_cart")
    out: list[PriceLine] = []
    for line in lines:
        if line.quantity <= 0:
            raise PricingError("invalid_quantity", quantity=line.quantity)
        unit = line.unit_total_fen
        if line.unit_price_fen < 0 or unit < 0 or any(o.delta_fen < 0 for o in line.options):
            raise PricingError("invalid_price", unit_price_fen=unit)
        out.append(
            PriceLine(
                kind="item", label=line.name, amount_fen=unit * line.quantity,
                quantity=line.quantity, unit_price_fen=unit,
                product_ref=line.product_ref, variant=line.variant, options=line.options,
            )
        )
    items_fen = sum(line.amount_fen for line in out)
    if delivery and items_fen < rules.min_order_fen:
        raise PricingError("below_minimum_order", min_order_fen=rules.min_order_fen, items_fen=items_fen)
    if rules.packaging_fee_fen:
        out.append(PriceLine(kind="packaging", label="packaging", amount_fen=rules.packaging_fee_fen))
    if delivery and rules.delivery_fee_fen:
        out.append(PriceLine(kind="delivery", label="delivery", amount_fen=rules.delivery_fee_fen))
    return PriceBreakdown(lines=tuple(out))
