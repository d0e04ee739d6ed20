"""Group-buy vouchers (团购券): deals a store sells online, the vouchers bought, their
redemptions at the counter (核销) and an event row per change. See docs/marketing.md,
"Group-buy vouchers". Imported at the end of `marketing/models.py`."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from linli.core.fields import PublicIdField
from linli.merchants.models import Store
from linli.orders.models import Order

__all__ = ["Voucher", "VoucherDeal", "VoucherEvent", "VoucherLimitCounter", "VoucherPurchase",
           "VoucherRedemption"]

MAX_USES = 20
MAX_VALID_DAYS = 366


class VoucherDeal(models.Model):
    """A package a store sells (双人套餐 ¥88, worth ¥128): price, value, uses per voucher,
    validity, refund terms, quota, per-user limit, and who funds the difference."""

    class Status(models.TextChoices):
        ON_SALE = "on_sale", _("On sale")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    public_id = PublicIdField(prefix="vdl")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="voucher_deals")
    title = models.CharField(_("title"), max_length=60)
    description = models.TextField(_("what is included"), max_length=1000, blank=True)
    price_fen = models.PositiveIntegerField(_("price (fen)"))
    worth_fen = models.PositiveIntegerField(_("worth (fen)"), help_text=_("What it is worth at the store."))
    uses_per_voucher = models.PositiveSmallIntegerField(_("uses per voucher"), default=1)
    valid_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("Valid for N days after purchase (instead of a fixed end)."))
    valid_until = models.DateTimeField(null=True, blank=True)
    sale_ends_at = models.DateTimeField(null=True, blank=True)
    refund_anytime = models.BooleanField(_("refund any time (随时退)"), default=True)
    refund_unused_on_expiry = models.BooleanField(_("refund unused on expiry (过期自动退)"), default=True)
    total_quota = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty = unlimited."))
    sold_count = models.PositiveIntegerField(default=0, editable=False)
    per_user_limit = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("Empty = no limit."))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ON_SALE)
    # Who pays the difference between worth and price (settlement), as for coupons.
    funded_by = models.CharField(max_length=16, default="merchant",
                                 choices=[("platform", _("Platform")), ("merchant", _("Merchant")),
                                          ("shared", _("Shared"))])
    platform_share_percent = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "marketing_voucher_deal"
        indexes = [models.Index(fields=["store", "status"], name="voucher_deal_store")]
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gt=0) & Q(worth_fen__gt=F("price_fen")),
                                   name="voucher_deal_worth_above_price"),
            models.CheckConstraint(condition=Q(total_quota__isnull=True) | Q(sold_count__lte=F("total_quota")),
                                   name="voucher_deal_quota_never_exceeded"),
            models.CheckConstraint(condition=Q(uses_per_voucher__gte=1), name="voucher_deal_uses_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.public_id})"

    def clean(self) -> None:
        from .voucher_services import deal_problems

        problems = deal_problems(self)
        if problems:
            raise ValidationError({field: str(message) for field, message in problems.items()})

    def expiry_for(self, bought_at: datetime) -> datetime:
        if self.valid_days is not None:
            return bought_at + timedelta(days=self.valid_days)
        assert self.valid_until is not None
        return self.valid_until


class VoucherLimitCounter(models.Model):
    """Vouchers of a deal held by one user (bought or being paid): the per-user limit is a
    conditional UPDATE of this row."""

    deal = models.ForeignKey(VoucherDeal, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "marketing_voucher_limit_counter"
        constraints = [models.UniqueConstraint(fields=["deal", "user"], name="voucher_limit_per_user")]


class VoucherPurchase(models.Model):
    """One order buying `quantity` vouchers of a deal: `pending` until paid, then `issued`
    (vouchers exist), or `cancelled` (the order died unpaid; quota and limit given back)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ISSUED = "issued"
        CANCELLED = "cancelled"

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="voucher_purchase")
    deal = models.ForeignKey(VoucherDeal, on_delete=models.PROTECT, related_name="purchases")
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField()
    unit_price_fen = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "marketing_voucher_purchase"
        indexes = [models.Index(fields=["status", "created_at"], name="voucher_purchase_status")]


class Voucher(models.Model):
    """One voucher: a code shown at the store, `uses_left` of `uses_total`, until `expires_at`."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("To use")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")
        REFUNDED = "refunded", _("Refunded")

    public_id = PublicIdField(prefix="vch")
    deal = models.ForeignKey(VoucherDeal, on_delete=models.PROTECT, related_name="vouchers")
    purchase = models.ForeignKey(VoucherPurchase, on_delete=models.PROTECT, related_name="vouchers")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="vouchers")
    seq = models.PositiveSmallIntegerField()  # 1..quantity within its order
    code = models.CharField(max_length=12, unique=True)
    price_fen = models.PositiveIntegerField()  # what this voucher cost
    uses_total = models.PositiveSmallIntegerField()
    uses_left = models.PositiveSmallIntegerField()
    refunded_fen = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    issued_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)  # used up, expired or refunded

    class Meta:
        db_table = "marketing_voucher"
        indexes = [
            models.Index(fields=["owner", "status"], name="voucher_owner"),
            models.Index(fields=["status", "expires_at"], name="voucher_expiry"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["order", "seq"], name="voucher_once_per_order_seq"),
            models.CheckConstraint(condition=Q(uses_left__lte=F("uses_total")), name="voucher_uses_within_total"),
            models.CheckConstraint(condition=Q(refunded_fen__lte=F("price_fen")), name="voucher_refund_within_price"),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def uses_done(self) -> int:
        return self.uses_total - self.uses_left


class VoucherRedemption(models.Model):
    """One 核销 at a counter: `uses` of a voucher, with the money shares for settlement."""

    public_id = PublicIdField(prefix="vrd")
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="voucher_redemptions")
    uses = models.PositiveSmallIntegerField()
    amount_fen = models.PositiveIntegerField()  # the consumer's money for these uses
    worth_fen = models.PositiveIntegerField()  # what these uses are worth at the store
    funded_by = models.CharField(max_length=16)
    platform_fen = models.PositiveIntegerField()  # the platform's part of worth - amount
    merchant_fen = models.PositiveIntegerField()  # the merchant's part of worth - amount
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    counter = models.CharField(max_length=40, blank=True)  # the till / device
    source = models.CharField(max_length=10, default="api")  # api or console
    idempotency_key = models.CharField(max_length=100, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    redeemed_at = models.DateTimeField()

    class Meta:
        db_table = "marketing_voucher_redemption"
        indexes = [models.Index(fields=["store", "redeemed_at"], name="voucher_redemption_store")]
        constraints = [
            models.UniqueConstraint(fields=["store", "counter", "idempotency_key"],
                                    condition=~Q(idempotency_key=""), name="voucher_redemption_idem"),
        ]


class VoucherEvent(models.Model):
    """Every change of a deal or a voucher, with who and when (actor None = system)."""

    deal = models.ForeignKey(VoucherDeal, on_delete=models.CASCADE, related_name="events")
    voucher = models.ForeignKey(Voucher, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    # deal: create, pause, resume, end; voucher: issue, redeem, refund, expire, expire_refund
    action = models.CharField(max_length=16)
    uses = models.PositiveSmallIntegerField(default=0)
    amount_fen = models.PositiveIntegerField(default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "marketing_voucher_event"
        ordering = ["id"]
