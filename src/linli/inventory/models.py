"""One stock ledger per store: the current count, what open orders hold, and every
movement that made them (docs/inventory.md).

Two numbers are cached per product in `StockItem`, each the sum of one ledger column:
`quantity` (units a buyer can still take: the sum of `StockMovement.delta`) and `reserved`
(units held by placed, unpaid orders: the sum of `StockMovement.reserved_delta`). Units on
the shelf are their sum. Both change only through `inventory.services`, each time with a
ledger row in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.merchants.models import Product, Store


class StockItem(models.Model):
    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="stock")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="stock_items")
    quantity = models.IntegerField(default=0)  # available: sum(StockMovement.delta)
    reserved = models.IntegerField(default=0)  # held by unpaid orders: sum(reserved_delta)
    unlimited = models.BooleanField(default=False)  # made to order: never runs out
    # Made to order with a daily cap (e.g. 50 bowls a day): at the store's local midnight
    # the count goes back to this number (inventory.services.stock_daily_reset).
    daily_quantity = models.PositiveIntegerField(null=True, blank=True)
    daily_reset_on = models.DateField(null=True, blank=True)  # store-local day of the last reset
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "inventory_stock_item"
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="stock_not_negative"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="stock_reserved_not_negative"),
        ]
        indexes = [
            models.Index(fields=["daily_reset_on"], name="stock_daily_idx",
                         condition=models.Q(daily_quantity__isnull=False)),
        ]


class StockMovement(models.Model):
    """The ledger: append-only. `delta` moves the available count, `reserved_delta` the
    held count; units on the shelf move by their sum."""

    class Reason(models.TextChoices):
        ADJUST = "adjust", _("stocktake")  # set by the merchant or seeding
        RESTOCK = "restock", _("restock")  # a delivery of goods added to the count
        DAILY_RESET = "daily_reset", _("daily reset")  # made-to-order count back to its daily number
        ORDER = "order", _("reserved by an order")  # available -> held, at order placement
        SALE = "sale", _("sold")  # held -> gone, when the order is paid (or a direct sale)
        RELEASE = "release", _("released")  # held -> available: unpaid order cancelled or timed out
        CANCEL = "cancel", _("returned by a cancelled order")  # sold -> available: paid order cancelled

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_movements")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    delta = models.IntegerField()
    reserved_delta = models.IntegerField(default=0)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    reference = models.CharField(max_length=40, blank=True)  # e.g. the order's public id
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "inventory_stock_movement"
        indexes = [models.Index(fields=["product", "created_at"])]


class StockReservation(models.Model):
    """Units of one product held for one order (its `reference`, the order's public id)
    from placement until payment commits them or a cancellation or timeout releases them.
    Status moves once, by a conditional update: held -> committed -> returned, or
    held -> released."""

    class Status(models.TextChoices):
        HELD = "held", _("held")
        COMMITTED = "committed", _("sold")
        RELEASED = "released", _("released")
        RETURNED = "returned", _("returned")

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    reference = models.CharField(max_length=40)
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.HELD)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "inventory_stock_reservation"
        indexes = [models.Index(fields=["reference"], name="stock_resv_reference_idx")]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                              name="stock_reservation_positive")]
