"""Service appointments (docs/bookings.md): what a store lets people book, who or what does
the work, and the bookings with their history.

A bookable service is a catalog product of kind `service` (merchants' `Product`: name,
price, `duration_minutes`) plus its booking terms here (`BookableService`: buffer, seats,
the skill it needs). Time is aware UTC; working hours are read in the store's time zone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.fields import PublicIdField, TimeStamped
from linli.merchants.models import Product, Store


class BookingSettings(models.Model):
    """A store's booking rules. A store without a row uses the defaults below."""

    class Payment(models.TextChoices):
        NONE = "none"  # pay at the store
        DEPOSIT = "deposit"
        FULL = "full"

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="booking_settings")
    payment = models.CharField(max_length=8, choices=Payment.choices, default=Payment.NONE)
    deposit_fen = models.PositiveIntegerField(default=0)
    auto_confirm = models.BooleanField(default=True)  # False: the store confirms each request
    step_minutes = models.PositiveSmallIntegerField(default=15)  # slot grid
    lead_minutes = models.PositiveIntegerField(default=30)  # earliest booking: now + lead
    horizon_days = models.PositiveSmallIntegerField(default=30)  # latest: today + horizon
    cancel_deadline_minutes = models.PositiveIntegerField(default=120)  # free cancel until start - this
    late_cancel_fee_fen = models.PositiveIntegerField(default=0)  # after the deadline
    reschedule_deadline_minutes = models.PositiveIntegerField(default=120)
    no_show_forfeit = models.BooleanField(default=True)  # a no-show keeps the deposit
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "bookings_settings"


class BookableService(TimeStamped):
    """Booking terms of one catalog service."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="booking")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="bookable_services")
    buffer_minutes = models.PositiveSmallIntegerField(default=0)
    seats = models.PositiveSmallIntegerField(default=1)  # > 1: a class
    skill = models.CharField(max_length=32, blank=True)  # "" = any resource of the store
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "bookings_service"


class Resource(TimeStamped):
    """A staff member, a room or a machine: what a booking occupies. The row is also the
    lock taken while booking it (select_for_update), so two bookings of one resource are
    decided one after the other."""

    class Kind(models.TextChoices):
        STAFF = "staff"
        ROOM = "room"
        MACHINE = "machine"

    public_id = PublicIdField(prefix="res")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="booking_resources")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.STAFF)
    name = models.CharField(max_length=50)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="booking_resources")
    skills = models.JSONField(default=list, blank=True)  # ["cut", "colour"]
    # Weekly periods as merchants.hours (7 lists, Monday first); [] = the store's hours.
    working_hours = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "bookings_resource"
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name


class TimeOff(models.Model):
    """A resource away (leave, repair): busy for bookings."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=100, blank=True)

    class Meta:
        db_table = "bookings_time_off"
        indexes = [models.Index(fields=["resource", "starts_at"], name="bk_timeoff_res_start")]


class Booking(TimeStamped):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        CONFIRMED = "confirmed", _("Confirmed")
        CHECKED_IN = "checked_in", _("Checked in")
        COMPLETED = "completed", _("Completed")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    # Statuses that hold the resource's time.
    HOLDING = (Status.REQUESTED, Status.CONFIRMED, Status.CHECKED_IN)

    public_id = PublicIdField(prefix="bkg")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="bookings")
    city_code = models.CharField(max_length=16)
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    service = models.ForeignKey(BookableService, on_delete=models.PROTECT, related_name="bookings")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()  # starts_at + duration
    blocks_until = models.DateTimeField()  # ends_at + buffer: the resource's time
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    price_fen = models.PositiveIntegerField()
    payment = models.CharField(max_length=8, choices=BookingSettings.Payment.choices,
                               default=BookingSettings.Payment.NONE)
    fee_fen = models.PositiveIntegerField(default=0)  # late-cancel fee owed or kept
    prepay_fen = models.PositiveIntegerField(default=0)  # deposit or full price, paid through `order`
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="booking")
    refunded_fen = models.PositiveIntegerField(default=0)  # of prepay_fen, given back
    note = models.CharField(max_length=200, blank=True)
    reschedule_count = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)

    class Meta:
        db_table = "bookings_booking"
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["consumer", "idempotency_key"], name="bk_booking_idem"),
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="bk_booking_ends_after_start"),
        ]
        indexes = [
            models.Index(fields=["resource", "starts_at"], name="bk_booking_res_start"),
            models.Index(fields=["store", "starts_at"], name="bk_booking_store_start"),
            models.Index(fields=["consumer", "starts_at"], name="bk_booking_consumer"),
            models.Index(fields=["status", "starts_at"], name="bk_booking_status_start"),
        ]


class BookingEvent(models.Model):
    """One row per transition (and per reschedule): who, when, from and to."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    actor_role = models.CharField(max_length=12)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "bookings_event"
        ordering = ["id"]


class BookingReminder(models.Model):
    """A reminder sent: the unique pair makes each reminder go out once."""

    class Kind(models.TextChoices):
        DAY = "day"  # the day before
        HOUR = "hour"  # one hour before

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        db_table = "bookings_reminder"
        constraints = [models.UniqueConstraint(fields=["booking", "kind"], name="bk_reminder_once")]
