"""Back office: operators create and edit coupon templates and store promotions; claimed
coupons and redemptions are records (read-only). A template's terms freeze once a coupon
has been issued from it (what people claimed must not change under them); its quota,
claim window, label and on/off switch stay editable. Issued and used counts are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linli.ops.admin_tools import PublicIdAdmin, ReadOnlyAdminMixin, StoreFilter, admin_link, money

from .models import Coupon, CouponRedemption, CouponTemplate, Promotion

FROZEN_ONCE_ISSUED = ("kind", "amount_fen", "percent_off", "cap_fen", "threshold_fen", "scope", "store",
                      "category", "new_customers_only", "stacks_with_promotions", "funded_by",
                      "platform_share_percent", "valid_from", "valid_until", "valid_days", "per_user_limit",
                      "points_cost")


@admin.register(CouponTemplate)
class CouponTemplateAdmin(PublicIdAdmin):
    list_display = ("public_id", "name", "kind", "scope", "funded_by", "issued_count", "used", "total_quota",
                    "is_active", "created_at")
    list_filter = ("kind", "scope", "funded_by", "is_active", "new_customers_only")
    search_fields = ("public_id", "name")
    raw_id_fields = ("store", "category")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CouponTemplate]:
        return super().get_queryset(request).annotate(
            used_total=Count("coupons", filter=Q(coupons__status=Coupon.Status.USED)))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):  # type: ignore[no-untyped-def]
        fields = [*super().get_readonly_fields(request, obj), "issued_count", "used"]
        if obj is not None and obj.issued_count:
            fields += FROZEN_ONCE_ISSUED
        return fields

    @admin.display(description=_("used"))
    def used(self, obj: CouponTemplate) -> int:
        return getattr(obj, "used_total", 0)


@admin.register(Promotion)
class PromotionAdmin(PublicIdAdmin):
    list_display = ("public_id", "name", "kind", "store", "starts_at", "ends_at", "priority", "exclusive",
                    "funded_by", "is_active")
    list_filter = ("kind", "exclusive", "is_active", StoreFilter)
    search_fields = ("public_id", "name", "store__public_id")
    raw_id_fields = ("store", "product")


@admin.register(Coupon)
class CouponAdmin(ReadOnlyAdminMixin, PublicIdAdmin):
    list_display = ("public_id", "template", "user", "status", "valid_until", "claimed_at", "order_link")
    list_filter = ("status",)
    search_fields = ("public_id", "template__public_id", "=user__phone")
    list_select_related = ("template", "user", "order")

    @admin.display(description=_("order"))
    def order_link(self, obj: Coupon) -> str:
        return admin_link(obj.order, obj.order.public_id) if obj.order else "-"


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(ReadOnlyAdminMixin, PublicIdAdmin):
    list_display = ("public_id", "coupon", "order", "store", "discount", "funded_by", "platform", "merchant",
                    "redeemed_at", "returned_at")
    list_filter = ("funded_by", StoreFilter)
    list_select_related = ("coupon", "order", "store")

    @admin.display(description=_("discount"))
    def discount(self, obj: CouponRedemption) -> str:
        return money(obj.discount_fen)

    @admin.display(description=_("platform pays"))
    def platform(self, obj: CouponRedemption) -> str:
        return money(obj.platform_fen)

    @admin.display(description=_("merchant pays"))
    def merchant(self, obj: CouponRedemption) -> str:
        return money(obj.merchant_fen)


# --- lottery and campaigns (engagement) -------------------------------------------------------

from django.core.exceptions import ValidationError  # noqa: E402
from django.forms.models import BaseInlineFormSet  # noqa: E402
from django.utils import timezone  # noqa: E402

from linli.ops.admin_tools import ReadOnlyInline  # noqa: E402

from . import lottery_draw  # noqa: E402
from .campaign_report import campaign_report  # noqa: E402
from .engagement_models import (  # noqa: E402
    Campaign,
    CampaignEvent,
    Draw,
    Lottery,
    LotteryEvent,
    Prize,
)


class PrizeFormSet(BaseInlineFormSet):
    """The pool as a whole: some prize must have weight (else nobody can draw)."""

    def clean(self) -> None:
        super().clean()
        options = [lottery_draw.PrizeOption(str(i), f.cleaned_data.get("weight") or 0, f.cleaned_data.get("stock"),
                                            f.cleaned_data.get("cost_fen") or 0)
                   for i, f in enumerate(self.forms)
                   if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")]
        if "weights_empty" in lottery_draw.weight_problems(options):
            raise ValidationError(_("Give at least one prize (a no-prize outcome counts) a weight above 0."))


class PrizeInline(admin.TabularInline):
    model = Prize
    formset = PrizeFormSet
    extra = 1
    fields = ("name", "kind", "coupon_template", "points", "weight", "stock", "cost_fen", "awarded_count")
    readonly_fields = ("awarded_count",)
    raw_id_fields = ("coupon_template",)


class LotteryEventInline(ReadOnlyInline):
    model = LotteryEvent
    fields = readonly_fields = ("action", "actor", "note", "created_at")
    verbose_name_plural = _("history")


@admin.register(Lottery)
class LotteryAdmin(PublicIdAdmin):
    list_display = ("public_id", "title", "store", "status", "eligibility", "starts_at", "ends_at", "budget",
                    "spent", "draws")
    list_filter = ("status", "eligibility", StoreFilter)
    search_fields = ("public_id", "title")
    raw_id_fields = ("store",)
    readonly_fields = ("spent_fen",)
    inlines = [PrizeInline, LotteryEventInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lottery]:
        return super().get_queryset(request).select_related("store").annotate(draw_total=Count("draws"))

    @admin.display(description=_("budget"))
    def budget(self, obj: Lottery) -> str:
        return money(obj.budget_fen)

    @admin.display(description=_("spent"))
    def spent(self, obj: Lottery) -> str:
        return money(obj.spent_fen)

    @admin.display(description=_("draws"))
    def draws(self, obj: Lottery) -> int:
        return getattr(obj, "draw_total", 0)

    def save_model(self, request: HttpRequest, obj: Lottery, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        LotteryEvent.objects.create(lottery=obj, action="change" if change else "create", actor=request.user,
                                    note=", ".join(form.changed_data)[:200])


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdminMixin, PublicIdAdmin):
    """Every draw, never edited: who, when, what, and the seed, roll and pool that replay it."""

    list_display = ("public_id", "lottery", "user", "outcome", "prize", "cost", "fallback", "drawn_at")
    list_filter = ("outcome",)
    search_fields = ("public_id", "lottery__public_id", "=user__phone", "user__public_id")
    list_select_related = ("lottery", "user", "prize")
    date_hierarchy = "drawn_at"

    @admin.display(description=_("cost"))
    def cost(self, obj: Draw) -> str:
        return money(obj.cost_fen)


class CampaignEventInline(ReadOnlyInline):
    model = CampaignEvent
    fields = readonly_fields = ("action", "from_status", "to_status", "actor", "note", "created_at")
    verbose_name_plural = _("history")


@admin.register(Campaign)
class CampaignAdmin(PublicIdAdmin):
    """Operators create and edit draft campaigns here; the page shows a launched campaign's
    results with its charts. Launching goes through `campaign_launch` (the action)."""

    list_display = ("public_id", "name", "store", "instrument", "status", "control_percent", "schedule_at",
                    "launched_at")
    list_filter = ("status", "instrument", StoreFilter)
    search_fields = ("public_id", "name")
    raw_id_fields = ("store", "coupon_template", "lottery")
    readonly_fields = ("status", "launched_at", "created_by")
    inlines = [CampaignEventInline]
    actions = ["launch_now"]
    change_form_template = "admin/marketing/campaign/change_form.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):  # type: ignore[no-untyped-def]
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            fields += [f.name for f in Campaign._meta.fields if f.editable and f.name not in fields]
        return fields

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
            obj.status = Campaign.Status.SCHEDULED if obj.schedule_at else Campaign.Status.DRAFT
        super().save_model(request, obj, form, change)
        CampaignEvent.objects.create(campaign=obj, action="change" if change else "create", to_status=obj.status,
                                     actor=request.user, note=", ".join(form.changed_data)[:200])

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        campaign = self.get_object(request, object_id)
        if campaign is not None:
            extra_context = {"report": campaign_report(campaign, timezone.now()), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Launch now"))
    def launch_now(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        from django.contrib import messages

        from linli.core.errors import DomainError

        from .campaign_services import campaign_launch

        for campaign in queryset:
            try:
                campaign_launch(campaign_id=campaign.public_id, actor=request.user)  # type: ignore[arg-type]
            except DomainError as exc:
                self.message_user(request, f"{campaign.public_id}: {exc.message} ({exc.code})", messages.ERROR)
            else:
                self.message_user(request, _("Launched: %(name)s") % {"name": campaign.name}, messages.SUCCESS)


# --- group-buy vouchers: deals editable by operators (terms freeze once sold), vouchers and
# redemptions read-only records --------------------------------------------------------------------

from .voucher_models import Voucher, VoucherDeal, VoucherRedemption  # noqa: E402

DEAL_FROZEN_ONCE_SOLD = ("store", "price_fen", "worth_fen", "uses_per_voucher", "valid_days", "valid_until",
                         "refund_anytime", "refund_unused_on_expiry", "funded_by", "platform_share_percent")


@admin.register(VoucherDeal)
class VoucherDealAdmin(PublicIdAdmin):
    list_display = ("public_id", "title", "store", "price", "worth", "uses_per_voucher", "sold_count",
                    "total_quota", "funded_by", "status", "created_at")
    list_filter = ("status", "funded_by", StoreFilter)
    search_fields = ("public_id", "title", "store__public_id")
    raw_id_fields = ("store", "created_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):  # type: ignore[no-untyped-def]
        fields = [*super().get_readonly_fields(request, obj), "sold_count"]
        if obj is not None and obj.sold_count:
            fields += DEAL_FROZEN_ONCE_SOLD
        return fields

    @admin.display(description=_("price"))
    def price(self, obj: VoucherDeal) -> str:
        return money(obj.price_fen)

    @admin.display(description=_("worth"))
    def worth(self, obj: VoucherDeal) -> str:
        return money(obj.worth_fen)


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdminMixin, PublicIdAdmin):
    list_display = ("public_id", "deal", "owner", "status", "uses_left", "uses_total", "expires_at", "order_link")
    list_filter = ("status",)
    search_fields = ("public_id", "deal__public_id", "=owner__phone", "order__public_id")
    list_select_related = ("deal", "owner", "order")
    exclude = ("code",)  # the code is the consumer's: operators find a voucher by its id, owner or order

    @admin.display(description=_("order"))
    def order_link(self, obj: Voucher) -> str:
        return admin_link(obj.order, obj.order.public_id)


@admin.register(VoucherRedemption)
class VoucherRedemptionAdmin(ReadOnlyAdminMixin, PublicIdAdmin):
    list_display = ("public_id", "voucher", "store", "uses", "amount", "funded_by", "platform", "merchant",
                    "counter", "actor", "redeemed_at")
    list_filter = ("funded_by", StoreFilter)
    list_select_related = ("voucher", "store", "actor")

    @admin.display(description=_("consumer paid"))
    def amount(self, obj: VoucherRedemption) -> str:
        return money(obj.amount_fen)

    @admin.display(description=_("platform pays"))
    def platform(self, obj: VoucherRedemption) -> str:
        return money(obj.platform_fen)

    @admin.display(description=_("merchant pays"))
    def merchant(self, obj: VoucherRedemption) -> str:
        return money(obj.merchant_fen)
