"""Price a cart, pure Python. Consumer, merchant and settlement read the same breakdown.

The foundation prices items + packaging + delivery fee and enforces the minimum order;
promotions, coupons, fee tiers and surcharges plug in here later (issue 5).
"""

from __future__ import annotations

from dataclasses import dataclass


class PricingError(ValueError):
    def __init__(self, code: str, **details: int) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class CartLine:
    product_ref: str
    name: str
    unit_price_fen: int
    quantity: int


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
        if line.unit_price_fen < 0:
            raise PricingError("invalid_price", unit_price_fen=line.unit_price_fen)
        out.append(
            PriceLine(
                kind="item", label=line.name, amount_fen=line.unit_price_fen * line.quantity,
                quantity=line.quantity, unit_price_fen=line.unit_price_fen,
                product_ref=line.product_ref,
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
