"""The counter page's gateway QR (`/m/pos`): ring up shows the QR, the page polls the
sale's status (the server asks the gateway), the cashier may give up on the QR."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from linli.payments.models import Payment
from linli.pos.models import Sale
from tests.payments.helpers import buyer_pays_at_sandbox
from tests.pos.helpers import Shop
from tests.web.helpers import web_password_login, web_sms_login

pytestmark = pytest.mark.django_db


def _ring_up(shop: Shop, client: Client, sale_id: str):
    body = {"store_id": shop.store.public_id, "counter_id": shop.counter, "client_sale_id": sale_id,
            "lines": [{"product_id": shop.product.public_id, "quantity": 2}], "payment_method": "gateway_qr"}
    return client.post("/m/pos/sales", data=json.dumps(body), content_type="application/json")


def test_the_page_offers_the_qr_and_polls_until_the_gateway_says_paid(settings):
    settings.LINLI_SANDBOX_DROP_NOTIFICATIONS = True  # only the poll's verified query can tell
    shop = Shop(stock=5)
    cashier = web_password_login(shop.cashier_user.username, "m")
    assert b'value="gateway_qr"' in cashier.get("/m/pos").content
    answer = _ring_up(shop, cashier, "web-qr-1")
    assert answer.status_code == 201, answer.content
    sale = answer.json()
    assert sale["status"] == "awaiting_payment" and sale["qr"]["svg"].startswith("<svg")
    assert sale["qr"]["content"].startswith("http") and "/pay/sandbox/" in sale["qr"]["content"]
    assert cashier.get(sale["status_url"]).json()["status"] == "awaiting_payment"
    assert shop.stock() == 3
    buyer_pays_at_sandbox(sale["qr"]["content"].split("testserver", 1)[1])
    Payment.objects.filter(public_id=sale["payment_id"]).update(last_queried_at=None)  # 3 s later
    done = cashier.get(sale["status_url"]).json()
    assert done["status"] == "completed" and done["qr"] is None
    assert shop.stock() == 3
    listed = cashier.get("/m/pos/sales")
    assert sale["id"].encode() in listed.content


def test_the_cashier_gives_up_on_the_qr_and_strangers_see_nothing():
    shop, other = Shop(stock=5), Shop()
    cashier = web_password_login(shop.cashier_user.username, "m")
    sale = _ring_up(shop, cashier, "web-qr-2").json()
    stranger = web_password_login(other.manager_user.username, "m")
    assert stranger.get(sale["status_url"]).status_code == 404
    assert stranger.post(sale["cancel_url"]).status_code == 404
    assert web_sms_login("13800000999").post(sale["cancel_url"]).status_code == 403
    assert Client().get(sale["status_url"]).status_code == 302
    voided = cashier.post(sale["cancel_url"])
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    assert shop.stock() == 5 and Sale.objects.get(public_id=sale["id"]).status == "voided"
    again = cashier.post(sale["cancel_url"])
    assert again.status_code == 409 and again.json()["code"] == "sale_not_awaiting_payment"
