"""Linli (邻里): an O2O local-commerce platform."""

__version__ = "0.1.0"

from .core.memory import malloc_tune  # noqa: E402

malloc_tune()  # before anything allocates: large freed blocks go back to the system

# Celery's app is not imported here (its usual place): web workers would all load Celery.
# `celery -A linli` finds linli/celery.py; the task modules and the outbox import it.
