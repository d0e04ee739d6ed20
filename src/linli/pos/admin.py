from django.contrib import admin

from .models import Counter, Sale, SyncBatch, SyncConflict


@admin.register(Counter)
class CounterAdmin(admin.ModelAdmin):
    list_display = ("public_id", "store", "name", "is_active", "created_at")
    search_fields = ("public_id", "name")


@admin.register(Sale)
class SaleAdmin(admin.ModelAdmin):
    list_display = ("public_id", "store", "client_sale_id", "paid_fen", "payment_method", "status", "offline",
                    "created_at")
    search_fields = ("public_id", "client_sale_id")
    list_filter = ("status", "payment_method", "offline")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(SyncBatch)
class SyncBatchAdmin(admin.ModelAdmin):
    list_display = ("public_id", "store", "counter", "accepted", "duplicate", "conflict", "rejected", "created_at")


@admin.register(SyncConflict)
class SyncConflictAdmin(admin.ModelAdmin):
    list_display = ("public_id", "store", "client_sale_id", "kind", "reason", "resolved_at", "created_at")
    list_filter = ("kind", "reason")
