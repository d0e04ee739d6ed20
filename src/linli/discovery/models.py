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


from .search_index import SearchDoc, SearchIndexState, SearchTerm  # noqa: E402,F401  (registers the search index tables)
