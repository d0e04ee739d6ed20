"""Search latency over a city of BENCH_STORES stores (default 100,000) with about
BENCH_PRODUCTS_PER_STORE products each (default 20 -> 2,000,000 products).

Stores and menus come from the seed's vocabulary (real-looking Chinese brand names,
districts of Shanghai, each kind's printed menu), so pinyin and initials behave as they
would on real data. Builds the index with `search_index_rebuild` (timed), then runs
BENCH_SEARCHES (300) searches of mixed styles at random points, radius 3 km (after
BENCH_WARMUP = 100 unmeasured ones), and prints p50/p95/p99 per style. BENCH_DATABASE_URL picks the database (default: temp SQLite).
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from _setup import percentiles, setup_django

CENTRE = (31.2304, 121.4737)
STYLES = ("dish", "store", "pinyin", "initials", "typo")


def insert_products(rows: list[tuple[int, str, int, int]]) -> None:
    """(store pk, name, price_fen, sort) rows as products, fast: every column the ORM would
    write, prepared once from a template product, then one executemany. Two million
    products through bulk_create would spend minutes preparing fields."""
    from django.db import connection

    from linli.core.ids import new_public_id
    from linli.merchants.models import Product

    template = Product(store_id=0, name="", price_fen=0)
    fields = [f for f in Product._meta.concrete_fields if not f.primary_key]
    varying = {"public_id", "store", "name", "price_fen", "sort"}
    constant = {f.attname: f.get_db_prep_save(f.pre_save(template, add=True), connection)
                for f in fields if f.name not in varying}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {Product._meta.db_table} ({columns}) VALUES ({marks})"  # noqa: S608 (names from the model)
    position = {f.attname: i for i, f in enumerate(fields)}
    base = [constant.get(f.attname) for f in fields]
    params = []
    for store_id, name, price, sort in rows:
        row = list(base)
        row[position["public_id"]] = new_public_id("prd")
        row[position["store_id"]] = store_id
        row[position["name"]] = name
        row[position["price_fen"]] = price
        row[position["sort"]] = sort
        params.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def build_city(stores: int, per_store: int, rnd: random.Random) -> tuple[list[str], list[str]]:
    """Write the stores and products; return (brand names, dish names) to search for."""
    from django.db import transaction

    from linli.core.seed.cities import CITIES
    from linli.core.seed.menus import MENUS
    from linli.core.seed.plan import CityPlanner
    from linli.core.seed.writer import categories_ensure
    from linli.merchants.models import Merchant, Store
    from linli.merchants.services import store_build

    categories = categories_ensure()
    planner = CityPlanner(CITIES["shanghai"], seed=11)
    menus = {key: [item for _, section in menu for item in section] for key, menu in MENUS.items()}
    names = {key: {name for name, _ in items} for key, items in menus.items()}
    merchant = Merchant.objects.create(name="bench")
    brands: list[str] = []
    dishes: set[str] = set()
    made, number = 0, 0
    started = time.perf_counter()
    while made < stores:
        batch = []
        while len(batch) < 2000 and made + len(batch) < stores:
            number += 1
            plan = planner.merchant(number)
            planned = {p.name for s in plan.stores[0].menu for p in s.products}
            items = menus[max(names, key=lambda k: len(names[k] & planned))]  # the kind's full menu
            for store_plan in plan.stores[: stores - made - len(batch)]:
                batch.append((store_plan, items))
            brands.append(plan.name)
        with transaction.atomic():
            rows = Store.objects.bulk_create([
                store_build(merchant=merchant, lat=p.lat, lng=p.lng, opening_hours=p.opening_hours,
                            city_code="shanghai", name=p.name, category=categories[p.category],
                            address=p.address, rating=p.rating, avg_price_fen=p.avg_price_fen)
                for p, _ in batch
            ], batch_size=1000)
            products: list[tuple[int, str, int, int]] = []
            for store, (_, items) in zip(rows, batch, strict=True):
                picked = rnd.sample(items, min(per_store, len(items)))
                sizes = ["", "(大份)", "(小份)", "套餐"]
                while len(picked) < per_store:  # short menus: portions of the same dishes
                    name, price = rnd.choice(items)
                    picked.append((name + rnd.choice(sizes[1:]), price))
                for sort, (name, price) in enumerate(picked):
                    products.append((store.pk, name, price, sort))
                    dishes.add(name)
            insert_products(products)
        made += len(batch)
        if made % 10_000 < 2000:
            rate = made / (time.perf_counter() - started)
            print(f"  {made:,} stores written ({rate:,.0f}/s)", flush=True)
    return brands, sorted(d for d in dishes if "(" not in d)


def queries(style: str, brands: list[str], dishes: list[str], rnd: random.Random) -> str:
    from linli.discovery.text import pinyin_full, pinyin_initials

    if style == "dish":
        dish = rnd.choice(dishes)
        return dish if rnd.random() < 0.7 else dish[-2:]  # "鸡丁" for 宫保鸡丁
    if style == "store":
        return rnd.choice(brands)
    if style == "pinyin":
        return pinyin_full(rnd.choice(dishes + brands))
    if style == "initials":
        return pinyin_initials(rnd.choice(brands))
    word = pinyin_full(rnd.choice(dishes))
    while len(word) < 5:
        word = pinyin_full(rnd.choice(dishes))
    at = rnd.randrange(1, len(word) - 1)
    return word[:at] + word[at + 1:]  # one letter dropped


def main() -> None:
    vendor = setup_django()
    from linli.discovery.search import store_search
    from linli.discovery.search_index import SearchDoc, search_index_rebuild

    stores = int(os.environ.get("BENCH_STORES", "100000"))
    per_store = int(os.environ.get("BENCH_PRODUCTS_PER_STORE", "20"))
    searches = int(os.environ.get("BENCH_SEARCHES", "300"))
    rnd = random.Random(42)

    started = time.perf_counter()
    brands, dishes = build_city(stores, per_store, rnd)
    print(f"search [{vendor}]: wrote {stores:,} stores and {stores * per_store:,} products "
          f"in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    written = search_index_rebuild()
    print(f"search [{vendor}]: indexed {written:,} documents in {time.perf_counter() - started:.1f} s "
          f"({SearchDoc.objects.count():,} rows)")

    _as_a_fresh_server()
    warmup = int(os.environ.get("BENCH_WARMUP", "100"))
    for _ in range(warmup):  # a serving process is warm: caches hold the busy neighbourhoods
        lat, lng = CENTRE[0] + rnd.gauss(0, 0.06), CENTRE[1] + rnd.gauss(0, 0.07)
        store_search(q=queries(rnd.choice(STYLES), brands, dishes, rnd), lat=lat, lng=lng, radius_m=3000)
    samples: dict[str, list[float]] = {s: [] for s in STYLES}
    found: dict[str, int] = dict.fromkeys(STYLES, 0)
    corrected = 0
    for i in range(searches):
        style = STYLES[i % len(STYLES)]
        q = queries(style, brands, dishes, rnd)
        lat, lng = CENTRE[0] + rnd.gauss(0, 0.06), CENTRE[1] + rnd.gauss(0, 0.07)
        t0 = time.perf_counter()
        page = store_search(q=q, lat=lat, lng=lng, radius_m=3000, limit=20)
        samples[style].append((time.perf_counter() - t0) * 1000)
        found[style] += len(page.items)
        corrected += page.corrected_query is not None
    for style in STYLES:
        n = len(samples[style])
        print(f"search [{vendor}] {style:<9} (avg {found[style] / n:4.1f} on page 1): "
              f"{percentiles(samples[style])}")
    every = [s for v in samples.values() for s in v]
    print(f"search [{vendor}] all       ({corrected} typos corrected): {percentiles(every)}")
    _forget_temp_database()


def _as_a_fresh_server() -> None:
    """Search from a new connection, as a server started after the build would (and with
    SQLite's write-ahead log folded back into the database file)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def _forget_temp_database() -> None:
    """A 2-million-product SQLite file is ~2 GB: remove the throw-away one unless BENCH_KEEP."""
    from django.conf import settings
    from django.db import connection

    name = str(settings.DATABASES["default"]["NAME"])
    folder = Path(name).parent
    if (connection.vendor == "sqlite" and not os.environ.get("BENCH_KEEP")
            and folder.name.startswith("linli-bench-") and str(folder).startswith(tempfile.gettempdir())):
        connection.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
