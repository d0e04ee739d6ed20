"""Rider app pages: task cards with deadlines, arrive / pick up / deliver with the code
(errors inline on the card), the lockout, late styling and today's earnings."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

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

from .helpers import web_password_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def rider_client():
    phone = next_phone()
    user = User.objects.create_user(username=phone, phone=phone, password=PASSWORD)
    Rider.objects.create(user=user, city_code="shanghai", name="骑手小王")
    client = web_password_login(phone, "r")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the assertions read English labels
    client.post("/r/shift", {"online": "1", "lat": str(PEOPLES_SQUARE[0]), "lng": str(PEOPLES_SQUARE[1])})
    return client


def _task(product, *actions: str, key: str = "w1") -> DeliveryTask:
    consumer = User.objects.create_user(username=next_phone())
    order = order_place(consumer=consumer, store_id=product.store.public_id,
                        lines=[LineInput(product_id=product.public_id, quantity=1)],
                        fulfilment="delivery", address=AddressInput(**delivery_address()),
                        idempotency_key=key).order
    order_transition_as(order=order, action="pay", actor=None, role="system")
    staff = make_staff(product.store)
    for action in ("accept", *actions):
        order_act(order_id=order.public_id, actor=staff, action=action)
    return DeliveryTask.objects.select_related("order__store").get(order=order)


def _card(page: str, task: DeliveryTask) -> str:
    match = re.search(rf'<li class="card order-card task-card[^"]*" data-testid="task" data-task="{task.public_id}".*?</li>\s*(?=<li|</ul>)',
                      page, re.S)
    assert match, page
    return match.group(0)


def test_task_card_shows_store_drop_off_distance_deadlines_and_arrive(rider_client, product):
    task = _task(product)
    page = rider_client.get("/r/").content.decode()
    card = _card(page, task)
    store = task.order.store
    assert store.name in card and store.address in card and "人民大道 200 号" in card
    assert 'data-testid="task-distance">' in card and f"{task.distance_m} m" in card
    assert f'data-deadline="{task.pickup_deadline.isoformat()}"' in card
    assert f'data-deadline="{task.deliver_deadline.isoformat()}"' in card
    assert 'data-testid="accept"' in card and 'data-testid="reject"' in card
    assert 'data-testid="deliver"' not in card and "is-late" not in card
    assert task.delivery_code not in re.sub(r"data-deadline=\"[^\"]*\"|<time[^>]*>", "", card)
    assert 'data-testid="earnings-today">¥0.00<' in page


def test_arrive_then_pick_up_then_deliver_with_the_code(rider_client, product):
    task = _task(product, "prepare", "ready")
    assert rider_client.post(f"/r/tasks/{task.public_id}/arrive").status_code == 302
    card = _card(rider_client.get("/r/").content.decode(), task)
    assert 'data-status="arrived"' in card and 'data-testid="arrive"' not in card
    assert rider_client.post(f"/r/tasks/{task.public_id}/pickup").status_code == 302
    card = _card(rider_client.get("/r/").content.decode(), task)
    assert 'name="code"' in card and 'inputmode="numeric"' in card and 'data-key="0"' in card
    assert '<label for="code-' in card and "5 attempts left" in card
    done = rider_client.post(f"/r/tasks/{task.public_id}/deliver", {"code": task.delivery_code})
    assert done.status_code == 302
    task.refresh_from_db()
    assert task.status == "delivered" and task.rider_fee_fen > 0
    page = rider_client.get("/r/").content.decode()
    assert 'data-testid="delivered-today">1<' in page
    fee = f"¥{task.rider_fee_fen // 100}.{task.rider_fee_fen % 100:02d}"
    assert f'data-testid="earnings-today">{fee}<' in page
    listing = page.split('data-testid="earnings-list"')[1].split("</ul>")[0]
    assert task.order.store.name in listing and fee in listing
    assert 'data-testid="task"' not in page  # delivered: off the to-do list


def test_wrong_code_is_shown_on_the_card_and_five_lock_the_delivery(rider_client, product):
    task = _task(product, "prepare", "ready")
    rider_client.post(f"/r/tasks/{task.public_id}/pickup")
    wrong = f"{(int(task.delivery_code) + 5) % 10_000:04d}"
    answer = rider_client.post(f"/r/tasks/{task.public_id}/deliver", {"code": wrong})
    assert answer.status_code == 400
    card = _card(answer.content.decode(), task)
    assert 'data-code="delivery_code_mismatch"' in card and "4 attempts left" in card
    bad = rider_client.post(f"/r/tasks/{task.public_id}/deliver", {"code": "7"})
    assert bad.status_code == 422 and 'data-code="delivery_code_format"' in _card(bad.content.decode(), task)
    for _ in range(3):
        assert rider_client.post(f"/r/tasks/{task.public_id}/deliver", {"code": wrong}).status_code == 400
    locked = rider_client.post(f"/r/tasks/{task.public_id}/deliver", {"code": wrong})
    assert locked.status_code == 423
    card = _card(locked.content.decode(), task)
    assert 'data-code="delivery_code_locked"' in card and 'data-testid="code-locked"' in card
    assert 'name="code"' not in card
    assert rider_client.post(f"/r/tasks/{task.public_id}/deliver", {"code": task.delivery_code}).status_code == 423
    assert Order.objects.get(pk=task.order_id).status == "delivering"


def test_errors_about_tasks_no_longer_listed_show_at_the_top(rider_client, product):
    task = _task(product, "prepare", "ready")
    rider_client.post(f"/r/tasks/{task.public_id}/pickup")
    rider_client.post(f"/r/tasks/{task.public_id}/deliver", {"code": task.delivery_code})
    again = rider_client.post(f"/r/tasks/{task.public_id}/deliver", {"code": task.delivery_code})
    assert again.status_code == 409 and 'data-code="illegal_transition"' in again.content.decode()
    early = _task(product, key="w2")
    answer = rider_client.post(f"/r/tasks/{early.public_id}/deliver", {"code": early.delivery_code})
    assert answer.status_code == 409 and 'data-code="illegal_transition"' in _card(answer.content.decode(), early)


def test_late_tasks_are_styled_late(rider_client, product):
    task = _task(product, "prepare", "ready")
    DeliveryTask.objects.filter(pk=task.pk).update(
        pickup_deadline=timezone.now() - timedelta(minutes=20),
        deliver_deadline=timezone.now() - timedelta(minutes=3, seconds=5))
    card = _card(rider_client.get("/r/").content.decode(), task)
    assert "task-card is-late" in card and 'class="deadline is-late"' in card
    assert re.search(r'data-testid="deliver-countdown"[^>]*>late by 03:0\d<', card), card


def test_the_live_part_has_the_cards_and_the_earnings_only(rider_client, product):
    task = _task(product)
    part = rider_client.get("/r/", {"part": "tasks"}).content.decode()
    assert "<html" not in part and "<script" not in part
    assert task.public_id in part and 'data-testid="earnings"' in part



def test_the_consumer_order_page_shows_the_delivery_code_until_delivered(rider_client, product):
    task = _task(product, "prepare", "ready", key="code-page")
    consumer = task.order.consumer
    client = Client()
    client.force_login(consumer)
    page = client.get(f"/orders/{task.order.public_id}").content.decode()
    assert f'data-testid="delivery-code">{task.delivery_code}<' in page
    part = client.get(f"/orders/{task.order.public_id}?part=status").content.decode()
    assert f">{task.delivery_code}<" in part
    stranger = Client()
    stranger.force_login(User.objects.create_user(username=next_phone()))
    assert stranger.get(f"/orders/{task.order.public_id}").status_code == 404
    for action in ("arrive", "pickup"):
        rider_client.post(f"/r/tasks/{task.public_id}/{action}")
    rider_client.post(f"/r/tasks/{task.public_id}/deliver", {"code": task.delivery_code})
    task.refresh_from_db()
    assert task.status == "delivered"
    after = client.get(f"/orders/{task.order.public_id}").content.decode()
    assert 'data-testid="delivery-code"' not in after


def test_accept_then_report_a_failed_delivery_and_return_the_goods(rider_client, product):
    task = _task(product, "prepare", "ready")
    assert rider_client.post(f"/r/tasks/{task.public_id}/accept").status_code == 302
    card = _card(rider_client.get("/r/").content.decode(), task)
    assert 'data-status="accepted"' in card and 'data-testid="arrive"' in card and 'data-testid="accept"' not in card
    assert rider_client.post(f"/r/tasks/{task.public_id}/pickup").status_code == 302
    card = _card(rider_client.get("/r/").content.decode(), task)
    assert 'data-testid="fail-reason"' in card and 'value="unreachable"' in card
    refused = rider_client.post(f"/r/tasks/{task.public_id}/fail", {"reason": "other", "note": ""})
    assert refused.status_code == 422 and 'data-testid="fail"' in refused.content.decode()
    assert rider_client.post(f"/r/tasks/{task.public_id}/fail", {"reason": "refused"}).status_code == 302
    card = _card(rider_client.get("/r/").content.decode(), task)
    assert 'data-testid="failed"' in card and 'data-testid="return"' in card
    assert rider_client.post(f"/r/tasks/{task.public_id}/return").status_code == 302
    task.refresh_from_db()
    assert task.status == "returned" and task.fail_reason == "refused"
    assert task.public_id not in rider_client.get("/r/").content.decode()  # off the rider's list
