"""One complete delivery order and one pickup order, end to end through the API,
with three separately authenticated people: consumer, merchant staff and rider."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.inventory.models import StockItem, StockMovement
from linli.payments.gateways.sandbox import sandbox_notification_build
from linli.payments.models import GatewayNotification, Payment, SandboxTrade
from tests.fixtures import (
    Api,
    delivery_address,
    make_product,
    make_rider,
    make_staff,
    make_store,
    password_login,
    sms_login,
)

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit hooks run, as in production


def _pay_on_hosted_page(pay_url: str) -> None:
    browser = Client(enforce_csrf_checks=False)
    page = browser.get(pay_url)
    assert page.status_code == 200 and "¥70.00" in page.content.decode()
    assert browser.post(pay_url).status_code == 302


def test_delivery_order_travels_from_search_to_completion():
    store = make_store(name="老王家常菜(人民广场店)")
    product = make_product(store, price_fen=3200, stock=100)
    staff = make_staff(store)
    rider_user = make_rider(lat=31.2310, lng=121.4745, online=False, phone="+8613700137001")

    consumer, login = sms_login("13800138000")
    assert login["user"]["roles"] == ["consumer"]
    merchant = password_login(staff.username)
    assert "merchant_staff" in merchant.get("/me").json()["roles"]
    rider, _ = sms_login("+8613700137001")
    assert rider.post("/rider/shift", {"online": True, "lat": 31.2310, "lng": 121.4745}).status_code == 200

    nearby = consumer.get("/stores/nearby", {"lat": 31.2330, "lng": 121.4760, "radius_m": 2000}).json()
    assert nearby["items"][0]["id"] == store.public_id
    assert 0 < nearby["items"][0]["distance_m"] < 500
    menu = consumer.get(f"/stores/{store.public_id}/menu").json()
    assert menu["sections"][0]["products"][0].items() >= {
        "id": product.public_id, "name": "宫保鸡丁", "description": "", "price_fen": 3200, "stock": 100}.items()

    body = {"store_id": store.public_id, "fulfilment": "delivery", "address": delivery_address(),
            "items": [{"product_id": product.public_id, "quantity": 2}]}
    placed = consumer.post("/orders", body, headers={"Idempotency-Key": "k-1"})
    assert placed.status_code == 201, placed.content
    order = placed.json()
    assert order["status"] == "pending_payment"
    assert (order["items_fen"], order["packaging_fee_fen"], order["delivery_fee_fen"]) == (6400, 100, 500)
    assert order["total_fen"] == 7000 == sum(line["amount_fen"] for line in order["price_lines"])
    retry = consumer.post("/orders", body, headers={"Idempotency-Key": "k-1"})
    assert retry.status_code == 200 and retry.json()["id"] == order["id"]
    assert StockItem.objects.get(product=product).quantity == 98

    payment = consumer.post(f"/orders/{order['id']}/payments", {"provider": "sandbox"}).json()
    assert payment["amount_fen"] == 7000 and payment["status"] == "pending"
    _pay_on_hosted_page(payment["pay_url"])
    assert consumer.get(f"/orders/{order['id']}").json()["status"] == "paid"

    # The gateway repeats its notification over HTTP: acknowledged, nothing changes.
    trade = SandboxTrade.objects.get(out_trade_no=payment["id"])
    notify_body, headers = sandbox_notification_build(trade)
    again = Client().post("/api/v1/payments/callbacks/sandbox", notify_body,
                          content_type="application/json", headers=headers)
    assert again.status_code == 200 and again.json() == {"code": "SUCCESS"} and again["Linli-Outcome"] == "duplicate"

    for action, status in [("accept", "accepted"), ("prepare", "preparing"), ("ready", "ready")]:
        answer = merchant.post(f"/merchant/orders/{order['id']}/{action}", {})
        assert answer.status_code == 200, answer.content
        assert answer.json()["status"] == status
    assert merchant.get(f"/orders/{order['id']}").json()["delivery"]["rider_name"] is not None

    tasks = rider.get("/rider/tasks").json()
    assert [t["order_id"] for t in tasks] == [order["id"]]
    assert rider.post(f"/rider/tasks/{tasks[0]['id']}/pickup").json()["status"] == "picked_up"
    assert consumer.get(f"/orders/{order['id']}").json()["status"] == "delivering"
    code = consumer.get(f"/orders/{order['id']}").json()["delivery"]["delivery_code"]  # read at the door
    assert rider.post(f"/rider/tasks/{tasks[0]['id']}/deliver", {"code": code}).json()["status"] == "delivered"
    final = consumer.post(f"/orders/{order['id']}/confirm").json()

    assert final["status"] == "completed"
    assert [(e["action"], e["from_status"], e["to_status"], e["actor_role"]) for e in final["events"]] == [
        ("place", "", "pending_payment", "consumer"),
        ("pay", "pending_payment", "paid", "system"),
        ("accept", "paid", "accepted", "merchant"),
        ("prepare", "accepted", "preparing", "merchant"),
        ("ready", "preparing", "ready", "merchant"),
        ("rider_pickup", "ready", "delivering", "rider"),
        ("deliver", "delivering", "delivered", "rider"),
        ("confirm", "delivered", "completed", "consumer"),
    ]
    assert all(e["at"] for e in final["events"])
    assert StockItem.objects.get(product=product).quantity == 98
    assert [m.delta for m in StockMovement.objects.filter(product=product, reason="order")] == [-2]
    paid = Payment.objects.get(order__public_id=order["id"], status="succeeded")
    assert paid.amount_fen == final["total_fen"] == 7000
    assert GatewayNotification.objects.filter(outcome="paid").count() == 1
    assert rider_user.rider_profile.tasks.get().status == "delivered"


def test_pickup_order_completes_only_with_its_pickup_code():
    store = make_store()
    product = make_product(store, price_fen=1500, stock=10)
    merchant = password_login(make_staff(store).username)
    consumer, _ = sms_login("13800138001")
    placed = consumer.post("/orders", {"store_id": store.public_id, "fulfilment": "pickup",
                                       "items": [{"product_id": product.public_id, "quantity": 1}]},
                           headers={"Idempotency-Key": "p-1"}).json()
    assert placed["delivery_fee_fen"] == 0 and placed["total_fen"] == 1600
    code = placed["pickup_code"]
    assert code and len(code) == 6
    assert merchant.get(f"/orders/{placed['id']}").json()["pickup_code"] is None  # only the buyer sees it

    payment = consumer.post(f"/orders/{placed['id']}/payments", {}).json()
    browser = Client()
    browser.get(payment["pay_url"])
    browser.post(payment["pay_url"])
    for action in ("accept", "prepare", "ready"):
        assert merchant.post(f"/merchant/orders/{placed['id']}/{action}", {}).status_code == 200
    wrong = "000000" if code != "000000" else "111111"
    refused = merchant.post(f"/merchant/orders/{placed['id']}/collect", {"pickup_code": wrong})
    assert refused.status_code == 400 and refused.json()["code"] == "pickup_code_invalid"
    done = merchant.post(f"/merchant/orders/{placed['id']}/collect", {"pickup_code": code})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert Api(token=None).get(f"/orders/{placed['id']}").status_code == 401
