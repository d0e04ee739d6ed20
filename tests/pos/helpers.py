"""Shared steps of the counter tests: a store with a counter, staff by role, members with
a wallet, member codes read the way the member's app reads them, all through the API."""

from __future__ import annotations

import itertools
from typing import Any

from linli.accounts.models import User
from linli.orders.models import Order
from linli.orders.services import order_act
from linli.pos.ean import ean13_check_digit
from tests.fixtures import Api, make_product, make_staff, make_store, next_phone, token_api
from tests.orders.lifecycle_helpers import notify, paid_notification
from tests.payments.helpers import top_up

_serial = itertools.count(1)
_ean = itertools.count(100000000000)


def ean13() -> str:
    body = f"{next(_ean):012d}"
    return body + ean13_check_digit(body)


class Shop:
    """A store, one product with a barcode, a counter and its staff."""

    def __init__(self, *, stock: int = 20, price_fen: int = 1000, member_price_fen: int | None = None) -> None:
        self.store = make_store(name=f"便利店{next(_serial)}")
        self.product = make_product(self.store, name="矿泉水", price_fen=price_fen, stock=stock)
        self.owner = token_api(self.store.merchant.members.get(role="owner").user)
        self.manager_user = make_staff(self.store, role="manager")
        self.manager = token_api(self.manager_user)
        self.cashier_user = make_staff(self.store, role="cashier")
        self.cashier = token_api(self.cashier_user)
        answer = self.manager.post(f"/pos/stores/{self.store.public_id}/counters", {"name": "1号收银台"})
        assert answer.status_code == 201, answer.content
        self.counter = answer.json()["id"]
        self.barcode = ean13()
        assert self.manager.post(f"/pos/stores/{self.store.public_id}/barcodes",
                                 {"product_id": self.product.public_id, "code": self.barcode}).status_code == 201
        if member_price_fen is not None:
            assert self.manager.post(f"/pos/stores/{self.store.public_id}/member-prices",
                                     {"product_id": self.product.public_id,
                                      "price_fen": member_price_fen}).status_code == 204

    def counter_for(self, name: str) -> str:
        answer = self.manager.post(f"/pos/stores/{self.store.public_id}/counters", {"name": name})
        assert answer.status_code == 201, answer.content
        return answer.json()["id"]

    def sell(self, api: Api | None = None, *, quantity: int = 1, method: str = "cash", ticket: str = "",
             points: int = 0, sale_id: str | None = None, lines: list[dict[str, Any]] | None = None,
             counter: str | None = None):
        body = {"counter_id": counter or self.counter, "client_sale_id": sale_id or f"s-{next(_serial)}",
                "lines": lines or [{"barcode": self.barcode, "quantity": quantity}], "payment_method": method,
                "member_ticket": ticket, "points_to_redeem": points}
        return (api or self.cashier).post(f"/pos/stores/{self.store.public_id}/sales", body)

    def identify(self, code: str, api: Api | None = None):
        return (api or self.cashier).post("/pos/members/identify", {"store_id": self.store.public_id,
                                                                    "code": code, "counter_id": self.counter})

    def offline_sale(self, *, quantity: int = 1, unit_fen: int | None = None, total_fen: int | None = None,
                     code: str = "", sale_id: str | None = None, at: str | None = None) -> dict[str, Any]:
        unit = self.product.price_fen if unit_fen is None else unit_fen
        body: dict[str, Any] = {"client_sale_id": sale_id or f"off-{next(_serial)}",
                                "lines": [{"barcode": self.barcode, "quantity": quantity, "unit_price_fen": unit}],
                                "total_fen": unit * quantity if total_fen is None else total_fen,
                                "payment_method": "cash"}
        if code:
            body["member_code"] = code
        if at:
            body["client_created_at"] = at
        return body

    def upload(self, sales: list[dict[str, Any]], api: Api | None = None, counter: str | None = None):
        return (api or self.cashier).post("/pos/sync", {"counter_id": counter or self.counter, "sales": sales})

    def stock(self) -> int:
        from linli.inventory.models import StockItem

        return StockItem.objects.get(product=self.product).quantity


def member(*, wallet_fen: int = 0) -> tuple[Api, User]:
    phone = next_phone()
    user = User.objects.create_user(username=phone, phone=phone)
    api = token_api(user)
    if wallet_fen:
        top_up(api, wallet_fen)
    return api, user


def member_code(api: Api) -> str:
    answer = api.get("/me/member-code")
    assert answer.status_code == 200, answer.content
    return answer.json()["code"]


def online_order_completed(api: Api, shop: Shop, *, quantity: int = 1, key: str | None = None) -> Order:
    """A pickup order placed and paid online, made and collected at the store."""
    body = {"store_id": shop.store.public_id, "fulfilment": "pickup",
            "items": [{"product_id": shop.product.public_id, "quantity": quantity}]}
    placed = api.post("/orders", body, headers={"Idempotency-Key": key or f"k-{next(_serial)}"})
    assert placed.status_code == 201, placed.content
    order_id = placed.json()["id"]
    assert notify(*paid_notification(api, order_id)) == "paid"
    staff = shop.manager_user
    for action in ("accept", "prepare", "ready"):
        order_act(order_id=order_id, actor=staff, action=action)
    order = Order.objects.get(public_id=order_id)
    from django.test import TestCase

    # As in production, the order's event goes out when the change commits.
    with TestCase.captureOnCommitCallbacks(execute=True):
        order_act(order_id=order_id, actor=staff, action="collect", pickup_code=order.pickup_code)
    return Order.objects.get(public_id=order_id)


def phone_of() -> str:
    return next_phone()
