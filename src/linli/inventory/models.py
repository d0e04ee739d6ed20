"""One stock ledger per store: the current count and every movement that made it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linli.merchants.models import Product, Store


class StockItem(models.Model):
    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="stock")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="stock_items")
    quantity = models.IntegerField(default=0)
    unlimited = models.BooleanField(default=False)  # made to order: never runs out
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "inventory_stock_item"
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="stock_not_negative")
        ]


class StockMovement(models.Model):
    class Reason(models.TextChoices):
        ADJUST = "adjust"  # set by the merchant or seeding
        ORDER = "order"  # taken by an order
        RELEASE = "release"  # given back by a cancelled order

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_movements")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    delta = models.IntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    reference = models.CharField(max_length=40, blank=True)  # e.g. the order's public id
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "inventory_stock_movement"
        indexes = [models.Index(fields=["product", "created_at"])]
