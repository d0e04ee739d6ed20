"""The transactional outbox: the one way application code enqueues a Celery task.

`enqueue("linli.app.tasks.name", *args, countdown=None, **kwargs)` inside a transaction
writes a row in that transaction, and the task is sent to the broker once the transaction
commits; outside one it is written and sent at once. If the broker cannot be reached the
request still succeeds: the row stays, and the periodic `outbox_flush` (beat, every 30 s)
sends it later, with a growing delay between attempts for each row. So a task is never
sent for a rolled-back change and never lost for a committed one. Delivery is at least
once (a process killed between the broker's acknowledgement and the row's deletion sends
the row again): tasks must be idempotent, as every task here already is (they re-read
state and act only if still due).

Who sends a committed row:
- by default the process that wrote it, from its commit hook;
- with `LINLI_OUTBOX_RELAY=1` the outbox relay (`linli outbox_relay`, a process of its
  own): on PostgreSQL a trigger on the table NOTIFYs it at each commit that wrote rows
  (migration 0002), and it sends within milliseconds; it also looks every second. Web
  workers then never import Celery, its broker client or its serialisers (~10 MB each;
  docs/scaling.md), and spend no time on the broker in a request. Tasks are named by
  their registered name for the same reason: a task object means importing Celery.

With eager tasks (no broker: the embedded mode and most tests) nothing is written: the task
runs in-process after commit, as `.delay()` did.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from .models import OutboxMessage

log = logging.getLogger(__name__)

# A row the commit hook is sending right now must not also be picked by a sweep: the
# sweep leaves new rows alone for this long.
SWEEP_GRACE = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=10)
CHANNEL = "linli_outbox"  # what migration 0002's trigger NOTIFYs


def _celery() -> Any:
    from linli.celery import app

    return app


def _eager() -> bool:
    # The app's setting once Celery is loaded (tests switch it there); until then the
    # setting it is made from, so that asking does not load Celery.
    if "linli.celery" in sys.modules:
        return bool(_celery().conf.task_always_eager)
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def _name(task: Any) -> str:
    return task if isinstance(task, str) else str(task.name)


def enqueue(task: Any, *args: Any, countdown: float | None = None, **kwargs: Any) -> None:
    """Send `task` (its registered name; a task object works too) with these arguments once
    the current transaction commits; never raises because the broker is down
    (docs/reliability.md)."""
    name = _name(task)
    if _eager():
        def run() -> None:
            import_module(name.rpartition(".")[0])  # registers the task with the app
            _celery().tasks[name].apply_async(args, kwargs, countdown=countdown)

        transaction.on_commit(run)  # outside a transaction: runs at once
        return
    now = timezone.now()
    relayed = settings.LINLI_OUTBOX_RELAY
    row = OutboxMessage.objects.create(
        task=name, args=list(args), kwargs=kwargs,
        not_before=now + timedelta(seconds=countdown) if countdown else None,
        next_attempt_at=now if relayed else now + SWEEP_GRACE)
    if not relayed:
        row_id = row.pk
        transaction.on_commit(lambda: _send_one(row_id), robust=True)


def _publish(row: OutboxMessage, now: datetime) -> None:
    """Fail fast (one connection attempt, no publish retries): the row is the retry, and a
    request must not wait seconds for a broker that is down (`.delay()` waits ~0.8 s and
    then raises; a plain `send_task(retry=False)` still spends 6 s reconnecting)."""
    options: dict[str, Any] = {"retry": False}
    if row.not_before is not None and row.not_before > now:
        options["eta"] = row.not_before
    app = _celery()
    with app.pool.acquire(block=True) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0)
        app.send_task(row.task, args=row.args, kwargs=row.kwargs, connection=conn, **options)


def _failed(row: OutboxMessage, exc: Exception, now: datetime) -> None:
    row.attempts += 1
    backoff = min(timedelta(seconds=5 * 2 ** min(row.attempts, 10)), MAX_BACKOFF)
    OutboxMessage.objects.filter(pk=row.pk).update(
        attempts=row.attempts, next_attempt_at=now + backoff, last_error=repr(exc)[:300])
    log.warning("task %s not sent (attempt %d), retried in %s: %r", row.task, row.attempts, backoff, exc)


def _send_one(row_id: int) -> bool:
    """Send one row and delete it; True if sent. A row another process holds (a sweep)
    or has already sent is left alone."""
    now = timezone.now()
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=row_id).first()
        if row is None:
            return False
        try:
            _publish(row, now)
        except Exception as exc:  # noqa: BLE001 - any broker failure: keep the row for the sweep
            _failed(row, exc, now)
            return False
        row.delete()
    return True


def outbox_flush(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send the rows that are due (their commit-time send failed, or the process died
    before it). Stops at the first failure: the broker is still down, the rest wait for the
    next sweep rather than each paying a failed connection."""
    now = now or timezone.now()
    counts = {"sent": 0, "failed": 0, "left": 0}
    due = list(OutboxMessage.objects.filter(next_attempt_at__lte=now)
               .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    for row_id in due:
        with transaction.atomic():
            row = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=row_id).first()
            if row is None:
                continue
            try:
                _publish(row, now)
            except Exception as exc:  # noqa: BLE001
                _failed(row, exc, now)
                counts["failed"] += 1
                break
            row.delete()
            counts["sent"] += 1
    counts["left"] = OutboxMessage.objects.count()
    return counts


def outbox_pending() -> int:
    """How many task sends wait for the broker (the health check and docs use it)."""
    return OutboxMessage.objects.count()


def outbox_relay(*, poll: float = 1.0, stop: Callable[[], bool] = lambda: False,
                 on_flush: Callable[[dict[str, int]], None] | None = None) -> None:
    """Send committed rows as they come (`linli outbox_relay`): flush what is due, then wait
    for the table trigger's NOTIFY (PostgreSQL) or `poll` seconds, until `stop()`. A row
    that committed while a flush ran is caught by the flush after it: the loop flushes
    until a pass finds nothing due. Several relays may run: each row is taken under
    `SKIP LOCKED` and deleted in the transaction that sent it."""
    listening = False
    while not stop():
        try:
            if connection.vendor == "postgresql" and not listening:
                connection.ensure_connection()
                with connection.cursor() as cursor:
                    cursor.execute(f"LISTEN {CHANNEL}")
                listening = True
            while True:
                counts = outbox_flush(limit=200)
                if on_flush and (counts["sent"] or counts["failed"]):
                    on_flush(counts)
                if counts["failed"] or counts["sent"] < 200:
                    break
            if listening and not counts["failed"]:
                for _notice in connection.connection.notifies(timeout=poll, stop_after=1):
                    pass
            else:  # no NOTIFY here, or the broker is down (the rows' backoff paces retries)
                time.sleep(poll)
        # Django's errors, or the driver's own from notifies(), which Django does not wrap:
        # the database restarted or dropped us, so reconnect and listen again.
        except (DatabaseError, connection.Database.Error) as exc:
            log.warning("outbox relay: %r; reconnecting", exc)
            connection.close()
            listening = False
            time.sleep(poll)
