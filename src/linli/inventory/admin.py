from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from linli.ops.admin_tools import ReadOnlyAdminMixin, StoreFilter, admin_link

from .models import StockItem, StockMovement, StockReservation


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin):
    list_display = ("product_name", "product_link", "store_link", "quantity", "reserved",
                    "daily_quantity", "updated_at")
    list_display_links = ("product_name",)
    list_filter = (StoreFilter,)
    search_fields = ("product__name", "=product__public_id", "=store__public_id")
    autocomplete_fields = ("product", "store")
    list_select_related = ("product", "store")
    # changed only through inventory.services (it keeps the ledger)
    readonly_fields = ("quantity", "reserved", "daily_quantity", "daily_reset_on")

    @admin.display(description=_("product"), ordering="product__name")
    def product_name(self, obj: StockItem) -> str:
        return obj.product.name

    @admin.display(description=_("product id"))
    def product_link(self, obj: StockItem) -> str:
        return admin_link(obj.product, obj.product.public_id)

    @admin.display(description=_("store"))
    def store_link(self, obj: StockItem) -> str:
        return admin_link(obj.store)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The stock ledger: read-only."""

    list_display = ("product_link", "delta", "reserved_delta", "reason", "reference", "actor_link",
                    "created_at")
    list_filter = ("reason", StoreFilter)
    search_fields = ("=product__public_id", "reference")
    list_select_related = ("product", "actor")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in StockMovement._meta.fields if f.name != "id"]


    @admin.display(description=_("product"))
    def product_link(self, obj: StockMovement) -> str:
        return admin_link(obj.product)

    @admin.display(description=_("who"))
    def actor_link(self, obj: StockMovement) -> str:
        return admin_link(obj.actor) if obj.actor else "-"


@admin.register(StockReservation)
class StockReservationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Units held for orders (by the order's public id): read-only."""

    list_display = ("product_link", "reference", "quantity", "status", "created_at", "settled_at")
    list_filter = ("status", StoreFilter)
    search_fields = ("=reference", "=product__public_id")
    list_select_related = ("product",)

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in StockReservation._meta.fields if f.name != "id"]


    @admin.display(description=_("product"))
    def product_link(self, obj: StockReservation) -> str:
        return admin_link(obj.product)
