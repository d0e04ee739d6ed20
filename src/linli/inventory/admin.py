from django.contrib import admin

from .models import StockItem, StockMovement


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin):
    list_display = ("product", "store", "quantity", "updated_at")
    raw_id_fields = ("product", "store")
    readonly_fields = ("quantity",)  # changed only through inventory.services (it keeps the ledger)


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    list_display = ("product", "delta", "reason", "reference", "actor", "created_at")
    list_filter = ("reason",)
    raw_id_fields = ("product", "store", "actor")
