"""What finance posts to the payments ledger for each sale, refund, voucher redemption and
POS sale paid through the platform: the money leaves `clearing:orders` into the merchant's
payable, the platform's commission, fees and delivery income, with the platform's
subsidies as an expense. Each posting has its `FinanceEntry` (the statement line); both
are written in one transaction, once per key, so announcing an event twice posts once.

Accounts: `merchant:<mch>:payable` (owed, not yet settled), `revenue:commission`,
`revenue:gateway_fee`, `revenue:delivery`, `expense:subsidy` (docs/finance.md)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from linli.merchants.models import Merchant, Store
from linli.orders.models import Order
from linli.orders.states import S
from linli.payments import ledger
from linli.payments.ledger import CLEARING, credit, debit
from linli.payments.models import Payment, Refund

from . import commission, netting
from .commission import Sale, Split
from .models import CommissionRule, FinanceEntry, MerchantFinance

log = logging.getLogger(__name__)

COMMISSION = "revenue:commission"
GATEWAY_FEE = "revenue:gateway_fee"
DELIVERY = "revenue:delivery"
SUBSIDY = "expense:subsidy"
ADJUSTMENTS = "expense:adjustments"
CHINA = ZoneInfo("Asia/Shanghai")


def payable(merchant: Merchant) -> str:
    return f"merchant:{merchant.public_id}:payable"


def settling(merchant: Merchant) -> str:
    return f"merchant:{merchant.public_id}:settling"


def held(merchant: Merchant) -> str:
    return f"merchant:{merchant.public_id}:held"


def reserve(merchant: Merchant) -> str:
    return f"merchant:{merchant.public_id}:reserve"


def business_day(at: datetime) -> date:
    return timezone.localtime(at, CHINA).date()


def terms(merchant: Merchant) -> MerchantFinance:
    found, _ = MerchantFinance.objects.get_or_create(merchant=merchant)
    return found


def gateway_fee_bp(provider: str) -> int:
    rates: dict[str, int] = getattr(settings, "LINLI_FINANCE_GATEWAY_FEE_BP", {})
    return int(rates.get(provider, rates.get("*", 0)))


def _rules() -> list[commission.Rule]:
    return [commission.Rule(ref=r.public_id, rate_bp=r.rate_bp, min_fen=r.min_fen, starts_at=r.starts_at,
                            ends_at=r.ends_at, category=str(r.category_id or ""),
                            merchant=str(r.merchant_id or ""), channel=r.channel)
            for r in CommissionRule.objects.all()]


def rule_for(store: Store, channel: str, at: datetime) -> commission.Rule | None:
    return commission.rule_for(_rules(), category=str(store.category_id), merchant=str(store.merchant_id),
                               channel=channel, at=at)


def _discounts_by_funder(order: Order) -> tuple[int, int]:
    """(platform-funded, merchant-funded) discounts of an order. Coupons: the split
    marketing recorded in `CouponRedemption`; promotions: their `funded_by`; any other
    discount line is the merchant's (docs/finance.md)."""
    from linli.marketing.models import CouponRedemption, Promotion, funding_split

    lines = [line for line in order.price_lines if line.get("kind") == "discount"]
    if not lines:
        return 0, 0
    refs = {line.get("ref", "") for line in lines}
    coupons = {r.coupon.public_id: r for r in CouponRedemption.objects.filter(order=order).select_related("coupon")}
    promotions = {p.public_id: p for p in Promotion.objects.filter(public_id__in=refs)}
    platform = merchant = 0
    for line in lines:
        off = -int(line["amount_fen"])
        ref = line.get("ref", "")
        if ref in coupons:
            red = coupons[ref]
            share = red.platform_fen * off // red.discount_fen if red.discount_fen else 0
        elif ref in promotions:
            share, _m = funding_split(promotions[ref].funded_by, promotions[ref].platform_share_percent, off)
        else:
            share = 0
        platform += share
        merchant += off - share
    return platform, merchant


def order_sale(order: Order, *, delivery_to_platform: bool, rate_bp: int, min_fen: int, fee_bp: int) -> Sale:
    lines = order.price_lines or []
    delivery = sum(int(x["amount_fen"]) for x in lines if x.get("kind") in ("delivery", "surcharge"))
    platform_off, merchant_off = _discounts_by_funder(order)
    goods = order.total_fen - delivery + platform_off + merchant_off
    return Sale(goods_fen=goods, delivery_fee_fen=delivery, platform_discount_fen=platform_off,
                merchant_discount_fen=merchant_off, paid_fen=order.total_fen,
                delivery_fee_to_platform=delivery_to_platform, rate_bp=rate_bp, min_fen=min_fen,
                gateway_fee_bp=fee_bp)


def _post(*, key: str, kind: str, merchant: Merchant, split: Split, sign: int, entry: dict) -> FinanceEntry | None:  # type: ignore[type-arg]
    """Post one split (sign +1: a sale, money out of clearing; -1: its reversal) and its
    entry, once per key."""
    if FinanceEntry.objects.filter(key=key).exists():
        return None
    s = sign
    entries = [debit(CLEARING, s * split.paid_fen), debit(SUBSIDY, s * split.subsidy_fen),
               credit(payable(merchant), s * split.net_fen), credit(COMMISSION, s * split.commission_fen),
               credit(GATEWAY_FEE, s * split.fee_fen), credit(DELIVERY, s * split.delivery_fen)]
    with transaction.atomic():
        ledger.post(key=key, kind=f"finance_{kind}", entries=entries, memo=entry.get("ref", ""))
        occurred: datetime = entry.pop("occurred_at")
        day = business_day(occurred)
        row = FinanceEntry.objects.create(
            key=key, merchant=merchant, kind=kind, occurred_at=occurred, day=day,
            # a refund is taken back at the next settlement; a sale waits T+N
            due_on=day if sign < 0 else netting.due_on(day, terms(merchant).settlement_days),
            paid_fen=s * split.paid_fen, subsidy_fen=s * split.subsidy_fen, commission_fen=s * split.commission_fen,
            fee_fen=s * split.fee_fen, delivery_fen=s * split.delivery_fen, net_fen=s * split.net_fen, **entry)
    return row


def _payment_fee_bp(payments: list[Payment]) -> int:
    """The fee rate of the largest payment (wallet payments cost nothing)."""
    paid = [p for p in payments if p.status in Payment.PAID_STATES or p.status == Payment.Status.SUCCEEDED]
    if not paid:
        return 0
    main = max(paid, key=lambda p: p.amount_fen)
    return 0 if main.is_wallet else gateway_fee_bp(main.provider)


def _sale_split(order: Order) -> tuple[Split, commission.Rule | None, Sale]:
    store = order.store
    merchant_terms = terms(store.merchant)
    at = order.completed_at or timezone.now()
    rule = rule_for(store, order.fulfilment, at)
    sale = order_sale(order, delivery_to_platform=merchant_terms.delivery_fee_to == "platform",
                      rate_bp=rule.rate_bp if rule else 0, min_fen=rule.min_fen if rule else 0,
                      fee_bp=_payment_fee_bp(list(order.payments.all())))
    return commission.split_sale(sale), rule, sale


def order_completed_post(order: Order) -> FinanceEntry | None:
    """A completed order's money moves from clearing to the merchant and the platform.
    Voucher orders wait for each redemption (`voucher_redemption_post`)."""
    if order.status != S.COMPLETED or order.fulfilment == "voucher":
        return None
    key = f"fin:sale:{order.public_id}"
    if FinanceEntry.objects.filter(key=key).exists():
        return None
    split, rule, sale = _sale_split(order)
    return _post(key=key, kind="sale", merchant=order.store.merchant, split=split, sign=1, entry={
        "store": order.store, "channel": order.fulfilment, "ref": order.public_id, "order": order,
        "goods_fen": sale.goods_fen, "delivery_fee_fen": sale.delivery_fee_fen,
        "platform_discount_fen": sale.platform_discount_fen, "merchant_discount_fen": sale.merchant_discount_fen,
        "rule": rule.ref if rule else "", "occurred_at": order.completed_at or timezone.now()})


def order_refunds_post(order: Order) -> int:
    """Every succeeded refund of a settled (completed, posted) order takes its share back
    from the merchant and the platform, in proportion (commission.split_refund)."""
    sale_entry = FinanceEntry.objects.filter(key=f"fin:sale:{order.public_id}").first()
    if sale_entry is None:
        return 0
    sale = Split(paid_fen=sale_entry.paid_fen, subsidy_fen=sale_entry.subsidy_fen,
                 commission_fen=sale_entry.commission_fen, fee_fen=sale_entry.fee_fen,
                 delivery_fen=sale_entry.delivery_fen, net_fen=sale_entry.net_fen)
    posted = 0
    refunded_before = -sum(FinanceEntry.objects.filter(order=order, kind="refund").values_list("paid_fen", flat=True))
    refunds = Refund.objects.filter(payment__order=order, status=Refund.Status.SUCCEEDED).order_by("id")
    for refund in refunds:
        key = f"fin:refund:{refund.public_id}"
        if FinanceEntry.objects.filter(key=key).exists():
            continue
        amount = min(refund.amount_fen, sale.paid_fen - refunded_before)
        if amount <= 0:
            continue
        part = commission.split_refund(sale, refunded_before_fen=refunded_before, refund_fen=amount)
        if _post(key=key, kind="refund", merchant=order.store.merchant, split=part, sign=-1, entry={
                "store": order.store, "channel": order.fulfilment, "ref": refund.public_id, "order": order,
                "occurred_at": refund.succeeded_at or timezone.now()}):
            posted += 1
            refunded_before += amount
    return posted


def voucher_redemption_post(redemption) -> FinanceEntry | None:  # type: ignore[no-untyped-def]
    """A voucher used at the store: the consumer's money for those uses and the platform's
    part of the discount go to the merchant, less commission (channel `voucher`)."""
    key = f"fin:voucher:{redemption.public_id}"
    if FinanceEntry.objects.filter(key=key).exists():
        return None
    store = redemption.store
    voucher_order = redemption.voucher.order
    rule = rule_for(store, "voucher", redemption.redeemed_at)
    sale = Sale(goods_fen=redemption.worth_fen, delivery_fee_fen=0, platform_discount_fen=redemption.platform_fen,
                merchant_discount_fen=redemption.merchant_fen, paid_fen=redemption.amount_fen,
                delivery_fee_to_platform=True, rate_bp=rule.rate_bp if rule else 0,
                min_fen=rule.min_fen if rule else 0, gateway_fee_bp=_payment_fee_bp(list(voucher_order.payments.all())))
    return _post(key=key, kind="voucher", merchant=store.merchant, split=commission.split_sale(sale), sign=1, entry={
        "store": store, "channel": "voucher", "ref": redemption.public_id, "order": voucher_order,
        "goods_fen": sale.goods_fen, "platform_discount_fen": sale.platform_discount_fen,
        "merchant_discount_fen": sale.merchant_discount_fen, "rule": rule.ref if rule else "",
        "occurred_at": redemption.redeemed_at})


def pos_payment_post(payment: Payment) -> int:
    """A counter sale paid through the platform (gateway QR or the member's wallet): the
    payment's money goes to the merchant less commission and fee (channel `pos`); its
    succeeded refunds are taken back like an order's."""
    from linli.pos.models import Sale as PosSale

    pos_sale = PosSale.objects.filter(public_id=payment.reference).select_related("store__merchant").first()
    if pos_sale is None:
        return 0
    store = pos_sale.store
    key = f"fin:pos:{payment.public_id}"
    posted = 0
    if not FinanceEntry.objects.filter(key=key).exists():
        at = payment.succeeded_at or timezone.now()
        rule = rule_for(store, "pos", at)
        sale = Sale(goods_fen=payment.amount_fen, delivery_fee_fen=0, platform_discount_fen=0,
                    merchant_discount_fen=0, paid_fen=payment.amount_fen, delivery_fee_to_platform=True,
                    rate_bp=rule.rate_bp if rule else 0, min_fen=rule.min_fen if rule else 0,
                    gateway_fee_bp=0 if payment.is_wallet else gateway_fee_bp(payment.provider))
        if _post(key=key, kind="pos", merchant=store.merchant, split=commission.split_sale(sale), sign=1, entry={
                "store": store, "channel": "pos", "ref": pos_sale.public_id, "goods_fen": sale.goods_fen,
                "rule": rule.ref if rule else "", "occurred_at": at}):
            posted += 1
    first = FinanceEntry.objects.get(key=key)
    split = Split(first.paid_fen, first.subsidy_fen, first.commission_fen, first.fee_fen, first.delivery_fen,
                  first.net_fen)
    refunded_before = -sum(FinanceEntry.objects.filter(key__startswith=f"fin:posrefund:{payment.public_id}:")
                           .values_list("paid_fen", flat=True))
    for refund in payment.refunds.filter(status=Refund.Status.SUCCEEDED).order_by("id"):
        rkey = f"fin:posrefund:{payment.public_id}:{refund.public_id}"
        amount = min(refund.amount_fen, split.paid_fen - refunded_before)
        if amount <= 0 or FinanceEntry.objects.filter(key=rkey).exists():
            continue
        part = commission.split_refund(split, refunded_before_fen=refunded_before, refund_fen=amount)
        if _post(key=rkey, kind="refund", merchant=store.merchant, split=part, sign=-1, entry={
                "store": store, "channel": "pos", "ref": refund.public_id,
                "occurred_at": refund.succeeded_at or timezone.now()}):
            posted += 1
            refunded_before += amount
    return posted
