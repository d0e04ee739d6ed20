"""Order placement throughput through the real service (stock, lines, events), and,
on PostgreSQL, with concurrent clients hammering one hot product."""

from __future__ import annotations

import os
import threading
import time

from _setup import percentiles, setup_django


def main() -> None:
    vendor = setup_django()
    from django.db import connection

    from linli.accounts.models import User
    from linli.inventory.models import StockItem
    from linli.inventory.services import StockInsufficient, stock_set
    from linli.merchants.hours import every_day
    from linli.merchants.models import MenuCategory, Product, StoreCategory
    from linli.merchants.services import merchant_create, store_create
    from linli.orders.services import AddressInput, LineInput, order_place

    food, _ = StoreCategory.objects.get_or_create(slug="food", defaults={"name_zh": "美食", "name_en": "Food"})
    owner = User.objects.create_user(username="bench-owner-orders")
    store = store_create(merchant=merchant_create(name="bench", owner=owner), name="压测店", category=food,
                         lat=31.2304, lng=121.4737, opening_hours=every_day(("00:00", "24:00")),
                         city_code="shanghai", address="-", delivery_fee_fen=500, packaging_fee_fen=100)
    section = MenuCategory.objects.create(store=store, name="热菜")
    products = [Product.objects.create(store=store, menu_category=section, name=f"菜{i}", price_fen=1000 + i)
                for i in range(20)]
    for p in products:
        stock_set(product=p, quantity=1_000_000)
    consumer = User.objects.create_user(username="+8613800138000", phone="+8613800138000")
    address = AddressInput(text="人民大道 200 号", lat=31.2330, lng=121.4760, contact_name="张三",
                           contact_phone="13912345678")

    n = int(os.environ.get("BENCH_ORDERS", "1000"))
    samples = []
    started = time.perf_counter()
    for i in range(n):
        lines = [LineInput(product_id=products[(i + k) % 20].public_id, quantity=1 + k) for k in range(3)]
        t0 = time.perf_counter()
        order_place(consumer=consumer, store_id=store.public_id, lines=lines, fulfilment="delivery",
                    address=address, idempotency_key=f"b{i}")
        samples.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    print(f"orders [{vendor}] sequential: {n:,} orders in {elapsed:.1f} s = {n / elapsed:,.0f} orders/s; "
          f"{percentiles(samples)}")

    if vendor != "postgresql":
        print("orders: concurrent hot-product run skipped (needs BENCH_DATABASE_URL=postgres://...)")
        return
    hot = products[0]
    stock_set(product=hot, quantity=500)
    threads_n, per_thread = 16, 50
    results = {"ok": 0, "sold_out": 0}
    lock = threading.Lock()
    buyers = [User.objects.create_user(username=f"+861390000{t:04d}") for t in range(threads_n)]

    def buyer(t: int) -> None:
        try:
            for j in range(per_thread):
                try:
                    order_place(consumer=buyers[t], store_id=store.public_id,
                                lines=[LineInput(product_id=hot.public_id, quantity=1)],
                                fulfilment="pickup", address=None, idempotency_key=f"hot{t}-{j}")
                    outcome = "ok"
                except StockInsufficient:
                    outcome = "sold_out"
                with lock:
                    results[outcome] += 1
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=buyer, args=(t,)) for t in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    left = StockItem.objects.get(product=hot).quantity
    total = threads_n * per_thread
    print(f"orders [postgresql] {threads_n} concurrent clients, {total} attempts on one product with 500 in stock: "
          f"{total / elapsed:,.0f} attempts/s, sold {results['ok']}, refused {results['sold_out']}, stock left {left} "
          f"({'OK, no oversell' if results['ok'] == 500 and left == 0 else 'MISMATCH'})")


if __name__ == "__main__":
    main()
