"""`linli backup [--output PATH]`: a consistent copy of the database (docs/operations.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.core.backup import BackupError, backup, default_path


class Command(BaseCommand):
    help = "Back up the database: SQLite backup API or pg_dump (custom format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, default=None,
                            help="file to write (default: var/backups/linli-<UTC time>.<kind>)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["output"] or default_path(Path(settings.VAR_DIR) / "backups")
        started = time.perf_counter()
        self.stdout.write(f"backing up to {path} ...")
        try:
            done = backup(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"{done.engine} backup written: {done.path} ({done.bytes / 1e6:.1f} MB, "
            f"{time.perf_counter() - started:.1f} s)"))
