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
                      "platform_share_percent", "valid_from", "valid_until", "valid_days", "per_user_limit")


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
    search_fields = ("public_id", "template__public_id", "user__phone")
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
