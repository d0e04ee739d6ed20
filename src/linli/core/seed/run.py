"""`linli seed` end to end: plan in memory, write in chunks, report what was made."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from linli.core.progress import Progress
from linli.merchants.models import Store

from .cities import CITIES, City
from .demo import DEMO_PHONES, DemoAccount, demo_accounts_ensure
from .plan import CityPlanner
from .writer import (
    Counts,
    categories_ensure,
    consumers_write,
    merchants_write,
    next_number,
    riders_write,
    taken_phones,
)

MERCHANTS_PER_CHUNK = 250  # one transaction each; ~2,700 products
PEOPLE_PER_CHUNK = 1000


@dataclass
class SeedResult:
    city: City
    counts: Counts
    seconds: float
    demo_accounts: list[DemoAccount] = field(default_factory=list)

    def summary(self) -> str:
        c = self.counts
        return (f"Seeded {self.city.name} ({self.city.slug}): {c.merchants} merchants, "
                f"{c.stores} stores, {c.products} products, {c.stock_items} stock items, "
                f"{c.consumers} consumers, {c.riders} riders in {self.seconds:.1f} s.")


def seed_needed(*, if_empty: bool) -> bool:
    """False when asked to seed only an empty database and it has stores already."""
    return not (if_empty and Store.objects.exists())


def _in_chunks(total: int, size: int, label: str, show: bool,
               write_chunk: Callable[[int, int], Counts]) -> Counts:
    """Call `write_chunk(start, count)` over 0..total, advancing a progress bar."""
    counts = Counts()
    bar = Progress(total, label) if show and total else None
    try:
        for start in range(0, total, size):
            count = min(size, total - start)
            counts.add(write_chunk(start, count))
            if bar:
                bar.advance(count)
    finally:
        if bar:
            bar.close()
    return counts


def seed_run(*, city: str = "shanghai", merchants: int = 2000, users: int = 500,
             riders: int = 100, seed: int = 42, progress: bool = True,
             menus: str = "typical") -> SeedResult:
    """Add a believable city to the database: demo accounts, merchants, consumers, riders.

    Adds to what is there (usernames continue after the highest existing number and
    phones avoid existing ones); on an empty database the same seed gives the same city.
    """
    started = time.perf_counter()
    where = CITIES[city]
    categories = categories_ensure()
    demo = demo_accounts_ensure(city=where, categories=categories)
    planner = CityPlanner(where, seed=seed, taken_phones=taken_phones() | DEMO_PHONES, menus=menus)
    first_merchant, first_rider = next_number("m"), next_number("r")


    def merchants_chunk(start: int, count: int) -> Counts:
        plans = [planner.merchant(first_merchant + start + i) for i in range(count)]
        return merchants_write(plans, city=where, categories=categories)

    def consumers_chunk(start: int, count: int) -> Counts:
        return consumers_write([planner.consumer() for _ in range(count)])

    def riders_chunk(start: int, count: int) -> Counts:
        plans = [planner.rider(first_rider + start + i) for i in range(count)]
        return riders_write(plans, city=where)

    # Drawn in this order from one generator: merchants, then consumers, then riders.
    counts = _in_chunks(merchants, MERCHANTS_PER_CHUNK, "merchants", progress, merchants_chunk)
    counts.add(_in_chunks(users, PEOPLE_PER_CHUNK, "consumers", progress, consumers_chunk))
    counts.add(_in_chunks(riders, PEOPLE_PER_CHUNK, "riders", progress, riders_chunk))
    return SeedResult(where, counts, time.perf_counter() - started, demo)
