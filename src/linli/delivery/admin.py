from django.contrib import admin

from .models import DeliveryTask, Rider


@admin.register(Rider)
class RiderAdmin(admin.ModelAdmin):
    list_display = ("name", "public_id", "city_code", "is_online", "location_at")
    list_filter = ("city_code", "is_online")
    search_fields = ("name", "public_id", "user__phone")
    raw_id_fields = ("user",)


@admin.register(DeliveryTask)
class DeliveryTaskAdmin(admin.ModelAdmin):
    list_display = ("public_id", "order", "rider", "status", "created_at")
    list_filter = ("city_code", "status")
    raw_id_fields = ("order", "rider")
