"""`linli recommend_train`: retrain the recommendations now (the nightly job), with progress."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from linli.discovery.recommendations import recommendations_train


class Command(BaseCommand):
    help = "Train 'guess you like' and 'also bought' on the last year of orders."

    def handle(self, *args: Any, **options: Any) -> None:
        run = recommendations_train(progress=lambda message: self.stdout.write(f"  {message}"))
        self.stdout.write(self.style.SUCCESS(
            f"trained on {run.orders:,} orders: {run.users:,} users, {run.stores:,} stores, "
            f"{run.rows_written:,} rows, {run.took_ms / 1000:.1f} s"))
