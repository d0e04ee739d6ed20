from django.contrib import admin

from .models import (
    ApplicationDocument,
    ApplicationEvent,
    MenuCategory,
    Merchant,
    MerchantApplication,
    MerchantMember,
    Product,
    Store,
    StoreCategory,
)
from .onboarding import mask_bank_account


class MemberInline(admin.TabularInline):
    model = MerchantMember
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "public_id", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "legal_name", "public_id")
    inlines = [MemberInline]
    readonly_fields = ("public_id",)


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("name", "public_id", "city_code", "category", "status", "rating", "min_order_fen")
    list_filter = ("city_code", "status", "category")
    search_fields = ("name", "address", "public_id")
    raw_id_fields = ("merchant",)
    readonly_fields = ("public_id", "h3_cell")
    list_select_related = ("category",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "public_id", "store", "price_fen", "is_available")
    search_fields = ("name", "public_id")
    raw_id_fields = ("store", "menu_category")
    list_select_related = ("store",)


admin.site.register(StoreCategory)
admin.site.register(MenuCategory)


class ReadOnlyInline(admin.TabularInline):
    """History and uploaded evidence: shown, never edited or deleted from the back office."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class ApplicationEventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = readonly_fields = ("created_at", "action", "from_status", "to_status", "actor",
                                "actor_role", "note")


class ApplicationDocumentInline(ReadOnlyInline):
    model = ApplicationDocument
    fields = readonly_fields = ("public_id", "kind", "file", "content_type", "size_bytes",
                                "created_at")


@admin.register(MerchantApplication)
class MerchantApplicationAdmin(admin.ModelAdmin):
    """Read-only: decisions go through the onboarding services (the /ops API), which
    check the state table and write the events. The bank account is shown masked."""

    list_display = ("public_id", "legal_name", "store_name", "city_code", "status", "submitted_at",
                    "decided_at")
    list_filter = ("status", "city_code")
    search_fields = ("public_id", "legal_name", "store_name", "licence_number")
    ordering = ("-created_at",)
    exclude = ("bank_account_number",)
    inlines = [ApplicationDocumentInline, ApplicationEventInline]

    @admin.display(description="bank account")
    def bank_account(self, obj: MerchantApplication) -> str:
        return mask_bank_account(obj.bank_account_number)

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = [f.name for f in self.model._meta.fields if f.name != "bank_account_number"]
        return [*fields, "bank_account"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
