"""The Celery broker is down (issue 14, docs/reliability.md): requests that enqueue tasks
still succeed, the tasks wait in the transactional outbox (core/outbox.py), and once the
broker is back the sweep sends them and they run. The "back" half uses the real RabbitMQ
(vhost linli_h4); the test skips if it is not there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from linli.celery import app as celery_app
from linli.core.models import OutboxMessage
from linli.core.outbox import enqueue, outbox_flush
from linli.notifications.models import ChannelDelivery
from linli.notifications.services import preference_update
from linli.notifications.tasks import deliver
from linli.orders.models import Order
from tests.fixtures import (
    delivery_address,
    make_product,
    make_staff,
    make_store,
    next_phone,
    token_api,
)

from .broker import DEAD, LIVE, broker, drain, live_broker_or_skip, queue_of

pytestmark = pytest.mark.django_db(transaction=True)

NOTIFY = "linli.payments.tasks.sandbox_notify"
DELIVER = "linli.notifications.tasks.deliver"


def _run_as_a_worker(messages):
    """What a worker does with each message: run the named task with its arguments. A
    worker imports every app's task modules when it starts; this process may not have
    (callers name their tasks, so nothing else imports them), so they are discovered here."""
    celery_app.autodiscover_tasks(force=True)
    return [celery_app.tasks[name].apply(args=args, kwargs=kwargs).get() for name, args, kwargs in messages]


def test_checkout_with_the_broker_down_succeeds_and_its_tasks_run_once_it_is_back(django_user_model):
    live_broker_or_skip()
    drain(queue_of(NOTIFY), queue_of(DELIVER))  # nothing left from an earlier run
    store = make_store(delivery_radius_m=10_000)
    product = make_product(store)
    consumer = django_user_model.objects.create_user(username=next_phone(), phone=next_phone())
    preference_update(user=consumer, changes={"order_push": True, "quiet_start": None, "quiet_end": None})
    buyer, staff = token_api(consumer), token_api(make_staff(store, role="manager"))
    with broker(DEAD):
        placed = buyer.post("/orders", {"store_id": store.public_id, "fulfilment": "delivery",
                                        "address": delivery_address(),
                                        "items": [{"product_id": product.public_id, "quantity": 2}]},
                            headers={"Idempotency-Key": "broker-down-1"})
        assert placed.status_code == 201, placed.content
        order_id = placed.json()["id"]
        payment = buyer.post(f"/orders/{order_id}/payments", {"provider": "sandbox"})
        assert payment.status_code == 201, payment.content
        # The buyer pays on the gateway's page; its notification is a task, and the broker is down.
        assert Client().post(payment.json()["pay_url"]).status_code == 302
        waiting = list(OutboxMessage.objects.values_list("task", "attempts"))
        assert waiting == [(NOTIFY, 1)], waiting  # tried once at commit, kept
        assert Order.objects.get(public_id=order_id).status == "pending_payment"
        # a sweep while the broker is still down loses nothing
        assert outbox_flush(now=timezone.now() + timedelta(minutes=1))["failed"] == 1
        assert OutboxMessage.objects.get().attempts == 2
    with broker(LIVE):
        assert outbox_flush(now=timezone.now() + timedelta(minutes=5)) == {"sent": 1, "failed": 0, "left": 0}
        messages = drain(queue_of(NOTIFY))
        assert [name for name, _args, _kwargs in messages] == [NOTIFY]
        assert _run_as_a_worker(messages) == ["paid"]
    assert Order.objects.get(public_id=order_id).status == "paid"
    with broker(DEAD):  # accepting notifies the buyer by push: a task
        accepted = staff.post(f"/merchant/orders/{order_id}/accept")
        assert accepted.status_code == 200, accepted.content
        assert list(OutboxMessage.objects.values_list("task", flat=True)) == [DELIVER]
        push = ChannelDelivery.objects.get(message__user=consumer, channel="push")
        assert push.status == ChannelDelivery.Status.PENDING
    with broker(LIVE):
        assert outbox_flush(now=timezone.now() + timedelta(minutes=5))["sent"] == 1
        messages = drain(queue_of(DELIVER))
        assert messages == [(DELIVER, [push.pk], {})]
        _run_as_a_worker(messages)
    push.refresh_from_db()
    assert push.status == ChannelDelivery.Status.SENT
    assert not OutboxMessage.objects.exists()


def test_a_task_is_sent_at_commit_and_never_for_a_rolled_back_change():
    live_broker_or_skip()
    queue = queue_of(DELIVER)
    drain(queue)
    with broker(LIVE):
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue(deliver, 111)
            raise RuntimeError("the change fails")
        assert not OutboxMessage.objects.exists()
        with transaction.atomic():
            enqueue(deliver, 222)
            assert OutboxMessage.objects.count() == 1  # written with the change...
            assert drain(queue) == []  # ...and not sent before the commit
        assert not OutboxMessage.objects.exists()  # sent at commit, row gone
        assert drain(queue) == [(DELIVER, [222], {})]


def test_sends_that_keep_failing_back_off_and_a_sweep_stops_at_the_first_failure():
    with broker(DEAD):
        for i in range(3):
            enqueue(deliver, i)  # outside a transaction: written and tried at once
        assert list(OutboxMessage.objects.values_list("attempts", flat=True)) == [1, 1, 1]
        first = OutboxMessage.objects.order_by("pk").first()
        assert first.next_attempt_at - timezone.now() > timedelta(seconds=5)
        later = timezone.now() + timedelta(hours=1)
        assert outbox_flush(now=later) == {"sent": 0, "failed": 1, "left": 3}
        first.refresh_from_db()
        assert first.attempts == 2 and first.next_attempt_at > later + timedelta(seconds=15)
        assert "Connection refused" in first.last_error or first.last_error


def test_without_a_broker_tasks_run_in_process_and_nothing_is_kept(settings):
    """The embedded mode (eager tasks): enqueue behaves as `.delay()` after commit did."""
    assert celery_app.conf.task_always_eager
    with transaction.atomic():
        enqueue(deliver, 987654)  # no such delivery: the task answers, it does not fail
        assert not OutboxMessage.objects.exists()
    assert not OutboxMessage.objects.exists()
