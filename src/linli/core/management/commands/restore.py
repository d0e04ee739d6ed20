"""`linli restore PATH --yes`: replace the database with a backup, all or nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore the database from a `linli backup` file (replaces everything in it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--yes", action="store_true", help="yes, replace the current data")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError("restore replaces every row of the current database: add --yes to go ahead")
        started = time.perf_counter()
        self.stdout.write(f"restoring {options['path']} ...")
        try:
            done = restore(options["path"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"{done.engine} database restored from {done.path} in {time.perf_counter() - started:.1f} s"))
