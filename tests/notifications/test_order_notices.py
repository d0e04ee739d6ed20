"""Order news: exactly one message per state change the consumer waits for, through whole
order flows on the real API (pay by the sandbox gateway's signed notification, the store's
actions, the rider's task), and none for what the consumer did themselves."""

from __future__ import annotations

import pytest
from django.db import transaction

from linli.delivery.models import DeliveryTask
from linli.notifications.models import Message
from linli.notifications.order_notices import order_notices_send
from linli.orders.models import Order
from linli.orders.services import order_transition_as
from tests.fixtures import make_product, make_rider, make_store, token_api
from tests.orders.lifecycle_helpers import buyer, merchant, notify, paid_notification, place

pytestmark = pytest.mark.django_db


def kinds(order_id: str) -> list[str]:
    """The kinds of the messages about this order to its consumer, oldest first."""
    order = Order.objects.get(public_id=order_id)
    return list(Message.objects.filter(user_id=order.consumer_id, dedupe_key__startswith=f"order:{order_id}:")
                .order_by("created_at", "pk").values_list("kind", flat=True))


def paid(api, store, product, *, key: str, **extra) -> str:
    order = place(api, store, product, key=key, **extra)
    assert order.status_code == 201, order.content
    order_id = order.json()["id"]
    assert notify(*paid_notification(api, order_id)) == "paid"
    return order_id


def test_a_delivery_order_notifies_accepted_on_the_way_and_delivered_once_each(push_outbox):
    store = make_store(prep_minutes=12)
    product = make_product(store)
    rider = make_rider(lat=31.2310, lng=121.4740)
    consumer, staff = buyer(), merchant(store)
    order_id = paid(consumer, store, product, key="n-delivery")
    assert kinds(order_id) == []  # placing and paying are the consumer's own doing
    for action in ("accept", "prepare", "ready"):
        assert staff.post(f"/merchant/orders/{order_id}/{action}", {}).status_code == 200
    assert kinds(order_id) == ["order_accepted"]
    task = DeliveryTask.objects.get(order__public_id=order_id)
    rider_api = token_api(rider)
    for action in ("arrive", "pickup"):
        assert rider_api.post(f"/rider/tasks/{task.public_id}/{action}").status_code == 200
    code = consumer.get(f"/orders/{order_id}").json()["delivery"]["delivery_code"]
    assert rider_api.post(f"/rider/tasks/{task.public_id}/deliver", {"code": code}).status_code == 200
    assert consumer.post(f"/orders/{order_id}/confirm").status_code == 200
    assert kinds(order_id) == ["order_accepted", "order_delivering", "order_delivered"]
    # the inbox, the push and the dedupe keys agree; announcing the order again sends nothing
    inbox = consumer.get("/me/messages").json()
    assert inbox["unread"] == 3 and {m["link"] for m in inbox["items"]} == {f"/orders/{order_id}"}
    assert [p["body"] for p in push_outbox] == [m.body for m in Message.objects.order_by("pk")]
    assert order_notices_send(Order.objects.get(public_id=order_id)) == 0
    assert sorted(Message.objects.filter(kind__startswith="order_").values_list("dedupe_key", flat=True)) == sorted(
        f"order:{order_id}:{state}" for state in ("accepted", "delivering", "delivered"))


def test_a_pickup_order_says_when_it_is_ready_with_its_code():
    store = make_store()
    product = make_product(store)
    consumer, staff = buyer(), merchant(store)
    order_id = paid(consumer, store, product, key="n-pickup", fulfilment="pickup")
    for action in ("accept", "prepare", "ready"):
        assert staff.post(f"/merchant/orders/{order_id}/{action}", {}).status_code == 200
    pickup_code = Order.objects.get(public_id=order_id).pickup_code
    collected = staff.post(f"/merchant/orders/{order_id}/collect", {"pickup_code": pickup_code})
    assert collected.status_code == 200, collected.content
    assert kinds(order_id) == ["order_accepted", "order_ready_pickup"]
    ready = Message.objects.get(kind="order_ready_pickup")
    assert pickup_code in ready.body and store.name in ready.body


def test_a_rejected_order_says_so_and_then_that_the_money_is_back():
    store = make_store()
    product = make_product(store)
    consumer, staff = buyer(), merchant(store)
    order_id = paid(consumer, store, product, key="n-reject")
    assert staff.post(f"/merchant/orders/{order_id}/reject", {"note": "售罄"}).status_code == 200
    assert Order.objects.get(public_id=order_id).status == "refunded"  # the sandbox refunds at once
    assert kinds(order_id) == ["order_rejected", "order_refunded"]


def test_the_consumers_own_cancel_only_brings_the_refund_news():
    store = make_store()
    product = make_product(store)
    consumer = buyer()
    order_id = paid(consumer, store, product, key="n-cancel")
    assert consumer.post(f"/orders/{order_id}/cancel", {}).status_code == 200
    assert kinds(order_id) == ["order_refunded"]
    unpaid = place(consumer, store, product, key="n-cancel-unpaid").json()["id"]
    assert consumer.post(f"/orders/{unpaid}/cancel", {}).status_code == 200
    assert kinds(unpaid) == []


def test_a_declined_cancel_request_is_news_and_a_timed_out_unpaid_order_too():
    store = make_store()
    product = make_product(store)
    consumer, staff = buyer(), merchant(store)
    order_id = paid(consumer, store, product, key="n-decline")
    assert staff.post(f"/merchant/orders/{order_id}/accept", {}).status_code == 200
    asked = consumer.post(f"/orders/{order_id}/cancel-request", {"reason": "不想要了"})
    assert asked.status_code == 200, asked.content
    assert kinds(order_id) == ["order_accepted"]  # the consumer's own request
    declined = staff.post(f"/merchant/orders/{order_id}/cancel-request/decline", {"reason": "已在制作"})
    assert declined.status_code == 200, declined.content
    assert kinds(order_id) == ["order_accepted", "order_cancel_declined"]

    unpaid = place(consumer, store, product, key="n-unpaid").json()["id"]
    order = Order.objects.get(public_id=unpaid)
    with transaction.atomic():
        order_transition_as(order=order, action="cancel", actor=None, role="system")
    order_notices_send(Order.objects.get(public_id=unpaid))  # what the commit announces
    assert kinds(unpaid) == ["order_unpaid_cancelled"]


def test_news_is_written_in_the_language_the_user_chose():
    store = make_store(name="老王家常菜")
    product = make_product(store)
    consumer, staff = buyer(), merchant(store)
    assert consumer.post("/me/notification-preferences", {"language": "en"}).status_code == 200
    order_id = paid(consumer, store, product, key="n-lang")
    assert staff.post(f"/merchant/orders/{order_id}/accept", {}).status_code == 200
    message = Message.objects.get(kind="order_accepted")
    assert (message.title, message.body) == (
        "Order accepted", f"老王家常菜 has accepted your order {order_id} and is preparing it.")
