"""Helpers for the inventory tests: orders through the real API, payment through the
sandbox gateway's signed notification, and the ledger audit."""

from __future__ import annotations

from typing import Any

from django.test import Client

from linli.inventory.models import StockItem
from linli.inventory.selectors import stock_ledger_audit
from linli.merchants.models import Product, Store
from linli.payments.gateways.sandbox import sandbox_notification_build
from linli.payments.models import SandboxTrade
from tests.fixtures import Api

CALLBACK = "/api/v1/payments/callbacks/sandbox"


def place(api: Api, store: Store, lines: list[tuple[Product, int]], key: str):
    return api.post("/orders", {
        "store_id": store.public_id, "fulfilment": "pickup",
        "items": [{"product_id": p.public_id, "quantity": q} for p, q in lines]},
        headers={"Idempotency-Key": key})


def pay_notification(api: Api, order_id: str) -> tuple[bytes, dict[str, str]]:
    """Open a payment, let the buyer pay at the gateway, and build the gateway's signed
    notification (not sent yet)."""
    payment = api.post(f"/orders/{order_id}/payments", {}).json()
    trade = SandboxTrade.objects.get(out_trade_no=payment["id"])
    trade.status = SandboxTrade.Status.SUCCESS
    trade.save()
    return sandbox_notification_build(trade)


def notify(body: bytes, headers: dict[str, str]) -> str:
    answer = Client().post(CALLBACK, body, content_type="application/json", headers=headers)
    assert answer.status_code == 200, answer.content
    return answer["Linli-Outcome"]


def pay(api: Api, order_id: str) -> str:
    return notify(*pay_notification(api, order_id))


def counts(product: Product) -> tuple[int, int]:
    item = StockItem.objects.get(product=product)
    return item.quantity, item.reserved


def assert_balanced(*products: Product) -> None:
    audits = stock_ledger_audit([p.pk for p in products])
    for audit in audits.values():
        assert audit.balanced, audit


def movements(product: Product, **filters: Any) -> list[tuple[str, int, int]]:
    return [(m.reason, m.delta, m.reserved_delta)
            for m in product.stock_movements.filter(**filters).order_by("pk")]
