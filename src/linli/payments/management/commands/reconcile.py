"""`linli reconcile --provider sandbox --date 2026-11-24`: compare a gateway's daily
statement with our ledger and list every mismatch (exit status 1 if any)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.payments.gateways import GatewayUnavailable, available_providers
from linli.payments.reconcile import STATEMENT_TZ, reconcile


class Command(BaseCommand):
    help = "Compare a payment provider's statement for one day with our records."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", default="sandbox")
        parser.add_argument("--date", help="YYYY-MM-DD, China time (default: yesterday)")

    def handle(self, *args: Any, **options: Any) -> None:
        provider = options["provider"]
        if provider not in available_providers():
            raise CommandError(f"unknown or unconfigured provider {provider!r}; "
                               f"available: {', '.join(available_providers())}")
        try:
            day = (dt.date.fromisoformat(options["date"]) if options["date"]
                   else dt.datetime.now(STATEMENT_TZ).date() - dt.timedelta(days=1))
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD: {exc}") from exc
        self.stdout.write(f"Downloading the {provider} statement for {day} …")
        try:
            run = reconcile(provider=provider, day=day)
        except GatewayUnavailable as exc:
            raise CommandError(f"{provider} did not answer: {exc.details}") from exc
        self.stdout.write(f"matched: {run.matched}   mismatches: {len(run.mismatches)}")
        for row in run.mismatches:
            self.stdout.write(f"  {row['problem']:<15} {row['kind']:<8} {row['ref']:<34} "
                              f"ours={row['ours_fen']} theirs={row['theirs_fen']}")
        if run.mismatches:
            self.stdout.flush()
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("statement and ledger agree"))
