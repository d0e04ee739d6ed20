"""Merchants, their stores, and each store's catalog.

`city_code` on stores (and everything hanging off a store) is the distribution key:
hot paths never join across cities, so the schema can be sharded by city later.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linli.core.fields import EncryptedTextField, PublicIdField, TimeStamped


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
    """A person working for a merchant. What each role may do: `merchants.roles`."""

    class Role(models.TextChoices):
        OWNER = "owner"
        MANAGER = "manager"
        CASHIER = "cashier"
        STAFF = "staff", "staff (legacy: cashier)"  # kept readable; new members get cashier

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

    # merchants.suspension: what the store was when its merchant was suspended (and so
    # closed), restored on reinstatement; empty otherwise
    status_before_suspension = models.CharField(max_length=8, blank=True, default="")

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
    rating_count = models.PositiveIntegerField(default=0)
    sales_30d = models.PositiveIntegerField(default=0)  # completed orders, last 30 days
    tags = models.JSONField(default=list, blank=True)  # ["老字号", "免费WiFi"]
    # Date-specific hours overriding the weekly ones: {"2026-10-01": [] (closed) | [[start, end], ...]}
    special_hours = models.JSONField(default=dict, blank=True)
    # Optional polygon [[lat, lng], ...]; when set it replaces the delivery radius.
    delivery_zone = models.JSONField(null=True, blank=True)
    # Fee by distance, ascending: [{"max_m": 1000, "fee_fen": 300}, ...]; empty = flat fee.
    delivery_fee_tiers = models.JSONField(default=list, blank=True)
    # Night surcharge (夜间配送费) on delivery orders placed within [night_start, night_end)
    # store-local; a window whose end is not after its start runs past midnight. 0 = none.
    night_surcharge_fen = models.PositiveIntegerField(default=0)
    night_start = models.CharField(max_length=5, default="22:00")  # "HH:MM"
    night_end = models.CharField(max_length=5, default="06:00")

    class Meta:
        db_table = "merchants_store"
        indexes = [
            models.Index(fields=["city_code", "lat", "lng"], name="store_city_latlng"),
            # "what changed since (updated_at, id)?": the nearby index and search refreshes
            models.Index(fields=["updated_at", "id"], name="store_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class StorePhoto(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="stores/%Y/%m/")
    sort = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "merchants_store_photo"
        ordering = ["sort", "id"]


class MenuCategory(models.Model):
    public_id = PublicIdField(prefix="mct")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="menu_categories")
    name = models.CharField(max_length=50)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "merchants_menu_category"
        ordering = ["sort", "id"]


class Product(TimeStamped):
    class Kind(models.TextChoices):
        GOODS = "goods"  # food and retail: stock, packaging, delivery
        SERVICE = "service"  # beauty, fitness, education: a duration, booked or redeemed in store

    public_id = PublicIdField(prefix="prd")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.GOODS)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="products")
    menu_category = models.ForeignKey(
        MenuCategory, on_delete=models.SET_NULL, null=True, related_name="products"
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    price_fen = models.PositiveIntegerField()
    packaging_fee_fen = models.PositiveIntegerField(default=0)  # per unit, on top of the store's per order
    is_available = models.BooleanField(default=True)  # listed at all
    is_sold_out = models.BooleanField(default=False)  # listed, "已售罄" for now
    image = models.ImageField(upload_to="products/%Y/%m/", blank=True)
    tags = models.JSONField(default=list, blank=True)  # ["招牌", "辣"]
    # Daily windows when it can be ordered, store-local: [["06:00", "10:30"]]; empty = always.
    availability = models.JSONField(default=list, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)  # services
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "merchants_product"
        ordering = ["sort", "id"]
        indexes = [models.Index(fields=["updated_at", "id"], name="product_updated_idx")]

    def __str__(self) -> str:
        return self.name


class ProductVariant(models.Model):
    """A 规格: one size or portion of a product, priced as a delta on the product price."""

    public_id = PublicIdField(prefix="var")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=50)
    price_delta_fen = models.IntegerField(default=0)
    is_available = models.BooleanField(default=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "merchants_product_variant"
        ordering = ["sort", "id"]


class OptionGroup(models.Model):
    """A 加料 / 口味 group: the consumer picks between min_choices and max_choices options."""

    public_id = PublicIdField(prefix="opg")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="option_groups")
    name = models.CharField(max_length=50)
    min_choices = models.PositiveSmallIntegerField(default=0)  # 0 = optional
    max_choices = models.PositiveSmallIntegerField(default=1)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "merchants_option_group"
        ordering = ["sort", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(min_choices__lte=models.F("max_choices")),
                                   name="option_group_min_le_max"),
        ]


class Option(models.Model):
    public_id = PublicIdField(prefix="opt")
    group = models.ForeignKey(OptionGroup, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=50)
    price_delta_fen = models.PositiveIntegerField(default=0)
    is_available = models.BooleanField(default=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "merchants_option"
        ordering = ["sort", "id"]


class MerchantApplication(TimeStamped):
    """A would-be merchant's application; approval creates the merchant and first store."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        SUBMITTED = "submitted"
        NEEDS_CHANGES = "needs_changes"
        APPROVED = "approved"
        REJECTED = "rejected"

    public_id = PublicIdField(prefix="apl")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="merchant_applications"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    legal_name = models.CharField(max_length=200, blank=True)
    licence_number = models.CharField(max_length=32, blank=True)  # 统一社会信用代码
    contact_name = models.CharField(max_length=50, blank=True)
    contact_phone = EncryptedTextField(blank=True)
    category = models.ForeignKey(StoreCategory, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    city_code = models.CharField(max_length=16, blank=True)
    store_name = models.CharField(max_length=100, blank=True)
    store_address = models.CharField(max_length=255, blank=True)
    store_lat = models.FloatField(null=True, blank=True)
    store_lng = models.FloatField(null=True, blank=True)
    store_phone = models.CharField(max_length=20, blank=True)
    # Settlement account. Shown masked in every answer; encrypted at rest (lengths are
    # checked by `onboarding`).
    bank_account_name = EncryptedTextField(blank=True)
    bank_name = models.CharField(max_length=100, blank=True)
    bank_account_number = EncryptedTextField(blank=True)
    decision_note = models.CharField(max_length=500, blank=True)  # reason for reject / changes
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="applications")
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "merchants_application"
        indexes = [models.Index(fields=["status", "submitted_at"])]


class ApplicationDocument(models.Model):
    class Kind(models.TextChoices):
        LICENCE = "licence"  # 营业执照
        PERMIT = "permit"  # 食品经营许可证 etc.
        ID_CARD = "id_card"
        STOREFRONT = "storefront"  # 门头照

    public_id = PublicIdField(prefix="doc")
    application = models.ForeignKey(MerchantApplication, on_delete=models.CASCADE,
                                    related_name="documents")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    file = models.FileField(upload_to="applications/%Y/%m/")
    content_type = models.CharField(max_length=50)
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "merchants_application_document"


class ApplicationEvent(models.Model):
    application = models.ForeignKey(MerchantApplication, on_delete=models.CASCADE,
                                    related_name="events")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_role = models.CharField(max_length=16)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "merchants_application_event"
        ordering = ["id"]


class MerchantStatusEvent(models.Model):
    """A suspension or reinstatement of a merchant by an operator: who, when, why."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="status_events")
    action = models.CharField(max_length=12)  # suspend, reinstate
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)
    reason = models.CharField(max_length=200)
    stores = models.JSONField(default=list)  # the stores closed or reopened (public ids)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "merchants_status_event"
        ordering = ["-created_at", "-id"]
