"""Operator back office: messages with their SMS/push deliveries and the attempt log
(read-only: messages are sent by the services, never typed here)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import ChannelDelivery, DeliveryAttempt, Message


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class DeliveryInline(admin.TabularInline):
    model = ChannelDelivery
    extra = 0
    can_delete = False
    fields = ("channel", "status", "attempts", "deliver_after", "last_error", "updated_at")
    readonly_fields = fields


@admin.register(Message)
class MessageAdmin(ReadOnly):
    list_display = ("public_id", "user", "kind", "category", "title", "created_at", "read_at")
    list_filter = ("category", "marketing", "kind")
    search_fields = ("public_id", "dedupe_key", "=user__phone", "user__public_id")
    inlines = [DeliveryInline]


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("at", "provider", "status", "error")
    readonly_fields = fields


@admin.register(ChannelDelivery)
class ChannelDeliveryAdmin(ReadOnly):
    list_display = ("message", "channel", "status", "attempts", "deliver_after", "last_error", "updated_at")
    list_filter = ("channel", "status")
    search_fields = ("message__public_id",)
    inlines = [AttemptInline]
