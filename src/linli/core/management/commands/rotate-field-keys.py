"""`linli rotate-field-keys`: rewrite every encrypted column under the current field key.

Put the new key first in `LINLI_FIELD_KEYS` (keeping the old ones after it), deploy, run
this; when it reports nothing left, the old keys can be removed (docs/security.md "Field
encryption"). Batches commit one by one, so it can be stopped and run again.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.core.field_keys import BATCH_SIZE, encrypted_models, reencrypt, stale_count
from linli.core.fields import field_keyring
from linli.core.progress import Progress


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column with the current key of LINLI_FIELD_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--dry-run", action="store_true", help="only count the stale rows")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        current = field_keyring().current
        plan = [(model, names, stale_count(model, names)) for model, names in encrypted_models()]
        total = sum(count for _, _, count in plan)
        for model, names, count in plan:
            self.stdout.write(f"{model._meta.label}: {count} row(s) to re-encrypt ({', '.join(names)})")
        if options["dry_run"] or total == 0:
            self.stdout.write(self.style.SUCCESS(f"nothing left under keys other than {current!r}"
                                                 if total == 0 else f"{total} row(s) stale"))
            return
        done = 0
        with Progress(total, f"re-encrypting with {current}") as bar:
            for model, names, count in plan:
                if count:
                    done += reencrypt(model, names, batch_size=max(1, options["batch_size"]),
                                      on_batch=bar.advance)
        self.stdout.write(self.style.SUCCESS(
            f"{done} row(s) re-encrypted with key {current!r} in {time.perf_counter() - started:.1f} s"))
