"""Riders and delivery tasks. One task per delivery order, with its own event history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.fields import EncryptedTextField, PublicIdField
from linli.orders.models import Order

from .dispatch import VEHICLE_SPEED_MPS
from .states import DS


class Rider(models.Model):
    class Vehicle(models.TextChoices):
        BIKE = "bike", _("bicycle")
        EBIKE = "ebike", _("e-bike")
        SCOOTER = "scooter", _("motor scooter")
        CAR = "car", _("car")

    class Approval(models.TextChoices):
        APPLIED = "applied", _("applied")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        SUSPENDED = "suspended", _("suspended")

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
    vehicle = models.CharField(max_length=8, choices=Vehicle.choices, default=Vehicle.EBIKE)
    max_concurrent = models.PositiveSmallIntegerField(default=3)
    # Riders created by operators, the seed and fixtures are approved; the self-service
    # application (`onboarding.rider_apply`) starts at `applied`. Only approved riders go online.
    approval = models.CharField(max_length=10, choices=Approval.choices, default=Approval.APPROVED)
    # Shown masked in every answer (`onboarding.mask_id_number`); encrypted at rest.
    id_number = EncryptedTextField(blank=True)
    plate = models.CharField(max_length=16, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "delivery_rider"
        indexes = [models.Index(fields=["city_code", "is_online", "lat", "lng"], name="rider_online_geo")]

    def __str__(self) -> str:
        return self.name

    @property
    def speed_mps(self) -> float:
        return VEHICLE_SPEED_MPS.get(self.vehicle, VEHICLE_SPEED_MPS["ebike"])


class DeliveryTask(models.Model):
    class Status(models.TextChoices):
        UNASSIGNED = DS.UNASSIGNED
        ASSIGNED = DS.ASSIGNED
        ACCEPTED = DS.ACCEPTED  # the rider took the offer
        ARRIVED = DS.ARRIVED  # the rider is at the store
        PICKED_UP = DS.PICKED_UP
        DELIVERED = DS.DELIVERED
        CANCELLED = DS.CANCELLED
        FAILED = DS.FAILED  # could not be handed over; the goods are on the way back
        RETURNED = DS.RETURNED  # the goods are back at the store

    class FailReason(models.TextChoices):
        UNREACHABLE = "unreachable", _("Customer unreachable")
        WRONG_ADDRESS = "wrong_address", _("Wrong or incomplete address")
        REFUSED = "refused", _("Customer refused the order")
        DAMAGED = "damaged", _("Goods damaged on the way")
        OTHER = "other", _("Other")

    public_id = PublicIdField(prefix="dlv")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="delivery")
    city_code = models.CharField(max_length=16)
    rider = models.ForeignKey(Rider, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNASSIGNED)
    pickup_lat = models.FloatField()
    pickup_lng = models.FloatField()
    dropoff_lat = models.FloatField()
    dropoff_lng = models.FloatField()
    # Straight-line store -> drop-off distance; what the deadline and the rider's fee use.
    distance_m = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    fail_reason = models.CharField(max_length=16, choices=FailReason.choices, blank=True)
    fail_note = models.CharField(max_length=200, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    # When the food should be ready, and the time promised to the consumer (deadlines.py).
    pickup_deadline = models.DateTimeField(null=True, blank=True)
    deliver_deadline = models.DateTimeField(null=True, blank=True)
    # The consumer reads this code to the rider at the door; 5 wrong tries lock it.
    delivery_code = models.CharField(max_length=4, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    code_locked_at = models.DateTimeField(null=True, blank=True)
    # What the rider earned (fees.py), set when delivered.
    rider_fee_fen = models.PositiveIntegerField(null=True, blank=True)
    late_penalty_fen = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "delivery_task"
        indexes = [
            models.Index(fields=["city_code", "status"]),
            models.Index(fields=["rider", "status"]),
            models.Index(fields=["rider", "delivered_at"], name="delivery_rider_delivered"),
            # the city's recent deliveries (selectors.city_load: the promise at checkout)
            models.Index(fields=["city_code", "delivered_at"], name="delivery_city_delivered"),
        ]


class DeliveryEvent(models.Model):
    task = models.ForeignKey(DeliveryTask, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, blank=True)  # open, assign, arrive, ..., code_locked
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


class RiderEvent(models.Model):
    """Onboarding and review history: apply, approve, reject, suspend (actor and time)."""

    rider = models.ForeignKey(Rider, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "delivery_rider_event"
        ordering = ["id"]


class RiderLocation(models.Model):
    """A day of location reports. `flagged`: an implausible jump, kept but not trusted."""

    rider = models.ForeignKey(Rider, on_delete=models.CASCADE, related_name="locations")
    lat = models.FloatField()
    lng = models.FloatField()
    h3_cell = models.CharField(max_length=16)
    flagged = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "delivery_rider_location"
        indexes = [models.Index(fields=["rider", "recorded_at"], name="rider_location_time")]


class TaskRejection(models.Model):
    """A rider dropped this task (rejected it, or went silent): never offered to them again."""

    class Reason(models.TextChoices):
        REJECTED = "rejected", _("rejected by the rider")
        SILENT = "silent", _("rider went silent")
        UNANSWERED = "unanswered", _("offer not accepted in time")

    task = models.ForeignKey(DeliveryTask, on_delete=models.CASCADE, related_name="rejections")
    rider = models.ForeignKey(Rider, on_delete=models.CASCADE, related_name="rejections")
    kind = models.CharField(max_length=10, choices=Reason.choices)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "delivery_task_rejection"
        constraints = [models.UniqueConstraint(fields=["task", "rider"], name="rejection_once_per_rider")]
