from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from linli.ops.admin_tools import (
    EventHistoryInline,
    PublicIdAdmin,
    ReadOnlyAdminMixin,
    admin_link,
)

from .models import DeliveryEvent, DeliveryTask, Rider


@admin.register(Rider)
class RiderAdmin(PublicIdAdmin):
    list_display = ("name", "public_id", "phone", "city_code", "is_online", "location_at")
    list_filter = ("is_online", "city_code")
    search_fields = ("name", "=public_id", "=user__phone")
    autocomplete_fields = ("user",)
    list_select_related = ("user",)
    readonly_fields = ("public_id", "location_at")

    @admin.display(description=_("phone"), ordering="user__phone")
    def phone(self, obj: Rider) -> str:
        return obj.user.phone or "-"


class DeliveryEventInline(EventHistoryInline):
    model = DeliveryEvent
    fields = readonly_fields = ("created_at", "transition", "actor_display", "actor_role")


@admin.register(DeliveryTask)
class DeliveryTaskAdmin(ReadOnlyAdminMixin, PublicIdAdmin):
    """Read-only: tasks move through the delivery services (dispatch, pickup, deliver)."""

    list_display = ("public_id", "order_link", "rider_link", "status", "city_code", "created_at", "delivered_at")
    list_filter = ("status", "city_code")
    search_fields = ("=public_id", "=order__public_id", "=rider__public_id")
    list_select_related = ("order", "rider")
    date_hierarchy = "created_at"
    inlines = [DeliveryEventInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Not the handover code: the consumer reads it to the rider, nobody else needs it.
        return [f.name for f in DeliveryTask._meta.fields
                if f.name not in ("order", "rider", "id", "delivery_code")] + ["order_link", "rider_link"]

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self.get_readonly_fields(request, obj)


    @admin.display(description=_("order"), ordering="order__created_at")
    def order_link(self, obj: DeliveryTask) -> str:
        return admin_link(obj.order)

    @admin.display(description=_("rider"))
    def rider_link(self, obj: DeliveryTask) -> str:
        return admin_link(obj.rider)
