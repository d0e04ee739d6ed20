from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from linli.ops.admin_tools import (
    EventHistoryInline,
    PublicIdAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    admin_link,
    money,
)

from .models import GatewayNotification, Payment, PaymentEvent, Refund


class PaymentEventInline(EventHistoryInline):
    model = PaymentEvent
    fields = readonly_fields = ("created_at", "transition", "actor_display", "actor_role", "note")


class RefundInline(ReadOnlyInline):
    model = Refund
    verbose_name_plural = _("refunds")
    fields = readonly_fields = ("public_id", "amount", "status", "reason", "created_at", "succeeded_at")

    @admin.display(description=_("amount"))
    def amount(self, obj: Refund) -> str:
        return money(obj.amount_fen)


class ReadOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Money records are never edited by hand."""

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in self.model._meta.fields if f.name != "id"]  # ids: public ones only


@admin.register(Payment)
class PaymentAdmin(PublicIdAdmin, ReadOnly):
    list_display = ("public_id", "order_link", "provider", "amount", "status", "created_at", "succeeded_at")
    list_filter = ("status", "provider")
    search_fields = ("=public_id", "=provider_trade_no", "=order__public_id")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    exclude = ("order",)
    inlines = [PaymentEventInline, RefundInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ["order_link", *(f.name for f in Payment._meta.fields if f.name not in ("order", "id"))]

    @admin.display(description=_("order"))
    def order_link(self, obj: Payment) -> str:
        return admin_link(obj.order)

    @admin.display(description=_("amount"), ordering="amount_fen")
    def amount(self, obj: Payment) -> str:
        return money(obj.amount_fen)


@admin.register(Refund)
class RefundAdmin(PublicIdAdmin, ReadOnly):
    list_display = ("public_id", "payment_link", "amount", "status", "reason", "created_at")
    list_filter = ("status",)
    search_fields = ("=public_id", "=payment__public_id", "=payment__order__public_id")
    list_select_related = ("payment",)
    exclude = ("payment",)

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ["payment_link", *(f.name for f in Refund._meta.fields if f.name not in ("payment", "id"))]

    @admin.display(description=_("payment"))
    def payment_link(self, obj: Refund) -> str:
        return admin_link(obj.payment)

    @admin.display(description=_("amount"), ordering="amount_fen")
    def amount(self, obj: Refund) -> str:
        return money(obj.amount_fen)


@admin.register(GatewayNotification)
class NotificationAdmin(ReadOnly):
    list_display = ("provider", "notify_id", "verified", "outcome", "received_at")
    list_filter = ("provider", "verified", "outcome")
    search_fields = ("=notify_id",)
