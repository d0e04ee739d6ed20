"""`linli outbox_relay [--poll 1.0]`: send committed task rows to the broker as they come
(core/outbox.py, docs/operations.md). Run one or more beside web workers started with
`LINLI_OUTBOX_RELAY=1`; stops on SIGTERM or Ctrl-C after the send in progress."""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.core.outbox import outbox_pending, outbox_relay


class Command(BaseCommand):
    help = "Send the transactional outbox's committed task rows to the broker as they come."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--poll", type=float, default=1.0,
                            help="seconds between looks when no notice comes (default 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("no CELERY_BROKER_URL: tasks run in-process, there is nothing to relay")
        if not 0.05 <= options["poll"] <= 60:
            raise CommandError("--poll must be between 0.05 and 60 seconds")
        stopping: list[int] = []

        def stop(signum: int, _frame: Any) -> None:
            stopping.append(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        sent = 0

        def report(counts: dict[str, int]) -> None:
            nonlocal sent
            sent += counts["sent"]
            if counts["failed"]:
                self.stderr.write(f"outbox relay: the broker refused a send; {counts['left']} rows wait")

        self.stdout.write(f"outbox relay: {outbox_pending()} rows waiting; sending as they commit")
        outbox_relay(poll=options["poll"], stop=lambda: bool(stopping), on_flush=report)
        self.stdout.write(f"outbox relay: stopped, {sent} sent, {outbox_pending()} waiting")
