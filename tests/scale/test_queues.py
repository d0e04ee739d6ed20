"""Celery queues per concern (issue 15): every registered task has a routing decision, and a
notification published on a real RabbitMQ lands in the `notifications` queue and is
consumed from there by a worker listening to that queue only."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from linli.accounts.models import User
from linli.celery import app as celery_app
from linli.notifications.models import ChannelDelivery, Message
from tests.faults.broker import broker
from tests.fixtures import next_phone

AMQP_URL = os.environ.get("LINLI_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")

INTENDED = {
    "linli.delivery.tasks.dispatch_pending": "dispatch",
    "linli.notifications.tasks.deliver": "notifications",
    "linli.notifications.tasks.deliveries_due": "notifications",
    "linli.finance.tasks.settlement_daily": "settlement",
    "linli.finance.tasks.payouts_retry": "settlement",
    "linli.payments.tasks.payments_sync_task": "settlement",
    "linli.orders.tasks.cancel_unpaid_orders": "default",
    "linli.analytics.tasks.events_flush": "default",
}


def _registered_tasks() -> list[str]:
    celery_app.autodiscover_tasks(force=True)
    return sorted(name for name in celery_app.tasks if not name.startswith("celery."))


def _queue_of(name: str) -> str:
    return celery_app.amqp.router.route({}, name, (), {})["queue"].name


def test_every_registered_task_has_a_routing_decision():
    names = _registered_tasks()
    assert len(names) >= 20  # autodiscovery found the apps' tasks
    undecided = [name for name in names if name not in settings.CELERY_TASK_ROUTES]
    assert undecided == [], "add these tasks to _QUEUE_TASKS in settings.py"
    stale = sorted(set(settings.CELERY_TASK_ROUTES) - set(names))
    assert stale == [], "routes for tasks that no longer exist"
    queues = {_queue_of(name) for name in names}
    assert queues == {"default", "dispatch", "notifications", "settlement"}


def test_tasks_go_to_the_queue_of_their_concern():
    _registered_tasks()
    assert {name: _queue_of(name) for name in INTENDED} == INTENDED


def test_every_beat_entry_names_a_routed_task():
    names = set(_registered_tasks())
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in names
        assert entry["task"] in settings.CELERY_TASK_ROUTES


# --- a real broker ---------------------------------------------------------------------------

def _broker_reachable() -> bool:
    parts = urlsplit(AMQP_URL)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def private_vhost():
    """A RabbitMQ vhost of our own, so a `make serve-prod` worker running on the same broker
    cannot take the message, and nothing is left behind."""
    ctl = shutil.which("rabbitmqctl")
    if not _broker_reachable() or ctl is None:
        pytest.skip("needs RabbitMQ at LINLI_TEST_AMQP_URL and rabbitmqctl")
    vhost = f"linli-test-{uuid.uuid4().hex[:12]}"
    user = urlsplit(AMQP_URL).username or "guest"
    subprocess.run([ctl, "-q", "add_vhost", vhost], check=True, capture_output=True, timeout=60)
    try:
        subprocess.run([ctl, "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
                       check=True, capture_output=True, timeout=60)
        yield f"{AMQP_URL.rstrip('/')}/{vhost}"
    finally:
        subprocess.run([ctl, "-q", "delete_vhost", vhost], capture_output=True, timeout=60)


def _waiting(connection, queue: str) -> int:
    """Messages ready in `queue` (declared as the worker would declare it)."""
    channel = connection.channel()
    try:
        return channel.queue_declare(queue=queue, durable=True, auto_delete=False).message_count
    finally:
        channel.close()


@pytest.mark.django_db(transaction=True)
def test_a_notification_is_queued_on_notifications_and_consumed_by_its_worker(private_vhost, sms_outbox):
    from celery.contrib.testing.worker import start_worker

    _registered_tasks()
    user = User.objects.create_user(username=next_phone(), phone=next_phone())
    message = Message.objects.create(user=user, kind="order", title="订单已接单", body="商家已接单，正在备餐",
                                     created_at=timezone.now(), urgent=True)
    delivery = ChannelDelivery.objects.create(message=message, channel="sms", created_at=timezone.now())

    with broker(private_vhost):  # not eager, pools reset (a stale producer pool publishes to "/")
        with celery_app.connection_for_write() as conn:
            for queue in ("default", "notifications"):
                _waiting(conn, queue)
            celery_app.tasks["linli.notifications.tasks.deliver"].delay(delivery.pk)
            deadline = time.monotonic() + 10
            while _waiting(conn, "notifications") < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _waiting(conn, "notifications") == 1
            assert _waiting(conn, "default") == 0
            with start_worker(celery_app, pool="solo", concurrency=1, perform_ping_check=False,
                              queues=["notifications"], shutdown_timeout=30):
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    delivery.refresh_from_db()
                    if delivery.status == ChannelDelivery.Status.SENT:
                        break
                    time.sleep(0.2)
            assert delivery.status == ChannelDelivery.Status.SENT
            assert any("商家已接单" in text for _phone, text in sms_outbox)
            assert _waiting(conn, "notifications") == 0
