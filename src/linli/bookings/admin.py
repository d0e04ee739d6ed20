"""Service appointments in the operator back office: bookings with their history (read-only)."""

from __future__ import annotations

from django.contrib import admin

from .models import Booking, BookingEvent, Resource


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    can_delete = False
    readonly_fields = ("action", "from_status", "to_status", "actor", "actor_role", "note", "created_at")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ("public_id", "store", "service", "resource", "starts_at", "status", "prepay_fen", "fee_fen")
    list_filter = ("status", "payment")
    search_fields = ("public_id", "store__name", "=consumer__phone")
    date_hierarchy = "starts_at"
    list_select_related = ("store", "service__product", "resource")
    readonly_fields = [f.name for f in Booking._meta.fields]
    inlines = [BookingEventInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("public_id", "store", "kind", "name", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("public_id", "name", "store__name")
    raw_id_fields = ("store", "user")
