"""Lottery (抽奖: prizes with weights, stock and a budget; one row per draw) and targeted
campaigns (a segment, an instrument, a message, a schedule; one row per member, treated or
held out as control). Imported at the end of `marketing.models`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from linli.core.fields import PublicIdField
from linli.merchants.models import Store

from . import segments


class Lottery(models.Model):
    """A prize pool with a budget. `spent_fen` only grows by a conditional UPDATE that keeps
    it within `budget_fen` (and a CHECK constraint backs it)."""

    class Eligibility(models.TextChoices):
        PER_DAY = "per_day", _("Once per user per day")
        ONCE = "once", _("Once per user")
        PER_ORDER = "per_order", _("Once per completed order")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        LIVE = "live", _("Live")
        CLOSED = "closed", _("Closed")

    public_id = PublicIdField(prefix="lot")
    title = models.CharField(_("title"), max_length=60)
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="lotteries",
                              help_text=_("Empty = a platform lottery."))
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    budget_fen = models.PositiveIntegerField(help_text=_("The most the prizes may cost, in fen."))
    spent_fen = models.PositiveIntegerField(default=0, editable=False)
    eligibility = models.CharField(max_length=16, choices=Eligibility.choices, default=Eligibility.PER_DAY)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "lotteries"
        constraints = [models.CheckConstraint(condition=Q(spent_fen__lte=F("budget_fen")),
                                              name="marketing_lottery_budget_never_exceeded")]

    def __str__(self) -> str:
        return f"{self.title} ({self.public_id})"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})
        if self.budget_fen is not None and self.budget_fen < (self.spent_fen or 0):
            raise ValidationError({"budget_fen": _("The budget cannot go below what was already spent.")})


class Prize(models.Model):
    """One prize of a lottery. `stock` is what is left (empty = unlimited; a "nothing" prize
    has none); it only goes down by a conditional UPDATE (`stock > 0`)."""

    class Kind(models.TextChoices):
        COUPON = "coupon", _("Coupon")
        POINTS = "points", _("Points")
        NOTHING = "nothing", _("No prize (thanks for taking part)")

    public_id = PublicIdField(prefix="prz")
    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="prizes")
    name = models.CharField(_("label"), max_length=40)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    coupon_template = models.ForeignKey("marketing.CouponTemplate", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    points = models.PositiveIntegerField(default=0)
    weight = models.PositiveIntegerField(help_text=_("Chance = weight / the sum of every prize's weight."))
    stock = models.PositiveIntegerField(null=True, blank=True, help_text=_("Left to win; empty = unlimited."))
    awarded_count = models.PositiveIntegerField(default=0, editable=False)
    cost_fen = models.PositiveIntegerField(default=0, help_text=_("What one award takes from the budget."))

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == self.Kind.COUPON and not self.coupon_template_id:
            errors["coupon_template"] = str(_("A coupon prize names its coupon template."))
        if self.kind == self.Kind.POINTS and not self.points:
            errors["points"] = str(_("A points prize gives at least one point."))
        if self.kind == self.Kind.NOTHING and (self.cost_fen or self.coupon_template_id or self.points):
            errors["kind"] = str(_("A no-prize outcome costs nothing and gives nothing."))
        if errors:
            raise ValidationError(errors)


class Draw(models.Model):
    """One draw: who, when, what, and how (the pool as it was, the seed and the roll), so
    any draw can be replayed by `lottery_draw.pick`. `eligibility_key` ("day:2026-11-25",
    "once", "order:ord_…") is unique per lottery and user: the eligibility rule is a
    database constraint."""

    public_id = PublicIdField(prefix="drw")
    lottery = models.ForeignKey(Lottery, on_delete=models.PROTECT, related_name="draws")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prize = models.ForeignKey(Prize, null=True, blank=True, on_delete=models.PROTECT, related_name="draws")
    outcome = models.CharField(max_length=16)  # coupon, points, nothing
    cost_fen = models.PositiveIntegerField(default=0)
    coupon = models.ForeignKey("marketing.Coupon", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    points = models.PositiveIntegerField(default=0)
    eligibility_key = models.CharField(max_length=60)
    idempotency_key = models.CharField(max_length=100, blank=True)
    seed = models.CharField(max_length=64)
    roll = models.PositiveIntegerField()
    total_weight = models.PositiveIntegerField()
    pool = models.JSONField(default=list)  # [[prize ref, weight, stock, cost_fen], ...] at the draw
    budget_left_fen = models.PositiveIntegerField()
    fallback = models.CharField(max_length=32, blank=True)  # why a drawn prize became no prize
    drawn_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lottery", "user", "eligibility_key"], name="marketing_draw_eligible_once"),
            models.UniqueConstraint(fields=["lottery", "user", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="marketing_draw_key_once"),
        ]
        indexes = [models.Index(fields=["user", "drawn_at"])]


class LotteryEvent(models.Model):
    """A lottery's changes (created, published, closed, edited) with actor and time."""

    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Campaign(models.Model):
    """A segment + an instrument (a coupon template or a lottery) + a message + a schedule.
    A store's campaign (merchant) reaches the store's customers only; `store` empty = a
    platform campaign (operators)."""

    class Instrument(models.TextChoices):
        COUPON = "coupon", _("Coupon")
        LOTTERY = "lottery", _("Lottery")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    public_id = PublicIdField(prefix="cmp")
    name = models.CharField(_("name"), max_length=60)
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns")
    segment_rule = models.JSONField(help_text=_('e.g. {"match": "all", "conditions": [{"kind": "dormant", "days": 30}]}'))
    instrument = models.CharField(max_length=16, choices=Instrument.choices)
    coupon_template = models.ForeignKey("marketing.CouponTemplate", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="campaigns")
    lottery = models.ForeignKey(Lottery, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns")
    message_title = models.CharField(max_length=60)
    message_body = models.CharField(max_length=300)
    schedule_at = models.DateTimeField(null=True, blank=True, help_text=_("Empty = launched by hand."))
    control_percent = models.PositiveSmallIntegerField(default=10, help_text=_("Held out, 0 to 50."))
    window_days = models.PositiveSmallIntegerField(default=14, help_text=_("Conversion is counted this long."))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    launched_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "schedule_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        try:
            self.segment_rule = segments.rule_clean(self.segment_rule)
        except segments.RuleInvalid as exc:
            errors["segment_rule"] = str(_("The segment rule is not valid (%(part)s).") % {"part": exc.reason})
        if self.instrument == self.Instrument.COUPON and not self.coupon_template_id:
            errors["coupon_template"] = str(_("A coupon campaign names its coupon template."))
        if self.instrument == self.Instrument.LOTTERY and not self.lottery_id:
            errors["lottery"] = str(_("A lottery campaign names its lottery."))
        if self.control_percent is not None and self.control_percent > 50:
            errors["control_percent"] = str(_("Hold out at most 50 percent."))
        if not self.window_days or self.window_days > 90:
            errors["window_days"] = str(_("Count conversion for 1 to 90 days."))
        if errors:
            raise ValidationError(errors)


class CampaignMember(models.Model):
    """One user of a launched campaign: treated (got the instrument and the message, within
    the caps) or control (held out, nothing sent: the baseline of the uplift)."""

    class Group(models.TextChoices):
        TREATED = "treated", _("Treated")
        CONTROL = "control", _("Control")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    group = models.CharField(max_length=8, choices=Group.choices)
    coupon = models.ForeignKey("marketing.Coupon", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    reached_at = models.DateTimeField(null=True, blank=True)  # the message was delivered
    claimed_at = models.DateTimeField(null=True, blank=True)  # the coupon was issued

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="marketing_campaign_member_once")]
        indexes = [models.Index(fields=["campaign", "group"])]


class CampaignEvent(models.Model):
    """Every change of a campaign's status, with actor and time."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


__all__ = ["Campaign", "CampaignEvent", "CampaignMember", "Draw", "Lottery", "LotteryEvent", "Prize"]
