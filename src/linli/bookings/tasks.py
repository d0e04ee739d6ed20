"""Periodic jobs of service appointments."""

from __future__ import annotations

from linli.celery import app


@app.task
def booking_reminders() -> dict[str, int]:
    """Remind consumers of confirmed bookings the day before and one hour before (each once)."""
    from .services import reminders_send

    return reminders_send()
