"""Shared steps of the notification tests."""

from __future__ import annotations

from typing import Any

from django.db import connection

from linli.notifications.services import Delivery, notify


def sent(**kwargs: Any) -> Delivery:
    """notify() and run what it scheduled for after the commit (the test's transaction never
    commits), as a real request would."""
    start = len(connection.run_on_commit)
    delivery = notify(**kwargs)
    while len(connection.run_on_commit) > start:
        pending = connection.run_on_commit[start:]
        del connection.run_on_commit[start:]
        for _sids, func, _robust in pending:
            func()
    return delivery

