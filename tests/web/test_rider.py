"""Rider app: login, going online with a location, picking up and delivering."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.delivery.models import DeliveryTask, Rider
from linli.orders.models import Order
from linli.orders.services import (
    AddressInput,
    LineInput,
    order_act,
    order_place,
    order_transition_as,
)
from tests.fixtures import PASSWORD, PEOPLES_SQUARE, delivery_address, make_staff, next_phone

from .helpers import web_password_login, web_sms_login

pytestmark = pytest.mark.django_db


def _rider(online: bool = False) -> User:
    phone = next_phone()
    user = User.objects.create_user(username=phone, phone=phone, password=PASSWORD)
    Rider.objects.create(user=user, city_code="shanghai", name="骑手小李", is_online=online)
    return user


def _accepted_delivery_order(product) -> Order:
    consumer = User.objects.create_user(username=next_phone(), phone=next_phone())
    order = order_place(consumer=consumer, store_id=product.store.public_id,
                        lines=[LineInput(product_id=product.public_id, quantity=1)],
                        fulfilment="delivery", address=AddressInput(**delivery_address()),
                        idempotency_key="r1").order
    order_transition_as(order=order, action="pay", actor=None, role="system")
    staff = make_staff(product.store)
    for action in ("accept", "prepare", "ready"):
        order_act(order_id=order.public_id, actor=staff, action=action)
    return order


def test_login_by_phone_and_password():
    rider = _rider()
    client = web_password_login(rider.phone, "r")
    assert client.get("/r/").status_code == 200


def test_non_riders_are_refused(store):
    staff = make_staff(store)
    answer = Client().post("/r/login", {"login": staff.username, "password": PASSWORD})
    assert answer.status_code == 403 and 'data-code="not_a_rider"' in answer.content.decode()
    assert web_sms_login(next_phone()).get("/r/").status_code == 403
    assert Client().get("/r/")["Location"].startswith("/r/login")


def test_go_online_needs_a_valid_location():
    rider = _rider()
    client = web_password_login(rider.phone, "r")
    missing = client.post("/r/shift", {"online": "1", "lat": "", "lng": ""})
    assert 'data-code="invalid_location"' in missing.content.decode()
    bad = client.post("/r/shift", {"online": "1", "lat": "abc", "lng": "121"})
    assert 'data-code="invalid_location"' in bad.content.decode()
    assert not Rider.objects.get(user=rider).is_online
    ok = client.post("/r/shift", {"online": "1", "lat": str(PEOPLES_SQUARE[0]), "lng": str(PEOPLES_SQUARE[1])})
    assert ok.status_code == 302 and Rider.objects.get(user=rider).is_online
    client.post("/r/shift", {"online": "0"})
    assert not Rider.objects.get(user=rider).is_online


def test_assigned_task_is_picked_up_and_delivered(product):
    rider = _rider()
    client = web_password_login(rider.phone, "r")
    client.post("/r/shift", {"online": "1", "lat": str(PEOPLES_SQUARE[0]), "lng": str(PEOPLES_SQUARE[1])})
    order = _accepted_delivery_order(product)
    task = DeliveryTask.objects.get(order=order)
    page = client.get("/r/").content.decode()
    assert task.public_id in page and product.store.address in page and "人民大道" in page
    assert client.post(f"/r/tasks/{task.public_id}/deliver").status_code == 409  # not picked up yet
    assert client.post(f"/r/tasks/{task.public_id}/pickup").status_code == 302
    task.refresh_from_db()  # the consumer's delivery code is now required to hand over
    assert client.post(f"/r/tasks/{task.public_id}/deliver", {"code": task.delivery_code}).status_code == 302
    order.refresh_from_db()
    assert order.status == "delivered"
    assert 'data-testid="delivered-today">1<' in client.get("/r/").content.decode()


def test_another_riders_task_is_not_found(product):
    mine = _rider()
    web_password_login(mine.phone, "r").post(
        "/r/shift", {"online": "1", "lat": str(PEOPLES_SQUARE[0]), "lng": str(PEOPLES_SQUARE[1])})
    order = _accepted_delivery_order(product)
    task = DeliveryTask.objects.get(order=order)
    other = web_password_login(_rider().phone, "r")
    answer = other.post(f"/r/tasks/{task.public_id}/pickup")
    assert answer.status_code == 404 and 'data-code="delivery_task_not_found"' in answer.content.decode()
    assert other.post(f"/r/tasks/{task.public_id}/fly").status_code == 404


def test_the_assigned_rider_hears_about_the_order_live(product, django_capture_on_commit_callbacks):
    from linli.core.realtime import subscribe
    from linli.web.events import rider_channel

    rider = _rider()
    client = web_password_login(rider.phone, "r")
    client.post("/r/shift", {"online": "1", "lat": str(PEOPLES_SQUARE[0]), "lng": str(PEOPLES_SQUARE[1])})
    stream = client.get("/events/rider")
    assert stream.status_code == 200
    stream.close()
    with subscribe(rider_channel(Rider.objects.get(user=rider).public_id)) as sub:
        with django_capture_on_commit_callbacks(execute=True):
            order = _accepted_delivery_order(product)
        statuses = [sub.get(timeout=1)["status"] for _ in range(3)]
    assert statuses == ["accepted", "preparing", "ready"]
    part = client.get("/r/", {"part": "tasks"}).content.decode()
    assert "<html" not in part and DeliveryTask.objects.get(order=order).public_id in part


def test_rider_event_stream_refuses_non_riders():
    assert web_sms_login(next_phone()).get("/events/rider").status_code == 403
