"""Shared steps of the fulfilment-mode tests (issue 5): people, placing, and paying through
the sandbox gateway's signed notification, all through the real API."""

from __future__ import annotations

from typing import Any

from django.test import Client

from linli.accounts.models import User
from linli.payments.gateways.sandbox import sandbox_notification_build
from linli.payments.models import SandboxTrade
from tests.fixtures import Api, delivery_address, make_staff, next_phone, token_api

CALLBACK = "/api/v1/payments/callbacks/sandbox"


def diner() -> Api:
    phone = next_phone()
    return token_api(User.objects.create_user(username=phone, phone=phone))


def staff(store, role: str = "cashier") -> Api:
    return token_api(make_staff(store, role=role))


def place(api: Api, store, product, *, key: str, fulfilment: str, quantity: int = 1,
          **extra: Any):
    body: dict[str, Any] = {"store_id": store.public_id, "fulfilment": fulfilment,
                            "items": [{"product_id": product.public_id, "quantity": quantity}]}
    if fulfilment == "delivery":
        body["address"] = delivery_address()
    body.update(extra)
    return api.post("/orders", body, headers={"Idempotency-Key": key})


def gateway_pays(payment_id: str) -> str:
    """The buyer pays at the sandbox gateway, which sends its signed notification."""
    trade = SandboxTrade.objects.get(out_trade_no=payment_id)
    trade.status = SandboxTrade.Status.SUCCESS
    trade.save()
    body, headers = sandbox_notification_build(trade)
    answer = Client().post(CALLBACK, body, content_type="application/json", headers=headers)
    assert answer.status_code == 200, answer.content
    return answer["Linli-Outcome"]


def pay_order(api: Api, order_id: str) -> str:
    payment = api.post(f"/orders/{order_id}/payments", {})
    assert payment.status_code == 201, payment.content
    return gateway_pays(payment.json()["id"])
