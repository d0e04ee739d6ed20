"""Reminders the day before and one hour before: each sent once, through notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.bookings import services
from linli.bookings.models import Booking, BookingReminder
from linli.bookings.tasks import booking_reminders
from linli.notifications.models import Message

from .helpers import bookable, consumer, salon, stylist

pytestmark = pytest.mark.django_db


def _booked(store, service, resource, start, status=Booking.Status.CONFIRMED):
    return Booking.objects.create(
        store=store, city_code=store.city_code, consumer=consumer(), service=service, resource=resource,
        starts_at=start, ends_at=start + timedelta(hours=1), blocks_until=start + timedelta(hours=1),
        status=status, price_fen=100, idempotency_key=str(start), request_hash="x")


def test_day_and_hour_reminders_go_once_each():
    store = salon()
    service = bookable(store)
    tony = stylist(store)
    now = timezone.now()
    tomorrow = _booked(store, service, tony, now + timedelta(hours=20))
    soon = _booked(store, service, tony, now + timedelta(minutes=40))
    far = _booked(store, service, tony, now + timedelta(days=3))
    cancelled = _booked(store, service, tony, now + timedelta(hours=5), status=Booking.Status.CANCELLED)
    assert services.reminders_send(now=now) == {"day": 1, "hour": 1}
    assert services.reminders_send(now=now) == {"day": 0, "hour": 0}  # running again sends nothing
    assert Message.objects.filter(user=tomorrow.consumer, kind="booking_reminder").count() == 1
    assert Message.objects.filter(user=soon.consumer, kind="booking_reminder").count() == 1
    assert not Message.objects.filter(user__in=[far.consumer, cancelled.consumer]).exists()
    # 19 hours later the first one is an hour away: its hour reminder goes too
    later = now + timedelta(hours=19, minutes=30)
    assert services.reminders_send(now=later)["hour"] == 1
    kinds = set(BookingReminder.objects.filter(booking=tomorrow).values_list("kind", flat=True))
    assert kinds == {"day", "hour"}


def test_the_beat_task_runs_the_sweep():
    assert booking_reminders() == {"day": 0, "hour": 0}
