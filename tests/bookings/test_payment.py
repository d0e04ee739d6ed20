"""Deposits and prepayment: the booking's order is paid at the cashier like any order; paid ->
confirmed; unpaid -> cancelled and the time freed; cancellation refunds less the late fee; a
no-show keeps the prepayment when the store says so."""

from __future__ import annotations

import pytest

from linli.bookings.models import Booking
from linli.orders.models import Order
from linli.orders.services import orders_cancel_unpaid
from linli.payments.models import Payment
from tests.fixtures import token_api
from tests.payments.helpers import buyer_pays_at_sandbox

from .helpers import at, bookable, consumer, local_day, owner_of, salon, stylist

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = salon()
    service = bookable(store, price_fen=20000)
    tony = stylist(store)
    return store, service, tony


def _terms(store, **changes):
    answer = token_api(owner_of(store)).post(f"/merchant/stores/{store.public_id}/booking-settings", changes)
    assert answer.status_code == 200, answer.content


def _book(api, store, service, start, resource, key="k"):
    answer = api.post("/bookings", {"store_id": store.public_id, "service_id": service.product.public_id,
                                    "start": start.isoformat(), "resource_id": resource.public_id},
                      headers={"Idempotency-Key": key})
    assert answer.status_code == 201, answer.content
    return answer.json()


def _pay(api, order_id):
    answer = api.post(f"/orders/{order_id}/payments", {"provider": "sandbox"})
    assert answer.status_code in (200, 201), answer.content
    buyer_pays_at_sandbox(answer.json()["pay_url"])


def test_a_deposit_is_paid_through_an_order_and_payment_confirms_the_booking(shop):
    store, service, tony = shop
    _terms(store, payment="deposit", deposit_fen=5000)
    api = token_api(consumer())
    booking = _book(api, store, service, at(local_day(3), "10:00"), tony)
    assert (booking["status"], booking["prepay_fen"], booking["payment"]) == ("requested", 5000, "deposit")
    order = Order.objects.get(public_id=booking["order_id"])
    assert (order.fulfilment, order.total_fen, order.status) == ("booking", 5000, "pending_payment")
    # the unpaid request already holds the time
    other = token_api(consumer()).post("/bookings", {
        "store_id": store.public_id, "service_id": service.product.public_id,
        "start": at(local_day(3), "10:00").isoformat(), "resource_id": tony.public_id},
        headers={"Idempotency-Key": "x"})
    assert other.status_code == 409 and other.json()["code"] == "slot_taken"
    # the store cannot confirm what is not paid
    early = token_api(owner_of(store)).post(f"/merchant/bookings/{booking['id']}/confirm", {})
    assert early.status_code == 409
    _pay(api, booking["order_id"])
    after = api.get(f"/bookings/{booking['id']}").json()
    assert after["status"] == "confirmed"
    assert [e["action"] for e in after["events"]] == ["request", "confirm"]
    order.refresh_from_db()
    assert order.status == "completed"  # action `book`: nothing for the store to accept


def test_an_unpaid_booking_is_cancelled_with_its_order_and_frees_the_time(shop, django_capture_on_commit_callbacks):
    store, service, tony = shop
    _terms(store, payment="full")
    api = token_api(consumer())
    booking = _book(api, store, service, at(local_day(3), "10:00"), tony)
    assert booking["prepay_fen"] == 20000
    Order.objects.filter(public_id=booking["order_id"]).update(pay_deadline=at(local_day(-1), "10:00"))
    with django_capture_on_commit_callbacks(execute=True):  # the timer's commit announces the order's end
        assert orders_cancel_unpaid() == 1
    assert Booking.objects.get(public_id=booking["id"]).status == "cancelled"
    again = _book(token_api(consumer()), store, service, at(local_day(3), "10:00"), tony, key="again")
    assert again["status"] == "requested"


def test_consumer_cancelling_an_unpaid_booking_cancels_its_order(shop):
    store, service, tony = shop
    _terms(store, payment="deposit", deposit_fen=3000)
    api = token_api(consumer())
    booking = _book(api, store, service, at(local_day(3), "10:00"), tony)
    assert api.post(f"/bookings/{booking['id']}/cancel", {}).json()["status"] == "cancelled"
    assert Order.objects.get(public_id=booking["order_id"]).status == "cancelled"


def test_cancelling_refunds_the_prepayment_less_the_late_fee(shop):
    store, service, tony = shop
    _terms(store, payment="full", late_cancel_fee_fen=3000, cancel_deadline_minutes=48 * 60)
    api = token_api(consumer())
    early = _book(api, store, service, at(local_day(5), "10:00"), tony, key="early")
    late = _book(api, store, service, at(local_day(1), "10:00"), tony, key="late")
    _pay(api, early["order_id"])
    _pay(api, late["order_id"])
    done = api.post(f"/bookings/{early['id']}/cancel", {}).json()
    assert (done["status"], done["fee_fen"], done["refunded_fen"]) == ("cancelled", 0, 20000)
    done = api.post(f"/bookings/{late['id']}/cancel", {}).json()
    assert (done["status"], done["fee_fen"], done["refunded_fen"]) == ("cancelled", 3000, 17000)
    refunded = {p.order.public_id: p.refunded_fen for p in Payment.objects.select_related("order")}
    assert refunded == {early["order_id"]: 20000, late["order_id"]: 17000}


@pytest.mark.parametrize(("forfeit", "back"), [(True, 0), (False, 5000)])
def test_a_no_show_keeps_the_deposit_when_the_store_says_so(shop, forfeit, back):
    store, service, tony = shop
    _terms(store, payment="deposit", deposit_fen=5000, no_show_forfeit=forfeit)
    api = token_api(consumer())
    booking = _book(api, store, service, at(local_day(1), "10:00"), tony)
    _pay(api, booking["order_id"])
    Booking.objects.filter(public_id=booking["id"]).update(
        starts_at=at(local_day(-1), "10:00"), ends_at=at(local_day(-1), "11:00"),
        blocks_until=at(local_day(-1), "11:00"))
    done = token_api(owner_of(store)).post(f"/merchant/bookings/{booking['id']}/no_show", {}).json()
    assert (done["status"], done["refunded_fen"]) == ("no_show", back)
    assert Payment.objects.get(order__public_id=booking["order_id"]).refunded_fen == back


def test_a_deposit_mode_needs_a_deposit(shop):
    store, _service, _tony = shop
    answer = token_api(owner_of(store)).post(f"/merchant/stores/{store.public_id}/booking-settings",
                                             {"payment": "deposit"})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_booking_terms"
