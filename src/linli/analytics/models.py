"""Behaviour events (written in batches from the buffer) and the pre-aggregated daily
tables every report reads. Store, user and category are plain integer keys, not foreign
keys: analytics is a sink that must never lock or block the tables it counts, and a row
outlives what it counted. Days are the platform city's calendar days (Asia/Shanghai)."""

from __future__ import annotations

from django.db import models


class Event(models.Model):
    class Kind(models.TextChoices):
        IMPRESSION = "impression"
        STORE_VIEW = "store_view"
        SEARCH = "search"
        ADD_TO_CART = "add_to_cart"
        CHECKOUT_START = "checkout_start"
        ORDER = "order"
        PAYMENT = "payment"
        REVIEW = "review"

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    user_id = models.BigIntegerField(null=True, blank=True)
    store_id = models.BigIntegerField(null=True, blank=True)
    city_code = models.CharField(max_length=16, blank=True)
    channel = models.CharField(max_length=8, blank=True)  # h5, api, pos
    device = models.CharField(max_length=8, blank=True)  # phone, tablet, desktop, app, other
    props = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "analytics_event"
        indexes = [models.Index(fields=["occurred_at"], name="analytics_event_time"),
                   models.Index(fields=["store_id", "occurred_at"], name="analytics_event_store")]


class StoreDay(models.Model):
    """One store's day: sales (online orders and POS sales apart), customers, the funnel,
    orders per hour, reviews, delivery and complaints."""

    day = models.DateField()
    store_id = models.BigIntegerField()
    merchant_id = models.BigIntegerField()
    city_code = models.CharField(max_length=16)
    district = models.CharField(max_length=16)  # H3 resolution-6 cell of the store (docs/analytics.md)
    category_id = models.BigIntegerField()
    online_orders = models.PositiveIntegerField(default=0)  # paid that day, not cancelled or refunded since
    online_sales_fen = models.BigIntegerField(default=0)
    pos_orders = models.PositiveIntegerField(default=0)
    pos_sales_fen = models.BigIntegerField(default=0)
    placed_orders = models.PositiveIntegerField(default=0)  # created that day, whatever became of them
    new_buyers = models.PositiveIntegerField(default=0)  # first paid order at this store
    returning_buyers = models.PositiveIntegerField(default=0)
    views = models.PositiveIntegerField(default=0)  # store_view events
    carts = models.PositiveIntegerField(default=0)  # add_to_cart events
    checkouts = models.PositiveIntegerField(default=0)  # checkout_start events
    hours = models.JSONField(default=list)  # 24 counts of paid orders (online and POS) by local hour
    reviews = models.PositiveIntegerField(default=0)
    stars_sum = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    delivered_on_time = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)  # after-sales requests and tickets about the store
    commission_fen = models.BigIntegerField(default=0)
    subsidy_fen = models.BigIntegerField(default=0)
    refunds_fen = models.BigIntegerField(default=0)

    class Meta:
        db_table = "analytics_store_day"
        constraints = [models.UniqueConstraint(fields=["store_id", "day"], name="analytics_store_day_uniq")]
        indexes = [models.Index(fields=["district", "category_id", "day"],
                                name="analytics_store_day_peer")]


class StoreItemDay(models.Model):
    """Units and sales of one product at one store on one day (online and POS together)."""

    day = models.DateField()
    store_id = models.BigIntegerField()
    product_id = models.BigIntegerField()
    name = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField(default=0)
    sales_fen = models.BigIntegerField(default=0)

    class Meta:
        db_table = "analytics_store_item_day"
        constraints = [models.UniqueConstraint(fields=["store_id", "day", "product_id"],
                                               name="analytics_item_day_uniq")]


class PlatformDay(models.Model):
    """The platform's day by city, store category and channel (online or pos)."""

    day = models.DateField()
    city_code = models.CharField(max_length=16)
    category_id = models.BigIntegerField()
    channel = models.CharField(max_length=8)  # online, pos
    orders = models.PositiveIntegerField(default=0)
    gmv_fen = models.BigIntegerField(default=0)
    placed_orders = models.PositiveIntegerField(default=0)
    views = models.PositiveIntegerField(default=0)
    carts = models.PositiveIntegerField(default=0)
    checkouts = models.PositiveIntegerField(default=0)
    new_merchants = models.PositiveIntegerField(default=0)  # merchants whose first store opened that day
    commission_fen = models.BigIntegerField(default=0)
    subsidy_fen = models.BigIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    delivered_on_time = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "analytics_platform_day"
        constraints = [models.UniqueConstraint(fields=["day", "city_code", "category_id", "channel"],
                                               name="analytics_platform_day_uniq")]


class ActiveDay(models.Model):
    """Active users of a city ("" = every city) on a day, and in the 30 days up to it."""

    day = models.DateField()
    city_code = models.CharField(max_length=16, blank=True)
    dau = models.PositiveIntegerField(default=0)
    mau = models.PositiveIntegerField(default=0)  # distinct active users in the 30 days ending that day

    class Meta:
        db_table = "analytics_active_day"
        constraints = [models.UniqueConstraint(fields=["day", "city_code"], name="analytics_active_day_uniq")]


class CustomerFirst(models.Model):
    """The day of each customer's first paid online order (the cohort key)."""

    user_id = models.BigIntegerField(primary_key=True)
    first_day = models.DateField(db_index=True)

    class Meta:
        db_table = "analytics_customer_first"


class CohortWeek(models.Model):
    """Of the customers whose first order fell in `cohort` (a Monday), how many ordered in
    the week `offset` weeks later."""

    cohort = models.DateField()
    week = models.DateField()  # the Monday of the week counted
    offset = models.PositiveSmallIntegerField()  # (week - cohort) in weeks
    customers = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "analytics_cohort_week"
        constraints = [models.UniqueConstraint(fields=["cohort", "week"], name="analytics_cohort_uniq")]
