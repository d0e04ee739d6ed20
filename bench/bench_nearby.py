"""Nearby search latency over a city of stores (default 20,000; BENCH_STORES to change)."""

from __future__ import annotations

import math
import os
import random
import time

from _setup import percentiles, setup_django


def build_city(n: int, rnd: random.Random) -> None:
    from django.db import transaction

    from linli.accounts.models import User
    from linli.merchants.hours import every_day
    from linli.merchants.models import Merchant, Store, StoreCategory
    from linli.merchants.services import store_build

    food, _ = StoreCategory.objects.get_or_create(slug="food", defaults={"name_zh": "美食", "name_en": "Food"})
    owner = User.objects.create_user(username="bench-owner")
    merchant = Merchant.objects.create(name="bench")
    del owner
    hours = every_day(("09:00", "22:00"))
    batch = []
    for i in range(n):
        # Shanghai's built-up area, denser towards the centre.
        r = 15_000 * math.sqrt(rnd.random()) * rnd.random()
        theta = rnd.random() * 2 * math.pi
        lat = 31.2304 + math.degrees(r * math.cos(theta) / 6_371_008.8)
        lng = 121.4737 + math.degrees(r * math.sin(theta) / (6_371_008.8 * math.cos(math.radians(31.23))))
        batch.append(store_build(merchant=merchant, lat=lat, lng=lng, opening_hours=hours,
                                 city_code="shanghai", name=f"店{i}", category=food, address="-"))
        if len(batch) == 1000:
            with transaction.atomic():
                Store.objects.bulk_create(batch)
            batch = []
    if batch:
        Store.objects.bulk_create(batch)


def main() -> None:
    vendor = setup_django()
    from linli.discovery.selectors import store_list_nearby

    n = int(os.environ.get("BENCH_STORES", "20000"))
    rnd = random.Random(42)
    started = time.perf_counter()
    build_city(n, rnd)
    print(f"nearby [{vendor}]: built {n:,} stores in {time.perf_counter() - started:.1f} s")
    for radius in (1000, 3000, 5000):
        samples, found = [], 0
        for _ in range(300):
            lat = 31.2304 + rnd.uniform(-0.08, 0.08)
            lng = 121.4737 + rnd.uniform(-0.08, 0.08)
            t0 = time.perf_counter()
            items, _ = store_list_nearby(lat=lat, lng=lng, radius_m=radius, limit=20)
            samples.append((time.perf_counter() - t0) * 1000)
            found += len(items)
        print(f"nearby [{vendor}] radius {radius} m, first page of 20 (avg {found / 300:.1f} found): "
              f"{percentiles(samples)}")


if __name__ == "__main__":
    main()
