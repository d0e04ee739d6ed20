"""Shared steps of the lifecycle tests (issue 5): place, pay through the sandbox gateway's
signed notification, and act as the store, all through the real API."""

from __future__ import annotations

from typing import Any

from django.test import Client

from linli.accounts.models import PlatformRole, User
from linli.payments.gateways.sandbox import sandbox_notification_build
from linli.payments.models import SandboxTrade
from tests.fixtures import Api, delivery_address, make_staff, next_phone, token_api

CALLBACK = "/api/v1/payments/callbacks/sandbox"


def buyer() -> Api:
    phone = next_phone()
    return token_api(User.objects.create_user(username=phone, phone=phone))


def merchant(store, role: str = "cashier") -> Api:
    return token_api(make_staff(store, role=role))


def operator() -> Api:
    return token_api(User.objects.create_user(username=f"ops-{next_phone()}",
                                              platform_role=PlatformRole.OPERATOR))


def place(api: Api, store, product, *, key: str, quantity: int = 1, fulfilment: str = "delivery",
          **extra: Any):
    body: dict[str, Any] = {"store_id": store.public_id, "fulfilment": fulfilment,
                            "items": [{"product_id": product.public_id, "quantity": quantity}]}
    if fulfilment == "delivery":
        body["address"] = delivery_address()
    body.update(extra)
    return api.post("/orders", body, headers={"Idempotency-Key": key})


def paid_notification(api: Api, order_id: str) -> tuple[bytes, dict[str, str]]:
    """Open the payment and let the buyer pay at the gateway: the signed notification that
    the gateway will send (not yet sent)."""
    payment = api.post(f"/orders/{order_id}/payments", {}).json()
    trade = SandboxTrade.objects.get(out_trade_no=payment["id"])
    trade.status = SandboxTrade.Status.SUCCESS
    trade.save()
    return sandbox_notification_build(trade)


def notify(body: bytes, headers: dict[str, str]) -> str:
    return Client().post(CALLBACK, body, content_type="application/json",
                         headers=headers)["Linli-Outcome"]


def paid_order(api: Api, store, product, *, key: str, **kwargs: Any) -> dict[str, Any]:
    order = place(api, store, product, key=key, **kwargs).json()
    assert notify(*paid_notification(api, order["id"])) == "paid"
    return api.get(f"/orders/{order['id']}").json()


def put(api: Api, path: str, body: Any):
    """Api has get/post only: PUT with the same bearer token."""
    import json

    return api.client.put(f"/api/v1{path}", json.dumps(body), content_type="application/json",
                          headers=api._headers(None))
