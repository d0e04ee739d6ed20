"""`linli openapi_build [--out PATH]`: write the API's OpenAPI document for workers to serve
from the file (`LINLI_OPENAPI_FILE`, core/openapi_file.py). Run on every deploy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from ninja.responses import NinjaJSONEncoder

from linli.core.openapi_file import configured_path, write_document


class Command(BaseCommand):
    help = "Build the OpenAPI document once, for workers to serve from LINLI_OPENAPI_FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=None,
                            help="where to write it (default: LINLI_OPENAPI_FILE)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["out"] or configured_path()
        if path is None:
            raise CommandError("give --out or set LINLI_OPENAPI_FILE")
        from linli.api import api

        document = api.build_openapi_schema()
        size = write_document(document, path, NinjaJSONEncoder)
        self.stdout.write(f"openapi_build: {len(document['paths'])} paths, {size:,} bytes -> {path}")
