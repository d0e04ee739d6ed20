"""The outbox relay (`LINLI_OUTBOX_RELAY=1`, core/outbox.py): the writer only writes the row,
the relay sends it once its transaction commits (on PostgreSQL woken by the table's
NOTIFY trigger), never for a rolled-back change, once per row however many relays run;
and a web process in this mode never loads Celery. Against the real RabbitMQ (vhost
linli-faults) and, for the NOTIFY cases, PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from linli.celery import app as celery_app
from linli.celery import beat_schedule
from linli.core.models import OutboxMessage
from linli.core.outbox import enqueue, outbox_relay

from .broker import LIVE, broker, drain, live_broker_or_skip, queue_of

pytestmark = pytest.mark.django_db(transaction=True)

DELIVER = "linli.notifications.tasks.deliver"


@contextmanager
def relays(count: int = 1, poll: float = 5.0) -> Iterator[None]:
    """`count` relays in threads (each with its own database connection), stopped after."""
    stopping = threading.Event()

    def run() -> None:
        try:
            outbox_relay(poll=poll, stop=stopping.is_set)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stopping.set()
        for thread in threads:
            thread.join(timeout=poll + 5)
        assert not any(thread.is_alive() for thread in threads)


def _wait_for(queue: str, count: int, seconds: float) -> tuple[list, float]:
    started, taken = time.monotonic(), []
    while time.monotonic() - started < seconds and len(taken) < count:
        taken += drain(queue)
        time.sleep(0.02)
    return taken, time.monotonic() - started


@pytest.fixture
def relay_mode(settings):
    live_broker_or_skip()
    settings.LINLI_OUTBOX_RELAY = True
    drain(queue_of(DELIVER))
    with broker(LIVE):
        yield queue_of(DELIVER)


def test_the_writer_only_writes_and_the_relay_sends_after_commit(relay_mode):
    queue = relay_mode
    with transaction.atomic():
        enqueue(DELIVER, 333)
    assert list(OutboxMessage.objects.values_list("task", "args")) == [(DELIVER, [333])]
    assert drain(queue) == []  # the committing process sent nothing
    with relays():
        taken, _ = _wait_for(queue, 1, 10)
    assert taken == [(DELIVER, [333], {})]
    assert not OutboxMessage.objects.exists()


def test_a_rolled_back_change_sends_nothing(relay_mode):
    queue = relay_mode
    with relays(poll=0.2):
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue(DELIVER, 444)
            raise RuntimeError("the change fails")
        time.sleep(1)  # five of the relay's looks
    assert drain(queue) == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.postgres
def test_on_postgresql_the_commit_wakes_the_relay_at_once(relay_mode):
    """The relay looks only every 5 s here: a send well under that came from the NOTIFY."""
    queue = relay_mode
    with relays(poll=5.0):
        time.sleep(0.5)  # the relay has flushed nothing and is waiting
        delays = []
        for n in range(5):
            with transaction.atomic():
                enqueue(DELIVER, 500 + n)
            taken, waited = _wait_for(queue, 1, 10)
            assert taken == [(DELIVER, [500 + n], {})]
            delays.append(waited)
    assert max(delays) < 2.0, delays


@pytest.mark.postgres
def test_three_relays_send_each_of_many_rows_exactly_once(relay_mode):
    queue = relay_mode
    writers = 4

    def write(offset: int) -> None:
        try:
            for n in range(50):
                with transaction.atomic():
                    enqueue(DELIVER, offset + n)
        finally:
            connection.close()

    with relays(count=3, poll=0.5):
        threads = [threading.Thread(target=write, args=(1000 * w,)) for w in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        taken, _ = _wait_for(queue, 200, 30)
        time.sleep(1)
        taken += drain(queue)  # anything sent twice would be here by now
    sent = sorted(args[0] for _name, args, _kwargs in taken)
    assert sent == sorted(1000 * w + n for w in range(writers) for n in range(50))
    assert not OutboxMessage.objects.exists()


def test_a_web_process_in_relay_mode_never_loads_celery():
    """Start-up, the URL conf and an enqueue in a fresh interpreter, as a web worker with
    `LINLI_OUTBOX_RELAY=1` beside a broker: the row is written, Celery is not imported."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        url = f"sqlite:///{db['NAME']}"
    if "memory" in str(db["NAME"]):
        pytest.skip("an in-memory SQLite test database is not shared with another process")
    code = ("import sys\nimport linli.wsgi\nfrom linli.core.outbox import enqueue\n"
            f"enqueue({DELIVER!r}, 777)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'celery', 'kombu', 'amqp', 'billiard'}))")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DATABASE_URL=url, LINLI_OUTBOX_RELAY="1", CELERY_BROKER_URL=LIVE, LINLI_LOG_LEVEL="ERROR")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert list(OutboxMessage.objects.values_list("task", "args")) == [(DELIVER, [777])]


def test_daily_beat_entries_become_crontabs_for_celery(settings):
    """settings.py names the daily schedules as data (it must not import Celery); the app
    turns them into crontabs."""
    entries = celery_app.conf.beat_schedule
    daily = entries["finance-settlement-daily"]["schedule"]
    assert (daily.hour, daily.minute) == ({18}, {30})
    assert entries["orders-cancel-unpaid"]["schedule"] == 60.0
    assert settings.CELERY_BEAT_SCHEDULE["finance-settlement-daily"]["schedule"] == {
        "crontab": {"hour": 18, "minute": 30}}
    remade = beat_schedule({"x": {"task": "t", "schedule": {"crontab": {"hour": 3, "minute": 0}}}})
    assert remade["x"]["schedule"].is_due  # a celery schedule object
    assert remade["x"]["task"] == "t"


@pytest.mark.postgres
def test_a_relay_whose_connection_is_killed_reconnects_and_listens_again(relay_mode):
    queue = relay_mode
    with relays(poll=0.5):
        time.sleep(1)  # listening
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE pid <> pg_backend_pid() AND datname = current_database() "
                           "AND query LIKE '%%core_outbox_message%%'")  # the relay's last look
            assert cursor.fetchone() is not None  # there was one to kill
        time.sleep(2)  # the relay notices, waits a poll, reconnects and LISTENs again
        with transaction.atomic():
            enqueue(DELIVER, 888)
        taken, _ = _wait_for(queue, 1, 10)
    assert taken == [(DELIVER, [888], {})]
