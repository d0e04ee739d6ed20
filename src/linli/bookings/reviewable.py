"""A finished appointment is reviewable like an order (reviews.services.SUBJECT_KINDS): by
its consumer, once, within the review window counted from when it was completed, at its
store; no delivery score, no rider. Registered from BookingsConfig.ready, so reviews never
imports bookings."""

from __future__ import annotations

from typing import Any

from linli.reviews import errors
from linli.reviews.services import Subject

from .models import Booking


def booking_subject(*, user: Any, key: str) -> Subject:
    booking = (Booking.objects.select_related("store").filter(public_id=key, consumer=user).first()
               if "\x00" not in key else None)
    if booking is None:
        raise errors.ReviewSubjectNotFound(booking_id=key)
    if booking.status != Booking.Status.COMPLETED:
        raise errors.SubjectNotFinished(booking_id=key, status=booking.status)
    return Subject(kind="booking", key=booking.public_id, store=booking.store, buyer_id=booking.consumer_id,
                   finished_at=booking.updated_at, delivered=False, rider_id=None)
