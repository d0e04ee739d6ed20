"""Merchant console: login, refusal of non-staff, queue, actions, today's numbers."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.orders.models import Order
from linli.orders.services import AddressInput, LineInput, order_place
from linli.web.views_merchant import hour_bars
from tests.fixtures import (
    PASSWORD,
    delivery_address,
    make_product,
    make_staff,
    make_store,
    next_phone,
)

from .helpers import web_password_login, web_sms_login

pytestmark = pytest.mark.django_db


def _paid_order(product, *, fulfilment="delivery") -> Order:
    consumer = User.objects.create_user(username=next_phone(), phone=next_phone())
    order = order_place(consumer=consumer, store_id=product.store.public_id,
                        lines=[LineInput(product_id=product.public_id, quantity=1)],
                        fulfilment=fulfilment,
                        address=AddressInput(**delivery_address()) if fulfilment == "delivery" else None,
                        idempotency_key=f"k-{next_phone()}").order
    from linli.orders.services import order_transition_as

    return order_transition_as(order=order, action="pay", actor=None, role="system")


def test_login_with_bad_password_shows_bad_credentials(store):
    staff = make_staff(store)
    answer = Client().post("/m/login", {"login": staff.username, "password": "wrong-password"})
    assert answer.status_code == 401
    assert 'data-code="bad_credentials"' in answer.content.decode()


def test_a_consumer_cannot_log_in_to_or_open_the_console(store):
    consumer = User.objects.create_user(username="c1", password=PASSWORD, phone=next_phone())
    answer = Client().post("/m/login", {"login": consumer.username, "password": PASSWORD})
    assert answer.status_code == 403 and 'data-code="permission_denied"' in answer.content.decode()
    client = web_sms_login(next_phone())
    assert client.get("/m/").status_code == 403


def test_anonymous_is_sent_to_the_login_page():
    answer = Client().get("/m/")
    assert answer.status_code == 302 and answer["Location"].startswith("/m/login?next=")


def test_queue_shows_paid_orders_and_staff_move_them_on(product):
    order = _paid_order(product)
    staff = make_staff(product.store)
    client = web_password_login(staff.username, "m")
    page = client.get("/m/").content.decode()
    assert order.public_id in page and 'data-testid="accept"' in page
    for action, status in (("accept", "accepted"), ("prepare", "preparing"), ("ready", "ready")):
        assert client.post(f"/m/orders/{order.public_id}/{action}").status_code == 302
        order.refresh_from_db()
        assert order.status == status
    part = client.get("/m/", {"part": "queue"}).content.decode()
    assert "<html" not in part and order.public_id in part


def test_reject_needs_a_reason(product):
    order = _paid_order(product)
    client = web_password_login(make_staff(product.store).username, "m")
    answer = client.post(f"/m/orders/{order.public_id}/reject", {"reason": " "})
    assert answer.status_code == 422 and 'data-code="invalid_input"' in answer.content.decode()
    order.refresh_from_db()
    assert order.status == "paid"
    assert client.post(f"/m/orders/{order.public_id}/reject", {"reason": "售罄"}).status_code == 302
    order.refresh_from_db()
    assert order.status == "refunded" and order.cancel_reason == "售罄"  # paid: refunding -> refunded


def test_collect_checks_the_pickup_code(product):
    order = _paid_order(product, fulfilment="pickup")
    client = web_password_login(make_staff(product.store).username, "m")
    for action in ("accept", "prepare", "ready"):
        client.post(f"/m/orders/{order.public_id}/{action}")
    wrong = client.post(f"/m/orders/{order.public_id}/collect", {"pickup_code": "nope"})
    assert 'data-code="pickup_code_invalid"' in wrong.content.decode()
    client.post(f"/m/orders/{order.public_id}/collect", {"pickup_code": order.pickup_code})
    order.refresh_from_db()
    assert order.status == "completed"


def test_staff_of_another_store_cannot_act_on_the_order(product):
    order = _paid_order(product)
    outsider = make_staff(make_store(name="隔壁店"))
    client = web_password_login(outsider.username, "m")
    assert order.public_id not in client.get("/m/").content.decode()
    answer = client.post(f"/m/orders/{order.public_id}/accept")
    assert 'data-code="order_not_found"' in answer.content.decode()
    order.refresh_from_db()
    assert order.status == "paid"


def test_unknown_action_is_404(product):
    order = _paid_order(product)
    client = web_password_login(make_staff(product.store).username, "m")
    assert client.post(f"/m/orders/{order.public_id}/explode").status_code == 404


def test_store_switcher_and_today_numbers(product):
    owner = make_staff(product.store, role="owner")
    second = make_store(name="二号店", merchant=product.store.merchant)
    make_product(second, name="二号店的菜")
    _paid_order(product)
    _paid_order(product)
    client = web_password_login(owner.username, "m")
    page = client.get("/m/", {"store": product.store.public_id}).content.decode()
    assert "二号店" in page  # in the switcher
    assert 'data-testid="today-orders">2<' in page
    assert "¥76.00" in page and "¥38.00" in page  # 2 × (3200 + 100 packaging + 500 delivery)
    other = client.get("/m/", {"store": second.public_id}).content.decode()
    assert 'data-testid="today-orders">0<' in other
    assert 'data-testid="console-store">二号店<' in client.get("/m/").content.decode()  # remembered


def test_hour_bars_scale_to_the_busiest_hour():
    chart = hour_bars([0] * 11 + [4, 2] + [0] * 11, width=240, height=120)
    bars = chart["bars"]
    assert len(bars) == 24 and bars[11]["h"] == 100 and bars[12]["h"] == 50 and bars[0]["h"] == 0


def test_a_merchant_without_stores_sees_a_message_not_an_error():
    from linli.merchants.services import merchant_create

    owner = User.objects.create_user(username="new-owner", password=PASSWORD)
    merchant_create(name="新商户", owner=owner)
    answer = web_password_login(owner.username, "m").get("/m/")
    assert answer.status_code == 404 and 'data-code="store_not_found"' in answer.content.decode()


def test_the_queue_shows_where_the_delivery_rider_is(product):
    from linli.delivery.models import DeliveryTask, Rider
    from linli.delivery.services import delivery_accept, dispatch_pending
    from linli.discovery.geo import haversine_m
    from tests.fixtures import make_rider

    order = _paid_order(product)
    staff = make_staff(product.store)
    client = web_password_login(staff.username, "m")
    client.post(f"/m/orders/{order.public_id}/accept")
    page = client.get("/m/", {"part": "queue"}).content.decode()
    assert 'data-testid="rider-coming"' not in page  # no rider yet
    store = product.store
    rider = make_rider(lat=store.lat + 0.009, lng=store.lng)  # ~1 km north of the store
    dispatch_pending()
    task = DeliveryTask.objects.get(order=order)
    delivery_accept(user=rider, task_id=task.public_id)
    client.cookies["django_language"] = "en"
    page = client.get("/m/", {"part": "queue"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    name = Rider.objects.get(user=rider).name
    km = haversine_m(store.lat + 0.009, store.lng, task.pickup_lat, task.pickup_lng) / 1000
    assert 'data-testid="rider-coming"' in page and name in page
    assert f"{km:.1f} km away" in page, page
