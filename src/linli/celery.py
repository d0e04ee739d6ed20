"""Celery application. Without CELERY_BROKER_URL every task runs eagerly in-process.

Imported by Celery's own processes (`celery -A linli`), by the outbox when it runs or sends
a task (core/outbox.py) and by the task modules; not by `linli/__init__.py` nor the
settings, so a web worker that hands its sends to the outbox relay never loads Celery
(~10 MB of each worker: docs/scaling.md). Task modules bind to this app explicitly
(`@app.task`), not through `shared_task`'s "current app".
"""

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")

app = Celery("linli")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule(entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """settings.CELERY_BEAT_SCHEDULE with each `{"crontab": {...}}` schedule made a crontab."""
    def schedule(value: Any) -> Any:
        return crontab(**value["crontab"]) if isinstance(value, dict) else value

    return {name: {**entry, "schedule": schedule(entry["schedule"])} for name, entry in entries.items()}


@app.on_after_configure.connect
def _daily_entries(sender: Celery, **_kwargs: Any) -> None:
    sender.conf.beat_schedule = beat_schedule(sender.conf.beat_schedule or {})


@task_prerun.connect(weak=False, dispatch_uid="linli-dbrouter-unpin")
def _unpin_replica_reads(**_kwargs: Any) -> None:
    """A task starts with reads on the primary unpinned, as a request does (core/dbrouter.py)."""
    from linli.core.dbrouter import unpin

    unpin()
