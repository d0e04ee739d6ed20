"""Operator back office for the home feed: banners and featured (hot) stores per city."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from linli.ops.admin_tools import PublicIdAdmin, admin_link

from .models import Banner, HotStore


@admin.register(Banner)
class BannerAdmin(PublicIdAdmin):
    list_display = ("title", "public_id", "city_code", "starts_at", "ends_at", "sort", "is_active")
    list_filter = ("city_code", "is_active")
    list_editable = ("sort", "is_active")
    search_fields = ("title", "=public_id", "link")
    date_hierarchy = "starts_at"
    readonly_fields = ("public_id",)
    ordering = ("city_code", "sort", "id")


@admin.register(HotStore)
class HotStoreAdmin(admin.ModelAdmin):
    list_display = ("store_name", "store_link", "city_code", "starts_at", "ends_at", "sort")
    list_display_links = ("store_name",)
    list_filter = ("city_code",)
    list_editable = ("sort",)
    search_fields = ("store__name", "=store__public_id")
    autocomplete_fields = ("store",)
    list_select_related = ("store",)
    ordering = ("city_code", "sort", "id")

    @admin.display(description=_("store"), ordering="store__name")
    def store_name(self, obj: HotStore) -> str:
        return obj.store.name

    @admin.display(description=_("store id"))
    def store_link(self, obj: HotStore) -> str:
        return admin_link(obj.store, obj.store.public_id)
