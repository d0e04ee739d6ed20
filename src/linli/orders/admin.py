from django.contrib import admin

from .models import Order, OrderEvent, OrderItem


class ItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    readonly_fields = ("product", "name", "unit_price_fen", "quantity", "amount_fen")


class EventInline(admin.TabularInline):
    """The audit trail: read-only, never edited by hand."""

    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ("action", "from_status", "to_status", "actor", "actor_role", "note", "created_at")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Operators look; they change orders only through the API's state machine."""

    list_display = ("public_id", "store", "status", "fulfilment", "total_fen", "created_at")
    list_filter = ("status", "fulfilment", "city_code")
    search_fields = ("public_id", "consumer__phone")
    date_hierarchy = "created_at"
    list_select_related = ("store",)
    inlines = [ItemInline, EventInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in Order._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
