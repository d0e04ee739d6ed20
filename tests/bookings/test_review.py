"""A completed appointment is reviewed like an order (reviews' `booking` subject kind)."""

from __future__ import annotations

import pytest

from linli.bookings.models import Booking
from tests.fixtures import token_api

from .helpers import at, bookable, consumer, local_day, salon, stylist

pytestmark = pytest.mark.django_db


def test_only_the_consumer_of_a_completed_appointment_reviews_it_once():
    store = salon()
    service = bookable(store)
    stylist(store, "Tony")
    buyer = token_api(consumer())
    body = {"store_id": store.public_id, "service_id": service.product.public_id,
            "start": at(local_day(2), "10:00").isoformat()}
    booking = buyer.post("/bookings", body, headers={"Idempotency-Key": "rv-1"}).json()
    early = buyer.post(f"/bookings/{booking['id']}/review", {"stars": 5})
    assert early.status_code == 409 and early.json()["code"] == "review_subject_not_finished"
    Booking.objects.filter(public_id=booking["id"]).update(status=Booking.Status.COMPLETED)

    stranger = token_api(consumer()).post(f"/bookings/{booking['id']}/review", {"stars": 5})
    assert stranger.status_code == 404 and stranger.json()["code"] == "review_subject_not_found"
    no_delivery = buyer.post(f"/bookings/{booking['id']}/review", {"stars": 5, "delivery": 4})
    assert no_delivery.status_code == 422 and no_delivery.json()["code"] == "dimension_not_applicable"
    done = buyer.post(f"/bookings/{booking['id']}/review", {"stars": 4, "text": "Tony 剪得很好"})
    assert done.status_code == 201, done.content
    assert (done.json()["subject"], done.json()["subject_id"], done.json()["store_id"]) == \
        ("booking", booking["id"], store.public_id)
    again = buyer.post(f"/bookings/{booking['id']}/review", {"stars": 1})
    assert again.status_code == 409 and again.json()["code"] == "already_reviewed"
