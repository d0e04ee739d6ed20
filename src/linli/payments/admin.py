from django.contrib import admin

from .models import GatewayNotification, Payment, PaymentEvent, Refund


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "actor", "actor_role", "note", "created_at")


class ReadOnly(admin.ModelAdmin):
    """Money records are never edited by hand."""

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnly):
    list_display = ("public_id", "order", "provider", "amount_fen", "status", "created_at")
    list_filter = ("provider", "status")
    search_fields = ("public_id", "provider_trade_no", "order__public_id")
    inlines = [PaymentEventInline]


@admin.register(Refund)
class RefundAdmin(ReadOnly):
    list_display = ("public_id", "payment", "amount_fen", "status", "reason", "created_at")
    list_filter = ("status",)


@admin.register(GatewayNotification)
class NotificationAdmin(ReadOnly):
    list_display = ("provider", "notify_id", "verified", "outcome", "received_at")
    list_filter = ("provider", "verified", "outcome")
