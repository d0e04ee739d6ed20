"""Scheduled orders (预订单) are priced when placed, like Meituan's: today's menu prices and
the fees of the placing moment (the night surcharge too) are fixed on the order; a price
change before the slot does not touch it (docs/orders.md, "Scheduled orders")."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from linli.accounts.models import User
from linli.merchants.models import Product
from linli.orders.models import Order
from linli.orders.services import AddressInput, LineInput, order_place
from tests.fixtures import delivery_address, make_product, make_store

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hh: int, mm: int) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=SHANGHAI)


@pytest.fixture
def night_store():
    store = make_store(delivery_fee_fen=500, packaging_fee_fen=0, night_surcharge_fen=400,
                       night_start="22:00", night_end="06:00")
    return store, make_product(store, price_fen=3000, stock=10)


def _place(store, product, *, now: datetime, slot: datetime, key: str) -> Order:
    consumer, _ = User.objects.get_or_create(username="sched-price", phone="+8613800138091")
    return order_place(consumer=consumer, store_id=store.public_id,
                       lines=[LineInput(product_id=product.public_id, quantity=1)],
                       fulfilment="delivery", address=AddressInput(**delivery_address()),
                       idempotency_key=key, now=now, scheduled_for=slot).order


def _kinds(order: Order) -> list[str]:
    return [line["kind"] for line in order.price_lines]


def test_a_night_slot_booked_in_the_afternoon_pays_no_night_surcharge(night_store):
    store, product = night_store
    order = _place(store, product, now=local(25, 15, 2), slot=local(25, 22, 30), key="a")
    assert "surcharge" not in _kinds(order)
    assert order.total_fen == 3000 + 500


def test_a_day_slot_booked_at_night_pays_the_surcharge_of_the_placing_moment(night_store):
    store, product = night_store
    order = _place(store, product, now=local(25, 23, 0), slot=local(26, 11, 0), key="b")
    assert "surcharge" in _kinds(order)
    assert order.total_fen == 3000 + 500 + 400


def test_a_price_change_before_the_slot_does_not_change_the_order(night_store):
    store, product = night_store
    order = _place(store, product, now=local(25, 15, 2), slot=local(26, 12, 0), key="c")
    Product.objects.filter(pk=product.pk).update(price_fen=3600)
    order.refresh_from_db()
    assert (order.items_fen, order.total_fen) == (3000, 3500)
    assert order.items.get().unit_price_fen == 3000
