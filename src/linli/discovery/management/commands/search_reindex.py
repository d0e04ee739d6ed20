"""`linli search_reindex`: rebuild the search index (after bulk `.update()` writes, a
restore, or a change of tokenisation)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.core.progress import Progress
from linli.discovery.search_index import search_index_rebuild


class Command(BaseCommand):
    help = "Rebuild the store and product search index, for one city or all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--city", help="only this city_code (default: every city)")

    def handle(self, *args: Any, **options: Any) -> None:
        bar: Progress | None = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if options["verbosity"] == 0:
                return
            if bar is None:
                bar = Progress(total, "stores")
            bar.advance(done - bar.done)

        try:
            written = search_index_rebuild(city_code=options["city"], progress=progress)
        finally:
            if bar is not None:
                bar.close()
        where = f"city {options['city']}" if options["city"] else "all cities"
        self.stdout.write(self.style.SUCCESS(f"Indexed {written} documents ({where})."))
