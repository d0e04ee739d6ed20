"""Shared steps of the payments tests, all through the real API and the sandbox's hosted
page (whose notification reaches our callback in-process, after commit)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from linli.accounts.models import PlatformRole, User
from linli.payments.ledger import ledger_verify
from linli.payments.models import LedgerAccount, Posting
from tests.fixtures import Api, delivery_address, make_product, make_store, next_phone, token_api


def consumer() -> tuple[Api, User]:
    phone = next_phone()
    user = User.objects.create_user(username=phone, phone=phone)
    return token_api(user), user


def operator() -> Api:
    return token_api(User.objects.create_user(username=f"ops-{next_phone()}",
                                              platform_role=PlatformRole.OPERATOR))


def shop(price_fen: int = 2000, stock: int = 50):
    store = make_store()
    return store, make_product(store, price_fen=price_fen, stock=stock)


def place(api: Api, store, product, *, key: str, quantity: int = 1) -> dict[str, Any]:
    answer = api.post("/orders", {
        "store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
        "items": [{"product_id": product.public_id, "quantity": quantity}]},
        headers={"Idempotency-Key": key})
    assert answer.status_code == 201, answer.content
    return answer.json()


def buyer_pays_at_sandbox(pay_url: str) -> None:
    """The buyer confirms on the sandbox's hosted page; its notification follows."""
    assert pay_url.startswith("/pay/sandbox/"), pay_url
    assert Client().post(pay_url).status_code == 302


def top_up(api: Api, amount_fen: int) -> dict[str, Any]:
    answer = api.post("/me/wallet/topups", {"amount_fen": amount_fen})
    assert answer.status_code == 201, answer.content
    buyer_pays_at_sandbox(answer.json()["payment"]["pay_url"])
    return api.get(f"/me/wallet/topups/{answer.json()['id']}").json()


def wallet(api: Api) -> tuple[int, int]:
    body = api.get("/me/wallet").json()
    assert body["total_fen"] == body["cash_fen"] + body["bonus_fen"]
    return body["cash_fen"], body["bonus_fen"]


def books_hold() -> None:
    """Every transaction sums to zero; cached balances equal their postings; nothing negative."""
    assert ledger_verify() == []
    assert sum(Posting.objects.values_list("amount_fen", flat=True)) == 0


def balance(code: str) -> int:
    from linli.payments.ledger import balance as ledger_balance

    return ledger_balance(code) if LedgerAccount.objects.filter(code=code).exists() else 0
