"""Completed orders to review: placed through the real service, then moved to completed
(as the merchant or the rider would) at a chosen moment."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from linli.accounts.models import User
from linli.delivery.models import DeliveryTask
from linli.merchants.models import Product, Store
from linli.orders.models import Order
from linli.orders.services import AddressInput, LineInput, order_place
from tests.fixtures import delivery_address, make_rider, next_phone

_keys = itertools.count(1)


def consumer(*, joined: datetime | None = None, name: str = "张三") -> User:
    """A buyer; by default an account a year old (the new-account burst rule ignores it)."""
    phone = next_phone()
    user = User.objects.create_user(username=phone, phone=phone, display_name=name)
    User.objects.filter(pk=user.pk).update(date_joined=joined or timezone.now() - timedelta(days=365))
    user.refresh_from_db()
    return user


def order_done(store: Store, product: Product, buyer: User, *, fulfilment: str = "pickup",
               status: str = Order.Status.COMPLETED, completed_at: datetime | None = None,
               with_rider: bool = True) -> Order:
    address = AddressInput(**delivery_address()) if fulfilment == "delivery" else None
    order = order_place(consumer=buyer, store_id=store.public_id,
                        lines=[LineInput(product_id=product.public_id, quantity=1)],
                        fulfilment=fulfilment, address=address, idempotency_key=f"rev-{next(_keys)}").order
    Order.objects.filter(pk=order.pk).update(
        status=status, completed_at=(completed_at or timezone.now()) if status == Order.Status.COMPLETED else None)
    if fulfilment == "delivery" and with_rider:
        rider_user = make_rider(lat=store.lat, lng=store.lng)
        DeliveryTask.objects.create(order=order, city_code=store.city_code, rider=rider_user.rider_profile,
                                    status="delivered", pickup_lat=store.lat, pickup_lng=store.lng,
                                    dropoff_lat=31.2330, dropoff_lng=121.4760)
    order.refresh_from_db()
    return order


def png_upload(name: str = "dish.png", size: tuple[int, int] = (32, 24)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")
