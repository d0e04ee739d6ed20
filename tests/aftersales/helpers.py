"""Paid orders to complain about: placed and paid through the real API and the sandbox's
hosted page, then moved to delivered/completed (as the rider or consumer would) at a
chosen moment; stores with an owner who answers; an operator."""

from __future__ import annotations

import io
import itertools
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from linli.accounts.models import PlatformRole, User
from linli.merchants.models import Product, Store
from linli.orders.models import Order
from linli.payments.ledger import ledger_verify
from tests.fixtures import Api, make_product, make_staff, make_store, next_phone, token_api
from tests.payments.helpers import buyer_pays_at_sandbox, place

_keys = itertools.count(1)


def buyer() -> tuple[Api, User]:
    phone = next_phone()
    user = User.objects.create_user(username=phone, phone=phone, display_name="张三")
    return token_api(user), user


def operator() -> tuple[Api, User]:
    user = User.objects.create_user(username=f"ops-{next_phone()}", platform_role=PlatformRole.OPERATOR)
    return token_api(user), user


def shop(price_fen: int = 2000, *, second_price_fen: int = 1000) -> tuple[Store, Product, Product, Api]:
    """A store with two dishes and its manager's API client."""
    store = make_store()
    first = make_product(store, name="宫保鸡丁", price_fen=price_fen)
    second = make_product(store, name="米饭", price_fen=second_price_fen)
    return store, first, second, token_api(make_staff(store, role="manager"))


def paid_order(api: Api, store: Store, product: Product, *, quantity: int = 2, extra: Product | None = None,
               status: str = Order.Status.COMPLETED, finished_at: datetime | None = None) -> Order:
    """Placed (delivery), paid at the sandbox, then moved to `status` at `finished_at`."""
    body: dict[str, Any] = {}
    if extra is not None:
        from tests.fixtures import delivery_address

        answer = api.post("/orders", {
            "store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
            "items": [{"product_id": product.public_id, "quantity": quantity},
                      {"product_id": extra.public_id, "quantity": 1}]},
            headers={"Idempotency-Key": f"afs-{next(_keys)}"})
        assert answer.status_code == 201, answer.content
        body = answer.json()
    else:
        body = place(api, store, product, key=f"afs-{next(_keys)}", quantity=quantity)
    payment = api.post(f"/orders/{body['id']}/payments", {}).json()
    buyer_pays_at_sandbox(payment["pay_url"])
    order = Order.objects.get(public_id=body["id"])
    assert order.status == Order.Status.PAID
    when = finished_at or timezone.now()
    Order.objects.filter(pk=order.pk).update(
        status=status, delivered_at=when, completed_at=when if status == Order.Status.COMPLETED else None)
    order.refresh_from_db()
    return order


def png_upload(name: str = "spilled.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 80, 40)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def books_hold() -> None:
    assert ledger_verify() == []
