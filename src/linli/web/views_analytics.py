"""Pages of analytics: the merchant console's numbers and charts."""

from __future__ import annotations

from django.urls import path  # noqa: F401

urlpatterns: list = []
