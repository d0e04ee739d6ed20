"""Chain re-routing (issue 8, orders/reroute.py): a chain store rejects a delivery order the
consumer allowed to re-route, or lets it time out; the order is refunded as always and the
same cart is placed at the chain's next-best store, awaiting payment, linked both ways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.inventory.models import StockItem
from linli.inventory.services import stock_set
from linli.orders.models import Order
from linli.orders.services import orders_accept_timeout
from tests.inventory.chain_helpers import make_chain, member_api

from .lifecycle_helpers import buyer, notify, paid_notification, paid_order, place

pytestmark = pytest.mark.django_db(transaction=True)  # the re-route runs once the reject commits

# delivery_address() drops at 31.2330, 121.4760: NEAR is nearest, then MID, then FAR
NEAR, MID, FAR = (31.2332, 121.4761), (31.2350, 121.4770), (31.2400, 121.4800)


@pytest.fixture
def chain():
    chain = make_chain(NEAR, MID, FAR)
    near, mid, far = chain.stores
    chain.tea = {store.public_id: chain.product(store, "TEA", stock=5) for store in (near, mid, far)}
    return chain


def _reject(store, order_id: str):
    return member_api(store, "manager").post(f"/merchant/orders/{order_id}/reject", {"note": "out of cups"})


def test_a_rejected_order_is_placed_at_the_next_store_and_refunded(chain):
    near, mid, _far = chain.stores
    api = buyer()
    order = paid_order(api, near, chain.tea[near.public_id], key="rr-1", quantity=2, allow_reroute=True)
    assert order["reroute_allowed"] is True and order["total_fen"] > 0
    assert _reject(near, order["id"]).status_code == 200

    first = api.get(f"/orders/{order['id']}").json()
    assert first["status"] in ("refunding", "refunded")
    assert first["rerouted_to"], first
    second = api.get(f"/orders/{first['rerouted_to']}").json()
    assert second["status"] == "pending_payment"
    assert second["store_id"] == mid.public_id
    assert second["rerouted_from"] == order["id"]
    assert [(i["product_id"], i["quantity"]) for i in second["items"]] == [(chain.tea[mid.public_id].public_id, 2)]
    assert second["address"] == order["address"]
    placed = second["events"][0]
    assert (placed["action"], placed["actor_role"]) == ("place", "system")
    # the consumer hears of it once, with where and how much (notifications)
    from linli.notifications.models import Message
    news = Message.objects.filter(user__orders__public_id=order["id"], kind="order_rerouted").distinct()
    assert news.count() == 1
    assert news.get().link == f"/orders/{second['id']}" and near.name in news.get().body
    # stock: the rejected store got its units back, the next store holds two for the new order
    assert StockItem.objects.get(product=chain.tea[near.public_id]).quantity == 5
    assert StockItem.objects.get(product=chain.tea[mid.public_id]).quantity == 3


def test_a_second_rejection_moves_on_and_the_chain_stops_after_every_store(chain):
    near, mid, far = chain.stores
    api = buyer()
    order = paid_order(api, near, chain.tea[near.public_id], key="rr-2", allow_reroute=True)
    _reject(near, order["id"])
    at_mid = Order.objects.get(rerouted_from__public_id=order["id"])
    assert notify(*paid_notification(api, at_mid.public_id)) == "paid"
    assert _reject(mid, at_mid.public_id).status_code == 200
    at_far = Order.objects.get(rerouted_from=at_mid)
    assert at_far.store_id == far.pk
    assert notify(*paid_notification(api, at_far.public_id)) == "paid"
    assert _reject(far, at_far.public_id).status_code == 200
    assert not Order.objects.filter(rerouted_from=at_far).exists()  # no store left: refund only
    assert Order.objects.filter(consumer__phone=at_far.consumer.phone).count() == 3


def test_without_consent_or_without_stock_elsewhere_only_the_refund_happens(chain):
    near, mid, far = chain.stores
    api = buyer()
    order = paid_order(api, near, chain.tea[near.public_id], key="rr-3")
    assert order["reroute_allowed"] is False
    _reject(near, order["id"])
    assert not Order.objects.filter(rerouted_from__public_id=order["id"]).exists()

    for store in (mid, far):
        stock_set(product=chain.tea[store.public_id], quantity=0)
    other = paid_order(api, near, chain.tea[near.public_id], key="rr-4", allow_reroute=True)
    _reject(near, other["id"])
    assert api.get(f"/orders/{other['id']}").json()["rerouted_to"] is None


def test_the_accept_timeout_reroutes_too(chain, settings):
    near, mid, _far = chain.stores
    api = buyer()
    order = paid_order(api, near, chain.tea[near.public_id], key="rr-5", allow_reroute=True)
    assert orders_accept_timeout(now=timezone.now() + timedelta(hours=2)) == 1
    moved = Order.objects.get(rerouted_from__public_id=order["id"])
    assert moved.store_id == mid.pk and moved.status == "pending_payment"


def test_allow_reroute_must_be_a_boolean(chain):
    near = chain.stores[0]
    answer = place(buyer(), near, chain.tea[near.public_id], key="rr-6", allow_reroute="perhaps")
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_input"


def test_the_pages_offer_it_at_a_chain_store_and_link_the_two_orders(chain, client):
    near, mid, _far = chain.stores
    api = buyer()
    order = paid_order(api, near, chain.tea[near.public_id], key="rr-7", allow_reroute=True)
    _reject(near, order["id"])
    moved = Order.objects.get(rerouted_from__public_id=order["id"])
    client.force_login(moved.consumer)
    old_page = client.get(f"/orders/{order['id']}").content.decode()
    assert 'data-testid="rerouted-to"' in old_page and f"/orders/{moved.public_id}" in old_page
    new_page = client.get(f"/orders/{moved.public_id}").content.decode()
    assert 'data-testid="rerouted-from"' in new_page and near.name in new_page
    client.post(f"/stores/{mid.public_id}/cart", {"product_id": chain.tea[mid.public_id].public_id})
    checkout = client.get(f"/stores/{mid.public_id}/checkout")
    assert checkout.status_code == 200
    assert 'data-testid="allow-reroute"' in checkout.content.decode()
