"""Source rows for the aggregation tests, written directly (the job reads them read-only;
the order and POS flows themselves are tested in their own apps)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from linli.accounts.models import User
from linli.merchants.models import Product, Store
from linli.orders.models import Order, OrderItem

CHINA = ZoneInfo("Asia/Shanghai")
_keys = itertools.count(1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of a China calendar day."""
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA)


def consumer() -> User:
    return User.objects.create_user(username=f"c-{next(_keys)}")


def order(store: Store, buyer: User, *, paid: datetime | None, lines: list[tuple[Product, int]],
          status: str = "completed", created: datetime | None = None, **fields: Any) -> Order:
    items_fen = sum(p.price_fen * q for p, q in lines)
    created = created or paid or timezone.now()
    made = Order.objects.create(consumer=buyer, store=store, city_code=store.city_code, status=status,
                                fulfilment="pickup", items_fen=items_fen, total_fen=items_fen,
                                idempotency_key=f"k{next(_keys)}", request_hash="h", paid_at=paid,
                                pay_deadline=created + timedelta(minutes=15), **fields)
    Order.objects.filter(pk=made.pk).update(created_at=created)
    for product, quantity in lines:
        OrderItem.objects.create(order=made, product=product, name=product.name, unit_price_fen=product.price_fen,
                                 quantity=quantity, amount_fen=product.price_fen * quantity)
    return made
