"""Coupons (templates, the consumers' claimed coupons, redemptions) and store promotions."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.fields import PublicIdField
from linli.merchants.models import Product, Store, StoreCategory

from . import rules


class Funding(models.TextChoices):
    PLATFORM = "platform", _("Platform")
    MERCHANT = "merchant", _("Merchant")
    SHARED = "shared", _("Shared")


PROBLEM_MESSAGES = {
    "coupon_kind_unknown": _("Unknown coupon kind."),
    "amount_negative": _("Amounts must not be negative."),
    "amount_required": _("A threshold coupon needs an amount off."),
    "threshold_below_discount": _("The threshold must be above the amount it takes off."),
    "percent_out_of_range": _("A percentage coupon takes 1 to 99 percent off."),
    "percent_not_allowed": _("Only a percentage coupon takes a percentage."),
    "amount_not_allowed": _("A free-delivery coupon takes no amount."),
    "tiers_required": _("Give at least one tier."),
    "tiers_not_ascending": _("Tiers must rise in threshold and in amount off."),
    "gift_quantities": _("Buy X get Y needs X and Y from 1 to 99."),
}


def _funding_problems(funded_by: str, platform_share_percent: int) -> dict[str, str]:
    if funded_by == Funding.SHARED and not 1 <= platform_share_percent <= 99:
        return {"platform_share_percent": str(_("A shared cost gives the platform 1 to 99 percent."))}
    return {}


def funding_split(funded_by: str, platform_share_percent: int, discount_fen: int) -> tuple[int, int]:
    """(platform fen, merchant fen) of a discount; the platform's part rounds down."""
    share = {"platform": 100, "merchant": 0}.get(funded_by, platform_share_percent)
    platform = discount_fen * share // 100
    return platform, discount_fen - platform


class CouponTemplate(models.Model):
    """What ops (or a merchant, later) issues: terms, scope, funding, validity, quota."""

    class Kind(models.TextChoices):
        AMOUNT_OFF = rules.AMOUNT_OFF, _("Amount off (threshold 0 = no threshold)")
        PERCENT_OFF = rules.PERCENT_OFF, _("Percentage off, with a cap")
        FREE_DELIVERY = rules.FREE_DELIVERY, _("Free delivery")

    class Scope(models.TextChoices):
        PLATFORM = "platform", _("Every store")
        STORE = "store", _("One store")
        CATEGORY = "category", _("Stores of one category")

    public_id = PublicIdField(prefix="cpt")
    name = models.CharField(_("label"), max_length=40, help_text=_('Shown as is, e.g. "满30减5".'))
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount_fen = models.PositiveIntegerField(default=0)
    percent_off = models.PositiveSmallIntegerField(default=0)
    cap_fen = models.PositiveIntegerField(null=True, blank=True)
    threshold_fen = models.PositiveIntegerField(default=0)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.PLATFORM)
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="coupon_templates")
    category = models.ForeignKey(StoreCategory, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="coupon_templates")
    new_customers_only = models.BooleanField(default=False)
    stacks_with_promotions = models.BooleanField(default=True)
    funded_by = models.CharField(max_length=16, choices=Funding.choices, default=Funding.PLATFORM)
    platform_share_percent = models.PositiveSmallIntegerField(
        default=0, help_text=_("Shared funding: the platform's percent of each discount."))
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    valid_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("Valid for N days after claim (instead of fixed dates)."))
    claim_starts_at = models.DateTimeField(null=True, blank=True)
    claim_ends_at = models.DateTimeField(null=True, blank=True)
    total_quota = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty = unlimited."))
    per_user_limit = models.PositiveSmallIntegerField(default=1)
    points_cost = models.PositiveIntegerField(
        default=0, help_text=_("Points a claim costs (积分兑换); 0 = free to claim."))
    issued_count = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(total_quota__isnull=True) | Q(issued_count__lte=models.F("total_quota")),
                                   name="marketing_coupon_quota_never_exceeded"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for code in rules.coupon_problems(kind=self.kind, amount_fen=self.amount_fen,
                                          percent_off=self.percent_off, cap_fen=self.cap_fen,
                                          threshold_fen=self.threshold_fen):
            errors.setdefault("__all__", str(PROBLEM_MESSAGES[code]))
        if self.scope == self.Scope.STORE and not self.store_id:
            errors["store"] = str(_("A store-scoped coupon names its store."))
        if self.scope == self.Scope.CATEGORY and not self.category_id:
            errors["category"] = str(_("A category-scoped coupon names its category."))
        if (self.valid_days is None) == (self.valid_until is None):
            errors["valid_days"] = str(_("Give either fixed dates or a number of days after claim."))
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            errors["valid_until"] = str(_("The end must be after the start."))
        if self.total_quota is not None and self.total_quota < self.issued_count:
            errors["total_quota"] = str(_("The quota cannot go below the %(n)s coupons already issued.")
                                        % {"n": self.issued_count})
        if self.per_user_limit < 1:
            errors["per_user_limit"] = str(_("At least one per user."))
        errors.update(_funding_problems(self.funded_by, self.platform_share_percent))
        if errors:
            raise ValidationError(errors)

    def validity_for(self, claimed_at: datetime) -> tuple[datetime, datetime]:
        """(valid from, valid until) of a coupon claimed at this moment."""
        if self.valid_days is not None:
            return claimed_at, claimed_at + timedelta(days=self.valid_days)
        assert self.valid_until is not None
        return self.valid_from or claimed_at, self.valid_until


class ClaimCounter(models.Model):
    """How many of a template one user has claimed: the per-user limit is a conditional
    update of this row, so concurrent claims by one user cannot pass it."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["template", "user"], name="marketing_claim_counter_once")]


class Coupon(models.Model):
    """One claimed coupon of one consumer. `expired` is a date, not a status, until the
    coupon is used (or given back after its end)."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")  # given back by a cancelled order after its end

    public_id = PublicIdField(prefix="cpn")
    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="coupons")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coupons")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    claimed_at = models.DateTimeField()
    claim_key = models.CharField(max_length=100, blank=True)  # the claim's Idempotency-Key
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["user", "template", "claim_key"], condition=~Q(claim_key=""),
                                    name="marketing_coupon_claim_key_once"),
        ]


class CouponEvent(models.Model):
    """Every change of a coupon: claim, use, return (given back), with actor and time."""

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)  # claim, use, return, return_expired
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class CouponRedemption(models.Model):
    """A coupon paying part of an order, for settlement: the discount and who funds it.
    `returned_at` set = the order was cancelled or refunded; settlement ignores the row."""

    public_id = PublicIdField(prefix="crd")
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    discount_fen = models.PositiveIntegerField()
    funded_by = models.CharField(max_length=16, choices=Funding.choices)
    platform_fen = models.PositiveIntegerField()
    merchant_fen = models.PositiveIntegerField()
    redeemed_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order"], name="marketing_one_coupon_per_order")]


class Promotion(models.Model):
    """A store's promotion for a time window: tiered full reduction, first-order discount,
    an item's special price or 买X送Y on one product. Priority and `exclusive` decide what combines
    (marketing.rules.promotions_chosen)."""

    class Kind(models.TextChoices):
        TIERED = rules.TIERED, _("Tiered full reduction (满减)")
        FIRST_ORDER = rules.FIRST_ORDER, _("First-order discount (新客立减)")
        SPECIAL_PRICE = rules.SPECIAL_PRICE, _("Special price (限时特价)")
        BUY_X_GET_Y = rules.BUY_X_GET_Y, _("Buy X get Y free (买X送Y)")

    public_id = PublicIdField(prefix="prm")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="promotions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(_("label"), max_length=40)
    tiers = models.JSONField(default=list, blank=True,
                             help_text=_('Tiered: [[threshold_fen, amount_fen], ...], e.g. [[3000, 500], [5000, 1000]]'))
    amount_fen = models.PositiveIntegerField(default=0, help_text=_("First-order discount: amount off."))
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    special_price_fen = models.PositiveIntegerField(default=0)
    per_order_limit = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("Special price: units at that price per order; buy X get Y: free units per order."))
    buy_qty = models.PositiveSmallIntegerField(default=0, help_text=_("Buy X get Y: X, the units paid for."))
    free_qty = models.PositiveSmallIntegerField(default=0, help_text=_("Buy X get Y: Y, the units given free."))
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    priority = models.SmallIntegerField(default=0, help_text=_("Higher applies first."))
    exclusive = models.BooleanField(default=False, help_text=_("Combines with no other promotion."))
    funded_by = models.CharField(max_length=16, choices=Funding.choices, default=Funding.MERCHANT)
    platform_share_percent = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["store", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    def tier_list(self) -> tuple[rules.Tier, ...]:
        return tuple(rules.Tier(int(t), int(a)) for t, a in self.tiers or ())

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = str(_("The end must be after the start."))
        if self.kind == self.Kind.TIERED:
            try:
                problems = rules.tiers_problems(self.tier_list())
            except (TypeError, ValueError):
                problems = ["tiers_required"]
            if problems:
                errors["tiers"] = str(PROBLEM_MESSAGES[problems[0]])
        if self.kind == self.Kind.FIRST_ORDER and not self.amount_fen:
            errors["amount_fen"] = str(_("Give the amount off."))
        if self.kind == self.Kind.BUY_X_GET_Y:
            if not self.product_id:
                errors["product"] = str(_("Name the product."))
            elif self.product.store_id != self.store_id:
                errors["product"] = str(_("The product is not on this store's menu."))
            if rules.gift_problems(buy_qty=self.buy_qty, free_qty=self.free_qty):
                errors["buy_qty"] = str(PROBLEM_MESSAGES["gift_quantities"])
        if self.kind == self.Kind.SPECIAL_PRICE:
            if not self.product_id:
                errors["product"] = str(_("Name the product."))
            elif self.product.store_id != self.store_id:
                errors["product"] = str(_("The product is not on this store's menu."))
            elif self.special_price_fen >= self.product.price_fen:
                errors["special_price_fen"] = str(_("The special price must be below the product's price."))
        errors.update(_funding_problems(self.funded_by, self.platform_share_percent))
        if not errors and self.is_active and self.store_id and self.starts_at and self.ends_at:
            clash = self.overlapping()
            if clash is not None:
                errors["__all__"] = str(_("It overlaps %(other)s in time: two exclusive promotions, or two "
                                          "of the same kind for the same goods, cannot run together.")
                                        % {"other": clash})
        if errors:
            raise ValidationError(errors)

    def overlapping(self) -> Promotion | None:
        """An active promotion of the store whose window overlaps this one and which cannot
        run beside it: either is exclusive, or both are the same kind on the same goods."""
        others = (Promotion.objects.filter(store_id=self.store_id, is_active=True,
                                           starts_at__lt=self.ends_at, ends_at__gt=self.starts_at)
                  .exclude(pk=self.pk))
        for other in others:
            per_product = {self.Kind.SPECIAL_PRICE, self.Kind.BUY_X_GET_Y}
            if self.kind in per_product and other.kind in per_product:
                same = other.product_id == self.product_id  # one price rule per product at a time
            else:
                same = other.kind == self.kind
            if same or (self.exclusive and other.exclusive):
                return other
        return None


from .engagement_models import *  # noqa: E402,F403
from .voucher_models import *  # noqa: E402,F403
