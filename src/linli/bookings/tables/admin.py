"""Operator back office: reservations and queue numbers with their event history, read-only
(changes go through the services, which check roles and write the events)."""

from __future__ import annotations

from django.contrib import admin

from .models import QueueEvent, QueueTicket, Reservation, ReservationEvent, TableSetup, TableType


class ReservationEventInline(admin.TabularInline):
    model = ReservationEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "from_status", "to_status", "actor", "actor_role", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class QueueEventInline(admin.TabularInline):
    model = QueueEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "from_status", "to_status", "actor", "actor_role")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ("public_id", "store", "starts_at", "party_size", "table_type", "table_no", "status")
    list_filter = ("status",)
    search_fields = ("public_id", "store__name")
    readonly_fields = [f.name for f in Reservation._meta.fields]
    inlines = [ReservationEventInline]
    list_select_related = ("store", "table_type")


@admin.register(QueueTicket)
class QueueTicketAdmin(admin.ModelAdmin):
    list_display = ("public_id", "store", "service_date", "code", "party_size", "status", "called_at")
    list_filter = ("status", "group")
    search_fields = ("public_id", "store__name")
    readonly_fields = [f.name for f in QueueTicket._meta.fields]
    inlines = [QueueEventInline]
    list_select_related = ("store",)


@admin.register(TableType)
class TableTypeAdmin(admin.ModelAdmin):
    list_display = ("public_id", "store", "name", "seats", "count", "is_active")
    search_fields = ("store__name", "name")


@admin.register(TableSetup)
class TableSetupAdmin(admin.ModelAdmin):
    list_display = ("store", "takes_reservations", "takes_queue", "seating_minutes", "slot_minutes")
