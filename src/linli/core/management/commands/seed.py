"""`linli seed`: fill the database with a believable city for demos and load tests."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.core.seed.cities import CITIES
from linli.core.seed.run import seed_needed, seed_run


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


class Command(BaseCommand):
    help = "Seed demo data: merchants with stores and menus, consumers, riders, demo accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchants", type=_count, default=2000)
        parser.add_argument("--users", type=_count, default=500, help="consumers")
        parser.add_argument("--riders", type=_count, default=100)
        parser.add_argument("--city", choices=sorted(CITIES), default="shanghai")
        parser.add_argument("--seed", type=int, default=42, help="same seed, same city")
        parser.add_argument("--menus", choices=("typical", "large"), default="typical",
                            help="typical: 6-15 products a store; large: 16-26 with set meals")
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing when the database already has stores")

    def handle(self, *args: Any, **options: Any) -> None:
        if not seed_needed(if_empty=options["if_empty"]):
            self.stdout.write("Stores already exist; nothing seeded (--if-empty).")
            return
        result = seed_run(
            city=options["city"], merchants=options["merchants"], users=options["users"],
            riders=options["riders"], seed=options["seed"], progress=options["verbosity"] > 0,
            menus=options["menus"],
        )
        self.stdout.write(self.style.SUCCESS(result.summary()))
        self.stdout.write("Demo accounts:")
        for account in result.demo_accounts:
            password = account.password or "(SMS code)"
            line = f"  {account.role:<15} {account.login:<16} {password:<17} {account.note}"
            self.stdout.write(line)
