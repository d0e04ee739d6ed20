"""Finance: commission rules, each merchant's settlement terms, the entries that feed
statements and settlement (one per ledger transaction finance posts), settlement batches,
payouts, holds and manual adjustments. Money is in `payments`' ledger; these rows say
what it is for (docs/finance.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.fields import PublicIdField
from linli.merchants.models import Merchant, Store, StoreCategory
from linli.orders.models import Order


class Channel(models.TextChoices):
    DELIVERY = "delivery", _("Delivery")
    PICKUP = "pickup", _("Pickup")
    DINE_IN = "dine_in", _("Dine-in")
    VOUCHER = "voucher", _("Voucher")
    POS = "pos", _("POS")


class CommissionRule(models.Model):
    """One version of a commission rule: a rate (basis points) with a minimum per order, for
    a category, a merchant and/or a channel (empty = any), valid from `starts_at` until
    `ends_at` (open = until replaced). Versions of one scope never overlap."""

    public_id = PublicIdField(prefix="cmr")
    category = models.ForeignKey(StoreCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    rate_bp = models.IntegerField(_("rate (basis points)"), help_text=_("500 = 5 %"))
    min_fen = models.IntegerField(_("minimum per order (fen)"), default=0)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "finance_commission_rule"
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(rate_bp__gte=0, rate_bp__lte=10_000), name="commission_rate_range"),
            models.CheckConstraint(condition=Q(min_fen__gte=0), name="commission_min_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.rate_bp / 100:.2f}%"


class DeliveryFeeTo(models.TextChoices):
    PLATFORM = "platform", _("Platform")
    MERCHANT = "merchant", _("Merchant")


class MerchantFinance(models.Model):
    """A merchant's settlement terms (T+N, reserve, who keeps delivery fees). Its row is
    also the lock a settlement run of that merchant takes."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="finance")
    settlement_days = models.PositiveSmallIntegerField(default=1, help_text=_("T+N: days after the sale"))
    reserve_bp = models.PositiveSmallIntegerField(default=0, help_text=_("held back from each batch, basis points"))
    reserve_days = models.PositiveSmallIntegerField(default=30)
    delivery_fee_to = models.CharField(max_length=10, choices=DeliveryFeeTo.choices, default=DeliveryFeeTo.PLATFORM)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "finance_merchant_finance"
        constraints = [models.CheckConstraint(condition=Q(reserve_bp__lte=10_000), name="finance_reserve_range")]


class SettlementBatch(models.Model):
    class Status(models.TextChoices):
        PAYING = "paying", _("Paying out")
        HELD = "held", _("Held")
        PAID = "paid", _("Paid out")

    public_id = PublicIdField(prefix="stb")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    period_end = models.DateField()  # the settlement date: entries due on or before it
    status = models.CharField(max_length=8, choices=Status.choices)
    entries_fen = models.BigIntegerField()  # sum of its entries' nets (refunds netted)
    reserve_released_fen = models.BigIntegerField(default=0)
    reserve_fen = models.BigIntegerField(default=0)
    payout_fen = models.BigIntegerField()
    reserve_release_on = models.DateField(null=True, blank=True)
    reserve_released = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "finance_settlement_batch"
        ordering = ["-period_end", "-id"]
        constraints = [models.UniqueConstraint(fields=["merchant", "period_end"], name="settlement_once_per_day"),
                       models.CheckConstraint(condition=Q(payout_fen__gt=0), name="settlement_payout_positive")]

    def __str__(self) -> str:
        return self.public_id


class FinanceEntry(models.Model):
    """One sale, refund, voucher redemption, POS sale or adjustment as finance posted it:
    the statement line. Refund parts are negative. `key` is the ledger transaction's key."""

    class Kind(models.TextChoices):
        SALE = "sale", _("Sale")
        REFUND = "refund", _("Refund")
        VOUCHER = "voucher", _("Voucher redemption")
        POS = "pos", _("POS sale")
        ADJUSTMENT = "adjustment", _("Adjustment")

    key = models.CharField(max_length=120, unique=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    channel = models.CharField(max_length=10, blank=True)
    ref = models.CharField(max_length=40)  # order / redemption / sale / adjustment public id
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    goods_fen = models.BigIntegerField(default=0)
    delivery_fee_fen = models.BigIntegerField(default=0)
    platform_discount_fen = models.BigIntegerField(default=0)
    merchant_discount_fen = models.BigIntegerField(default=0)
    paid_fen = models.BigIntegerField(default=0)
    subsidy_fen = models.BigIntegerField(default=0)
    commission_fen = models.BigIntegerField(default=0)
    fee_fen = models.BigIntegerField(default=0)
    delivery_fen = models.BigIntegerField(default=0)
    net_fen = models.BigIntegerField()
    rule = models.CharField(max_length=40, blank=True)  # the commission rule's public id
    occurred_at = models.DateTimeField()
    day = models.DateField()  # the business day (China time) it belongs to
    due_on = models.DateField()
    batch = models.ForeignKey(SettlementBatch, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="entries")

    class Meta:
        db_table = "finance_entry"
        indexes = [models.Index(fields=["merchant", "batch", "due_on"], name="finance_entry_due"),
                   models.Index(fields=["merchant", "day"], name="finance_entry_day")]


class Payout(models.Model):
    """Money of a batch going to the merchant's account through a payout provider. Sent at
    most once: the provider dedupes by our id, so a retry after an unclear failure cannot
    pay twice; a failure leaves the money in `merchant:<id>:settling`."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")

    public_id = PublicIdField(prefix="pyo")
    batch = models.OneToOneField(SettlementBatch, on_delete=models.PROTECT, related_name="payout")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(max_length=16)
    amount_fen = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    provider_ref = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "finance_payout"
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payout_positive")]


class PayoutEvent(models.Model):
    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=8, blank=True)
    to_status = models.CharField(max_length=8)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "finance_payout_event"


class SandboxTransfer(models.Model):
    """The sandbox payout provider's own books: one transfer per payout id, ever."""

    out_ref = models.CharField(max_length=40, unique=True)
    amount_fen = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "finance_sandbox_transfer"


class MerchantHold(models.Model):
    class Reason(models.TextChoices):
        FRAUD = "fraud", _("Fraud")
        DISPUTE = "dispute", _("Dispute")
        OTHER = "other", _("Other")

    public_id = PublicIdField(prefix="hld")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=8, choices=Reason.choices)
    note = models.CharField(max_length=200)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "finance_merchant_hold"

    def __str__(self) -> str:
        return self.public_id


class Adjustment(models.Model):
    """A manual credit (+) or debit (-) to a merchant, with a reason; above the threshold
    it waits for a second operator's approval before anything is posted."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        POSTED = "posted", _("Posted")
        REJECTED = "rejected", _("Rejected")

    public_id = PublicIdField(prefix="adj")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    amount_fen = models.BigIntegerField()
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "finance_adjustment"
        constraints = [models.CheckConstraint(condition=~Q(amount_fen=0), name="adjustment_not_zero"),
                       models.CheckConstraint(condition=~Q(reason=""), name="adjustment_reason_required")]

    def __str__(self) -> str:
        return self.public_id


class SettlementRun(models.Model):
    """One run of the daily settlement (periodic or started by an operator)."""

    day = models.DateField()
    batches = models.PositiveIntegerField(default=0)
    payout_fen = models.BigIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "finance_settlement_run"
        ordering = ["-id"]
