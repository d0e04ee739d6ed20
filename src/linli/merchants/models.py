"""Merchants, their stores, and each store's catalog.

`city_code` on stores (and everything hanging off a store) is the distribution key:
hot paths never join across cities, so the schema can be sharded by city later.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linli.core.fields import PublicIdField, TimeStamped


class StoreCategory(models.Model):
    slug = models.SlugField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=32)
    name_en = models.CharField(max_length=64)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "merchants_store_category"
        ordering = ["sort", "slug"]
        verbose_name_plural = "store categories"

    def __str__(self) -> str:
        return self.name_zh


class Merchant(TimeStamped):
    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"

    public_id = PublicIdField(prefix="mch")
    name = models.CharField(max_length=100)
    legal_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        db_table = "merchants_merchant"

    def __str__(self) -> str:
        return self.name


class MerchantMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner"
        STAFF = "staff"

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "merchants_member"
        constraints = [models.UniqueConstraint(fields=["merchant", "user"], name="uniq_member")]


class Store(TimeStamped):
    class Status(models.TextChoices):
        OPEN = "open"  # listed and taking orders within its hours
        PAUSED = "paused"  # busy: listed, not taking orders
        CLOSED = "closed"  # delisted

    public_id = PublicIdField(prefix="sto")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="stores")
    city_code = models.CharField(max_length=16, db_index=True)
    name = models.CharField(max_length=100)
    category = models.ForeignKey(StoreCategory, on_delete=models.PROTECT, related_name="stores")
    address = models.CharField(max_length=255)
    phone = models.CharField(max_length=20, blank=True)
    lat = models.FloatField()
    lng = models.FloatField()
    h3_cell = models.CharField(max_length=16, db_index=True)  # resolution 9
    timezone = models.CharField(max_length=40, default="Asia/Shanghai")
    opening_hours = models.JSONField(default=list)  # see merchants.hours
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    delivery_radius_m = models.PositiveIntegerField(default=3000)
    min_order_fen = models.PositiveIntegerField(default=0)
    delivery_fee_fen = models.PositiveIntegerField(default=0)
    packaging_fee_fen = models.PositiveIntegerField(default=0)
    prep_minutes = models.PositiveSmallIntegerField(default=15)
    avg_price_fen = models.PositiveIntegerField(default=0)
    rating = models.DecimalField(max_digits=2, decimal_places=1, default=0)

    class Meta:
        db_table = "merchants_store"
        indexes = [models.Index(fields=["city_code", "lat", "lng"], name="store_city_latlng")]

    def __str__(self) -> str:
        return self.name


class MenuCategory(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="menu_categories")
    name = models.CharField(max_length=50)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "merchants_menu_category"
        ordering = ["sort", "id"]


class Product(TimeStamped):
    public_id = PublicIdField(prefix="prd")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="products")
    menu_category = models.ForeignKey(
        MenuCategory, on_delete=models.SET_NULL, null=True, related_name="products"
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    price_fen = models.PositiveIntegerField()
    is_available = models.BooleanField(default=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "merchants_product"
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name
