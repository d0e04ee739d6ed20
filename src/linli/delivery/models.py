"""Riders and delivery tasks. One task per delivery order, with its own event history."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linli.core.fields import PublicIdField
from linli.orders.models import Order


class Rider(models.Model):
    public_id = PublicIdField(prefix="rdr")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rider_profile"
    )
    city_code = models.CharField(max_length=16, db_index=True)
    name = models.CharField(max_length=64)
    is_online = models.BooleanField(default=False)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    location_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "delivery_rider"
        indexes = [models.Index(fields=["city_code", "is_online", "lat", "lng"], name="rider_online_geo")]

    def __str__(self) -> str:
        return self.name


class DeliveryTask(models.Model):
    class Status(models.TextChoices):
        UNASSIGNED = "unassigned"
        ASSIGNED = "assigned"
        PICKED_UP = "picked_up"
        DELIVERED = "delivered"
        CANCELLED = "cancelled"

    public_id = PublicIdField(prefix="dlv")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="delivery")
    city_code = models.CharField(max_length=16)
    rider = models.ForeignKey(Rider, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNASSIGNED)
    pickup_lat = models.FloatField()
    pickup_lng = models.FloatField()
    dropoff_lat = models.FloatField()
    dropoff_lng = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "delivery_task"
        indexes = [models.Index(fields=["city_code", "status"]), models.Index(fields=["rider", "status"])]


class DeliveryEvent(models.Model):
    task = models.ForeignKey(DeliveryTask, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "delivery_event"
        ordering = ["id"]
