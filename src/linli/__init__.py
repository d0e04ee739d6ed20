"""Linli (邻里): an O2O local-commerce platform."""

__version__ = "0.1.0"

from .celery import app as celery_app  # noqa: E402  (Celery finds tasks through Django apps)

__all__ = ["celery_app"]
