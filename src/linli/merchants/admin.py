from django.contrib import admin

from .models import MenuCategory, Merchant, MerchantMember, Product, Store, StoreCategory


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
