"""Commission and the split of one order's money, in plain Python (no Django): which rule
applies, what the platform takes, what the merchant is owed, and the share of each part
that a refund takes back. Integer fen throughout; rounding is half-up on basis points.

One completed order, everything the consumer paid (`paid_fen`) leaves `clearing:orders`:

    paid + platform subsidy = merchant net + commission + gateway fee + platform delivery fee

so the platform's revenue from an order is commission + fee + its delivery fee - subsidy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

CHANNELS = ("delivery", "pickup", "dine_in", "voucher", "pos")
MAX_RATE_BP = 10_000  # 100 %


@dataclass(frozen=True)
class Rule:
    """A commission rule version. `category`, `merchant`, `channel` empty = any. Valid
    from `starts_at` (inclusive) to `ends_at` (exclusive; None = open)."""

    ref: str
    rate_bp: int
    min_fen: int
    starts_at: datetime
    ends_at: datetime | None = None
    category: str = ""
    merchant: str = ""
    channel: str = ""

    @property
    def scope(self) -> tuple[str, str, str]:
        return (self.category, self.merchant, self.channel)

    def active_at(self, at: datetime) -> bool:
        return self.starts_at <= at and (self.ends_at is None or at < self.ends_at)

    def specificity(self) -> tuple[int, int, int]:
        """Merchant beats category beats the default; a named channel beats any channel."""
        return (bool(self.merchant), bool(self.category), bool(self.channel))


def rule_problems(rule: Rule) -> list[str]:
    problems = []
    if not 0 <= rule.rate_bp <= MAX_RATE_BP:
        problems.append("rate_out_of_range")
    if rule.min_fen < 0:
        problems.append("min_negative")
    if rule.ends_at is not None and rule.ends_at <= rule.starts_at:
        problems.append("ends_before_start")
    if rule.channel and rule.channel not in CHANNELS:
        problems.append("channel_unknown")
    return problems


def overlapping(rule: Rule, others: Iterable[Rule]) -> Rule | None:
    """Another version of the same scope whose validity overlaps this one's."""
    for other in others:
        if other.ref == rule.ref or other.scope != rule.scope:
            continue
        ends_after_start = other.ends_at is None or other.ends_at > rule.starts_at
        starts_before_end = rule.ends_at is None or other.starts_at < rule.ends_at
        if ends_after_start and starts_before_end:
            return other
    return None


def rule_for(rules: Sequence[Rule], *, category: str, merchant: str, channel: str,
             at: datetime) -> Rule | None:
    """The most specific rule that matches the order at the time it completed."""
    best: Rule | None = None
    for rule in rules:
        if rule.category not in ("", category) or rule.merchant not in ("", merchant):
            continue
        if rule.channel not in ("", channel) or not rule.active_at(at):
            continue
        if best is None or rule.specificity() > best.specificity():
            best = rule
    return best


def bp_of(amount_fen: int, rate_bp: int) -> int:
    """rate_bp basis points of an amount, rounded half up."""
    return (amount_fen * rate_bp + 5_000) // 10_000


@dataclass(frozen=True)
class Sale:
    """What finance needs of one sale. `goods_fen`: items + packaging + surcharges before
    discounts; `delivery_fee_fen` what was charged for delivery (after a delivery discount);
    `platform_discount_fen` / `merchant_discount_fen` discounts by who funds them;
    `paid_fen` what the consumer paid (= goods + delivery - both discounts)."""

    goods_fen: int
    delivery_fee_fen: int
    platform_discount_fen: int
    merchant_discount_fen: int
    paid_fen: int
    delivery_fee_to_platform: bool
    rate_bp: int
    min_fen: int
    gateway_fee_bp: int


@dataclass(frozen=True)
class Split:
    """Where one sale's (or one refund's) money goes; every field is >= 0 and
    paid + subsidy == net + commission + fee + delivery."""

    paid_fen: int
    subsidy_fen: int  # platform-funded discounts: the platform pays the merchant for them
    commission_fen: int
    fee_fen: int  # payment processing, charged to the merchant
    delivery_fen: int  # delivery fee kept by the platform
    net_fen: int  # owed to the merchant

    def balanced(self) -> bool:
        return self.paid_fen + self.subsidy_fen == (self.net_fen + self.commission_fen
                                                    + self.fee_fen + self.delivery_fen)


def split_sale(sale: Sale) -> Split:
    """The split of a completed sale. Commission is the rate on what the merchant sells for
    (goods after the merchant's own discounts; platform subsidies count as the merchant's
    income), at least the rule's minimum; the gateway fee is on what the consumer paid.
    Neither may push the merchant's net below zero: they are capped, commission first."""
    if sale.paid_fen != (sale.goods_fen + sale.delivery_fee_fen - sale.platform_discount_fen
                         - sale.merchant_discount_fen):
        raise ValueError("paid != goods + delivery - discounts")
    delivery = sale.delivery_fee_fen if sale.delivery_fee_to_platform else 0
    gross = sale.paid_fen + sale.platform_discount_fen - delivery  # what the merchant earns before fees
    base = sale.goods_fen - sale.merchant_discount_fen
    commission = min(max(bp_of(base, sale.rate_bp), sale.min_fen if base > 0 else 0), max(gross, 0))
    fee = min(bp_of(sale.paid_fen, sale.gateway_fee_bp), max(gross - commission, 0))
    net = gross - commission - fee
    return Split(paid_fen=sale.paid_fen, subsidy_fen=sale.platform_discount_fen,
                 commission_fen=commission, fee_fen=fee, delivery_fen=delivery, net_fen=net)


def split_refund(sale: Split, *, refunded_before_fen: int, refund_fen: int) -> Split:
    """The part of a sale's split that a refund takes back: each part in proportion to the
    money refunded, computed cumulatively (what all refunds so far take minus what earlier
    ones took), so refunding everything piecewise reverses the sale exactly."""
    if refund_fen <= 0 or refunded_before_fen < 0 or refunded_before_fen + refund_fen > sale.paid_fen:
        raise ValueError("refund outside what was paid")

    def upto(total_refunded: int) -> Split:
        if sale.paid_fen == 0:
            return Split(0, 0, 0, 0, 0, 0)
        def part(value: int) -> int:
            return value * total_refunded // sale.paid_fen
        subsidy, commission = part(sale.subsidy_fen), part(sale.commission_fen)
        fee, delivery = part(sale.fee_fen), part(sale.delivery_fen)
        net = total_refunded + subsidy - commission - fee - delivery
        return Split(total_refunded, subsidy, commission, fee, delivery, net)

    after, before = upto(refunded_before_fen + refund_fen), upto(refunded_before_fen)
    return Split(after.paid_fen - before.paid_fen, after.subsidy_fen - before.subsidy_fen,
                 after.commission_fen - before.commission_fen, after.fee_fen - before.fee_fen,
                 after.delivery_fen - before.delivery_fen, after.net_fen - before.net_fen)
