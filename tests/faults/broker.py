"""Point the Celery app at a broker for one test: a dead port, or the real RabbitMQ in a
virtual host of its own, and read what reached a queue there."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from kombu import Connection

from linli.celery import app as celery_app

DEAD = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens there
VHOST = "linli-faults"
LIVE = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"  # the tests' own vhost, made on first use


def _reset_pools() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Tasks go to `url` (not run eagerly) inside the block."""
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = url, False
    _reset_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved
        _reset_pools()


def queue_of(task_name: str) -> str:
    route = getattr(settings, "CELERY_TASK_ROUTES", {}).get(task_name, {})
    return route.get("queue") or getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")


def _vhost_ensure() -> None:
    """Create the tests' vhost (idempotent) when rabbitmqctl is at hand: a new machine has
    only "/", and a worker of `make serve-prod` on "/" must not take the tests' messages."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        return
    subprocess.run([ctl, "-q", "add_vhost", VHOST], capture_output=True, timeout=60)  # exists: fine
    subprocess.run([ctl, "-q", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
                   capture_output=True, timeout=60)


def live_broker_or_skip() -> None:
    for attempt in range(2):
        try:
            with Connection(LIVE, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1)
            return
        except Exception as exc:  # noqa: BLE001
            if attempt == 0:
                _vhost_ensure()
                continue
            pytest.skip(f"RabbitMQ vhost {VHOST} not reachable ({exc}); "
                        f"rabbitmqctl add_vhost {VHOST} && rabbitmqctl set_permissions -p {VHOST} guest '.*' '.*' '.*'")


def drain(*queues: str) -> list[tuple[str, list[Any], dict[str, Any]]]:
    """Take every message off these queues: (task name, args, kwargs), as a worker reads them."""
    taken = []
    with Connection(LIVE) as conn:
        channel = conn.channel()
        for name in queues:
            channel.queue_declare(name, durable=True, auto_delete=False)  # as Celery declares its queues
            while (message := channel.basic_get(name, no_ack=True)) is not None:
                args, kwargs, _embed = json.loads(message.body)
                taken.append((message.headers["task"], args, kwargs))
    return taken
