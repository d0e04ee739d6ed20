"""Orders, their lines, and the event history of every status change."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linli.core.fields import PublicIdField
from linli.merchants.models import Product, Store

from .states import S


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = S.PENDING_PAYMENT
        PAID = S.PAID
        ACCEPTED = S.ACCEPTED
        PREPARING = S.PREPARING
        READY = S.READY
        DELIVERING = S.DELIVERING
        DELIVERED = S.DELIVERED
        COMPLETED = S.COMPLETED
        CANCELLED = S.CANCELLED

    class Fulfilment(models.TextChoices):
        DELIVERY = "delivery"
        PICKUP = "pickup"

    public_id = PublicIdField(prefix="ord")
    consumer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="orders")
    city_code = models.CharField(max_length=16)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    fulfilment = models.CharField(max_length=16, choices=Fulfilment.choices)
    items_fen = models.PositiveIntegerField()
    packaging_fee_fen = models.PositiveIntegerField(default=0)
    delivery_fee_fen = models.PositiveIntegerField(default=0)
    total_fen = models.PositiveIntegerField()
    price_lines = models.JSONField(default=list)  # the breakdown exactly as priced
    # Snapshot of where to deliver: {"text", "lat", "lng", "contact_name", "contact_phone"}.
    address = models.JSONField(null=True, blank=True)
    distance_m = models.PositiveIntegerField(null=True, blank=True)
    pickup_code = models.CharField(max_length=8, blank=True)
    note = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    pay_deadline = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orders_order"
        constraints = [
            models.UniqueConstraint(fields=["consumer", "idempotency_key"], name="order_idem_key"),
        ]
        indexes = [
            models.Index(fields=["store", "status", "created_at"], name="order_store_queue"),
            models.Index(fields=["consumer", "created_at"], name="order_consumer_list"),
            models.Index(fields=["status", "pay_deadline"], name="order_unpaid_timeout"),
        ]

    def __str__(self) -> str:
        return self.public_id


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)  # as it was when ordered
    unit_price_fen = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    amount_fen = models.PositiveIntegerField()
    # What was chosen, as it was when ordered (names and prices may change later):
    # variant {"ref", "name", "delta_fen", "group": ""}; options [{"ref", "name", "delta_fen", "group"}].
    # unit_price_fen above already includes their deltas.
    variant = models.JSONField(null=True, blank=True)
    options = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "orders_order_item"

    @property
    def choices_label(self) -> str:
        """"大份 / 加蛋, 少辣": the variant, then the options, for receipts and the queue."""
        parts = [self.variant["name"]] if self.variant else []
        if self.options:
            parts.append(", ".join(option["name"] for option in self.options))
        return " / ".join(parts)


class OrderEvent(models.Model):
    """One row per status change: who did what, when, from which state to which."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=16)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "orders_order_event"
        ordering = ["id"]
