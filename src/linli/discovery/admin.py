"""Operator back office for the home feed: banners and featured (hot) stores per city."""

from django.contrib import admin

from .models import Banner, HotStore


@admin.register(Banner)
class BannerAdmin(admin.ModelAdmin):
    list_display = ("title", "city_code", "starts_at", "ends_at", "sort", "is_active", "public_id")
    list_filter = ("city_code", "is_active")
    list_editable = ("sort", "is_active")
    search_fields = ("title", "public_id", "link")
    date_hierarchy = "starts_at"
    readonly_fields = ("public_id",)
    ordering = ("city_code", "sort", "id")


@admin.register(HotStore)
class HotStoreAdmin(admin.ModelAdmin):
    list_display = ("store", "city_code", "starts_at", "ends_at", "sort")
    list_filter = ("city_code",)
    list_editable = ("sort",)
    search_fields = ("store__name", "store__public_id")
    raw_id_fields = ("store",)
    list_select_related = ("store",)
    ordering = ("city_code", "sort", "id")
