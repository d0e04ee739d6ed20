"""Offline POS upload: 10,000 queued sales from 20 stores, in batches of 100, through the
service (`linli.pos.sync.sync_upload`, what `POST /api/v1/pos/sync` calls: no HTTP).

Each store has 10 products with EAN-13 barcodes and limited stock, so some sales run the
stock out and come back as `stock_short` conflicts; one sale in 50 has a tampered total
(rejected), and every batch is uploaded twice (the second time every sale is a duplicate).
Prints sales/s for first uploads and for retries, and the outcome counts.

Environment: BENCH_DATABASE_URL (default: SQLite in a temp dir; PostgreSQL e.g.
postgres://postgres@127.0.0.1:5432/linli_bench_pos), BENCH_SALES (10000), BENCH_STORES (20),
BENCH_BATCH (100). A PostgreSQL database named there is dropped and re-created.
"""

from __future__ import annotations

import collections
import os
import random
import time

from _setup import setup_django

SALES = int(os.environ.get("BENCH_SALES", "10000"))
STORES = int(os.environ.get("BENCH_STORES", "20"))
BATCH = int(os.environ.get("BENCH_BATCH", "100"))


def seed() -> list[dict]:
    from linli.accounts.models import User
    from linli.inventory.services import stock_set
    from linli.merchants.hours import every_day
    from linli.merchants.models import MenuCategory, MerchantMember, Product, StoreCategory
    from linli.merchants.services import merchant_create, store_create
    from linli.pos.ean import ean13_check_digit
    from linli.pos.models import Counter, ProductBarcode

    food, _ = StoreCategory.objects.get_or_create(slug="retail", defaults={"name_zh": "便利店", "name_en": "Retail"})
    stores = []
    for s in range(STORES):
        owner = User.objects.create_user(username=f"bench-pos-owner-{s}")
        store = store_create(merchant=merchant_create(name=f"压测便利{s}", owner=owner), name=f"压测便利店{s}",
                             category=food, lat=31.23, lng=121.47, city_code="shanghai", address="-",
                             opening_hours=every_day(("00:00", "24:00")))
        cashier = User.objects.create_user(username=f"bench-pos-cashier-{s}")
        MerchantMember.objects.create(merchant=store.merchant, user=cashier, role="cashier")
        section = MenuCategory.objects.create(store=store, name="饮料")
        products = []
        for i in range(10):
            product = Product.objects.create(store=store, menu_category=section, name=f"商品{i}",
                                             price_fen=300 + 50 * i)
            stock_set(product=product, quantity=120)
            body = f"69{s:04d}{i:06d}"
            code = body + ean13_check_digit(body)
            ProductBarcode.objects.create(store=store, product=product, code=code)
            products.append((code, product.price_fen))
        counter = Counter.objects.create(store=store, name="1号收银台")
        stores.append({"cashier": cashier, "counter": counter.public_id, "products": products})
    return stores


def queued(stores: list[dict]) -> list[tuple[dict, list[dict]]]:
    rnd = random.Random(8)
    per_store: dict[int, list[dict]] = collections.defaultdict(list)
    for n in range(SALES):
        s = n % STORES
        picks = rnd.sample(stores[s]["products"], rnd.randint(1, 3))
        lines = [{"barcode": code, "quantity": rnd.randint(1, 3), "unit_price_fen": price} for code, price in picks]
        total = sum(line["quantity"] * line["unit_price_fen"] for line in lines)
        if n % 50 == 49:
            total += 1  # tampered
        per_store[s].append({"client_sale_id": f"bench-{s}-{n}", "lines": lines, "total_fen": total,
                             "payment_method": "cash"})
    batches = []
    for s, sales in per_store.items():
        for i in range(0, len(sales), BATCH):
            batches.append((stores[s], sales[i:i + BATCH]))
    return batches


def fresh_postgres(url: str) -> None:
    """A PostgreSQL BENCH_DATABASE_URL names a throw-away database: drop and create it."""
    import psycopg

    name, admin = url.rsplit("/", 1)[1], url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if url.startswith("postgres"):
        fresh_postgres(url)
    vendor = setup_django()
    from linli.pos.models import SyncConflict
    from linli.pos.sync import sync_upload

    stores = seed()
    batches = queued(stores)
    for label in ("first upload", "retry (all duplicates)"):
        outcome: collections.Counter[str] = collections.Counter()
        started = time.perf_counter()
        for store, sales in batches:
            batch = sync_upload(actor=store["cashier"], counter_id=store["counter"], sales=sales)
            for result in batch.results:
                outcome[result["status"]] += 1
        elapsed = time.perf_counter() - started
        print(f"pos_sync [{vendor}] {label}: {SALES} sales in {len(batches)} batches of {BATCH}: "
              f"{elapsed:.1f} s, {SALES / elapsed:,.0f} sales/s  {dict(outcome)}")
    reasons = collections.Counter(SyncConflict.objects.values_list("reason", flat=True))
    print(f"pos_sync [{vendor}] conflicts recorded: {dict(reasons)}")


if __name__ == "__main__":
    main()
