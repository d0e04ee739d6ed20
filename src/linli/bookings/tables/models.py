"""Table reservations and the walk-in queue of a restaurant (src/linli/bookings/tables/README.md).

`TableSetup` is the store's switchboard (takes reservations? a queue? seating duration,
slot grid, cancellation deadline) and also the row every reservation and queue number of
the store locks, so "the last table" and "the next number" are decided one at a time.
`store` is on every row (the distribution key).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.fields import PublicIdField
from linli.merchants.models import Store


class TableSetup(models.Model):
    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="table_setup")
    takes_reservations = models.BooleanField(default=False)
    takes_queue = models.BooleanField(default=False)
    auto_confirm = models.BooleanField(default=True)  # else each reservation waits for the store
    seating_minutes = models.PositiveSmallIntegerField(default=90)  # a table is held this long
    slot_minutes = models.PositiveSmallIntegerField(default=30)  # slots start on this grid
    cancel_deadline_minutes = models.PositiveSmallIntegerField(default=60)  # consumer cancels until start - this
    days_ahead = models.PositiveSmallIntegerField(default=14)  # how far ahead one may reserve
    skip_after_minutes = models.PositiveSmallIntegerField(default=10)  # a called number may be skipped after
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "bookings_tables_setup"


class TableType(models.Model):
    """小桌 / 四人桌 / 包间: how many seats, how many such tables."""

    public_id = PublicIdField(prefix="ttp")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="table_types")
    name = models.CharField(max_length=40)
    seats = models.PositiveSmallIntegerField()
    count = models.PositiveSmallIntegerField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "bookings_tables_type"
        ordering = ["seats", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(seats__gte=1, seats__lte=30), name="table_type_seats_1_30"),
            models.CheckConstraint(condition=Q(count__lte=200), name="table_type_count_max_200"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.seats})"


class Reservation(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for the store")
        CONFIRMED = "confirmed", _("Confirmed")
        CHECKED_IN = "checked_in", _("Seated")
        COMPLETED = "completed", _("Completed")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    public_id = PublicIdField(prefix="rsv")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="table_reservations")
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="table_reservations")
    table_type = models.ForeignKey(TableType, on_delete=models.PROTECT, related_name="reservations")
    table_no = models.PositiveSmallIntegerField()  # 1..table_type.count
    party_size = models.PositiveSmallIntegerField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()  # starts_at + the seating duration at the time of booking
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    note = models.CharField(max_length=200, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "bookings_tables_reservation"
        constraints = [
            models.UniqueConstraint(fields=["consumer", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="table_reservation_idempotency"),
        ]
        indexes = [
            models.Index(fields=["store", "starts_at"], name="table_rsv_store_start"),
            models.Index(fields=["consumer", "-starts_at"], name="table_rsv_consumer"),
        ]

    def __str__(self) -> str:
        return self.public_id


class ReservationEvent(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_role = models.CharField(max_length=16)  # consumer, merchant, system
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "bookings_tables_reservation_event"
        ordering = ["id"]


class QueueTicket(models.Model):
    """A walk-in's number (取号): per store, per local service day, per group (A/B/C)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        CALLED = "called", _("Table ready")  # "your table is ready"
        SEATED = "seated", _("Seated")
        SKIPPED = "skipped", _("Skipped")  # called and did not come
        CANCELLED = "cancelled", _("Cancelled")

    public_id = PublicIdField(prefix="qtk")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="queue_tickets")
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="queue_tickets")
    service_date = models.DateField()  # the store's local date
    group = models.CharField(max_length=1)  # A, B, C (assign.QUEUE_GROUPS)
    number = models.PositiveIntegerField()
    party_size = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    called_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "bookings_tables_queue_ticket"
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["store", "service_date", "group", "number"], name="queue_number_once"),
            models.UniqueConstraint(fields=["store", "consumer"], condition=Q(status__in=["waiting", "called"]),
                                    name="queue_one_active_ticket"),
        ]
        indexes = [models.Index(fields=["store", "service_date", "group", "status"], name="queue_board")]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        return f"{self.group}{self.number:03d}"


class QueueEvent(models.Model):
    ticket = models.ForeignKey(QueueTicket, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_role = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "bookings_tables_queue_event"
        ordering = ["id"]
