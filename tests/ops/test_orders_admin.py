"""Orders in the back office: found by public id or phone, filtered by status, store,
fulfilment and date; the detail page shows the history (who, role, when, from → to),
payments and refunds, read-only."""

from __future__ import annotations

import re
from html import unescape as html_unescape

import pytest
from django.test import Client

from linli.orders.models import Order
from linli.payments.models import Refund
from tests.fixtures import make_product, make_staff, make_store, password_login, sms_login

from .helpers import staff_client

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit hooks run (payments, refunds)

ORDERS = "/ops/orders/order/"
BUYER = "+8613800138777"


def _paid_order(consumer, store, product, key: str) -> str:
    body = {"store_id": store.public_id, "fulfilment": "pickup", "items": [{"product_id": product.public_id,
                                                                            "quantity": 2}]}
    placed = consumer.post("/orders", body, headers={"Idempotency-Key": key})
    assert placed.status_code == 201, placed.content
    order_id = placed.json()["id"]
    payment = consumer.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}).json()
    assert Client().post(payment["pay_url"]).status_code == 302  # paid on the gateway's page
    return order_id


@pytest.fixture
def orders():
    store = make_store(name="老王家常菜")
    other = make_store(name="小杨生煎")
    product, other_product = make_product(store, price_fen=3200), make_product(other, price_fen=1800)
    staff = make_staff(store)
    consumer, _ = sms_login(BUYER)
    accepted = _paid_order(consumer, store, product, "k-1")
    assert password_login(staff.username).post(f"/merchant/orders/{accepted}/accept", {}).status_code == 200
    refunded = _paid_order(consumer, other, other_product, "k-2")
    assert consumer.post(f"/orders/{refunded}/cancel", {}).status_code == 200
    stranger, _ = sms_login("+8613800138778")
    unpaid = stranger.post("/orders", {"store_id": store.public_id, "fulfilment": "pickup",
                                       "items": [{"product_id": product.public_id, "quantity": 1}]},
                           headers={"Idempotency-Key": "k-3"}).json()["id"]
    return {"accepted": Order.objects.get(public_id=accepted), "refunded": Order.objects.get(public_id=refunded),
            "unpaid": Order.objects.get(public_id=unpaid), "store": store, "other": other, "staff": staff}


def _listed(client: Client, **params) -> list[str]:
    answer = client.get(ORDERS, params)
    assert answer.status_code == 200, answer.content[:500]
    return sorted(o.public_id for o in answer.context["cl"].result_list)


def test_the_list_filters_and_searches_by_public_ids_and_phone(orders):
    client = staff_client()
    accepted, refunded, unpaid = orders["accepted"], orders["refunded"], orders["unpaid"]
    everything = sorted(o.public_id for o in (accepted, refunded, unpaid))
    assert _listed(client) == everything
    assert _listed(client, status__exact="refunded") == [refunded.public_id]  # paid, then cancelled
    assert _listed(client, store=orders["store"].public_id) == sorted([accepted.public_id, unpaid.public_id])
    assert _listed(client, fulfilment__exact="pickup") == everything
    assert _listed(client, fulfilment__exact="delivery") == []
    assert _listed(client, q=accepted.public_id) == [accepted.public_id]
    assert _listed(client, q="13800138777") == sorted([accepted.public_id, refunded.public_id])
    assert _listed(client, q=orders["other"].public_id) == [refunded.public_id]
    html = client.get(ORDERS).content.decode()
    # the date filter's "Today" link: the city's day, so all three orders placed just now
    today = html_unescape(re.search(r'href="(\?created_at__gte=[^"]+)"', html).group(1))
    assert "%2B08%3A00" in today or "+08:00" in today  # local midnight, Asia/Shanghai
    assert sorted(o.public_id for o in client.get(ORDERS + today).context["cl"].result_list) == everything
    assert f'href="{ORDERS}{accepted.public_id}/change/' in html  # rows link by public id
    assert "¥65.00" in html  # 2 × 32.00 + 1.00 packaging, as yuan
    assert 'name="store"' in html  # the store filter takes a pasted public id


def test_the_detail_page_shows_the_history_payments_and_refunds(orders):
    client = staff_client()
    accepted = orders["accepted"]
    page = client.get(f"{ORDERS}{accepted.public_id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "pending_payment → paid" in html and "paid → accepted" in html and "- → pending_payment" in html
    for role in ("consumer", "system", "merchant"):
        assert f"<p>{role}</p>" in html, role
    assert orders["staff"].public_id in html  # who accepted, by public id
    payment = accepted.payments.get()
    assert payment.public_id in html and "succeeded" in html
    assert 'name="_save"' not in html  # read-only: no save button

    refunded = orders["refunded"]
    refund = Refund.objects.get(payment__order=refunded)
    html = client.get(f"{ORDERS}{refunded.public_id}/change/").content.decode()
    assert refund.public_id in html and "paid → refunding" in html and "refunding → refunded" in html and "¥37.00" in html


def test_orders_cannot_be_changed_added_or_deleted_here(orders):
    client = staff_client()
    accepted = orders["accepted"]
    assert client.post(f"{ORDERS}{accepted.public_id}/change/", {"status": "completed"}).status_code == 403
    assert client.get(f"{ORDERS}add/").status_code == 403
    assert client.post(f"{ORDERS}{accepted.public_id}/delete/", {"post": "yes"}).status_code == 403
    accepted.refresh_from_db()
    assert accepted.status == "accepted"
