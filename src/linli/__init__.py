"""Linli (邻里): an O2O local-commerce platform."""

__version__ = "0.1.0"

from .core.memory import malloc_tune  # noqa: E402

malloc_tune()  # before anything allocates: large freed blocks go back to the system

from .celery import app as celery_app  # noqa: E402  (Celery finds tasks through Django apps)

__all__ = ["celery_app"]
