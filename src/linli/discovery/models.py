"""Operator-managed home feed content, per city."""

from __future__ import annotations

from django.db import models

from linli.core.fields import PublicIdField
from linli.merchants.models import Store


class Banner(models.Model):
    public_id = PublicIdField(prefix="bnr")
    city_code = models.CharField(max_length=16)
    title = models.CharField(max_length=100)
    image = models.ImageField(upload_to="banners/%Y/%m/", blank=True)
    link = models.CharField(max_length=255, blank=True)  # a path in the app or https URL
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    sort = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "discovery_banner"
        indexes = [models.Index(fields=["city_code", "is_active", "starts_at"])]
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.title


class HotStore(models.Model):
    """A store the operator features on the city's home feed (热门商家)."""

    city_code = models.CharField(max_length=16)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    sort = models.PositiveSmallIntegerField(default=0)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        db_table = "discovery_hot_store"
        ordering = ["sort", "id"]




# --- recommendations (issue 13): discovery/recommendations.py trains these nightly ----------

class StoreRecommendation(models.Model):
    """A user's precomputed "guess you like" candidates: the item-item model's score for a
    store, before the cheap online blend (distance, open now, hour, diversity)."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    rank = models.PositiveSmallIntegerField()

    class Meta:
        db_table = "discovery_store_recommendation"
        constraints = [models.UniqueConstraint(fields=["user", "store"], name="reco_user_store")]
        indexes = [models.Index(fields=["user", "rank"], name="reco_user_rank")]


class StoreAlsoBought(models.Model):
    """"People who ordered here also ordered at": a store's nearest neighbours in the model."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    rank = models.PositiveSmallIntegerField()

    class Meta:
        db_table = "discovery_store_also_bought"
        constraints = [models.UniqueConstraint(fields=["store", "other"], name="also_bought_pair")]
        indexes = [models.Index(fields=["store", "rank"], name="also_bought_rank")]


class StoreOrderHours(models.Model):
    """The share of a store's orders in each local hour (24 floats summing to 1), for the
    time-of-day part of the blend: breakfast at 8, skewers at 22."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="+", primary_key=True)
    shares = models.JSONField(default=list)

    class Meta:
        db_table = "discovery_store_order_hours"


class RecommenderRun(models.Model):
    """One training run: what it read, what it wrote, how long it took."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    orders = models.PositiveIntegerField(default=0)
    users = models.PositiveIntegerField(default=0)
    stores = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    took_ms = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "discovery_recommender_run"
        ordering = ["-started_at"]


from .search_index import SearchDoc, SearchIndexState, SearchTerm  # noqa: E402,F401  (registers the search index tables)
