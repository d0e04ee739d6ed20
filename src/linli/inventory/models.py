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

from linli.core.fields import PublicIdField
from linli.merchants.models import Merchant, Product, Store


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
        TRANSFER_OUT = "transfer_out", _("sent to another store")  # left the source when shipped
        TRANSFER_IN = "transfer_in", _("received from another store")  # what was shipped, at the destination
        TRANSFER_LOSS = "transfer_loss", _("lost in transit")  # shipped but not received (negative)

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


# --- transfers between the stores of one merchant (inventory.transfers) -------------------

class StockTransfer(models.Model):
    """Units sent from one store of a merchant to another. State table and ledger rows:
    `inventory.transfers`; every step is a `StockTransferEvent` (who, when)."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("requested")
        SHIPPED = "shipped", _("in transit")
        RECEIVED = "received", _("received")
        CANCELLED = "cancelled", _("cancelled")

    public_id = PublicIdField(prefix="trf")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    from_store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    to_store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=12, choices=State.choices, default=State.REQUESTED)
    note = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=80, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "inventory_stock_transfer"
        indexes = [models.Index(fields=["merchant", "state", "created_at"], name="stock_transfer_state_idx")]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_key"], name="stock_transfer_idem",
                                    condition=~models.Q(idempotency_key="")),
            models.CheckConstraint(condition=~models.Q(from_store=models.F("to_store")),
                                   name="stock_transfer_two_stores"),
        ]


class StockTransferLine(models.Model):
    """One product of a transfer: `from_product` at the source, `to_product` (the same
    goods, the destination's own product row) at the destination."""

    transfer = models.ForeignKey(StockTransfer, on_delete=models.CASCADE, related_name="lines")
    from_product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    to_product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()  # requested and shipped
    received_quantity = models.PositiveIntegerField(null=True, blank=True)
    loss_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "inventory_stock_transfer_line"
        constraints = [
            models.UniqueConstraint(fields=["transfer", "from_product"], name="stock_transfer_line_uniq"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="stock_transfer_line_positive"),
        ]


class StockTransferEvent(models.Model):
    transfer = models.ForeignKey(StockTransfer, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=12)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "inventory_stock_transfer_event"
        ordering = ["id"]


# --- a chain's shared product identity (inventory.routing) ---------------------------------

class ChainSku(models.Model):
    """The goods a product stands for across a chain: products are rows per store, so the
    same item at two stores shares a merchant-chosen `sku`. `store` is the product's store,
    kept here so that one store has at most one product per sku."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    sku = models.CharField(max_length=40)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="chain_sku")

    class Meta:
        db_table = "inventory_chain_sku"
        constraints = [models.UniqueConstraint(fields=["merchant", "sku", "store"], name="chain_sku_uniq")]


# --- low-stock alerts (inventory.alerts) ----------------------------------------------------

class StockAlertRule(models.Model):
    """Alert the merchant when the available count of a product falls below `threshold`."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="stock_alert_rule")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    threshold = models.PositiveIntegerField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "inventory_stock_alert_rule"


class StockAlert(models.Model):
    """Available fell below the threshold (`opened_at`); `resolved_at` once it is back at or
    above it. At most one open alert per product (a partial unique constraint), so a second
    crossing is not alerted until the first is resolved by a restock."""

    public_id = PublicIdField(prefix="sal")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    threshold = models.PositiveIntegerField()
    available = models.IntegerField()  # the count that crossed below
    opened_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_available = models.IntegerField(null=True, blank=True)
    # Seen by a manager (the console's alerts page); the alert stays open until restocked.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "inventory_stock_alert"
        indexes = [models.Index(fields=["store", "opened_at"], name="stock_alert_store_idx")]
        constraints = [models.UniqueConstraint(fields=["product"], condition=models.Q(resolved_at__isnull=True),
                                               name="stock_alert_one_open")]
