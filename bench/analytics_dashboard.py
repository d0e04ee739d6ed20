"""Analytics dashboards over a year (issue 13: a year's dashboard under 300 ms).

Scale (documented, env-tunable): BENCH_ANA_STORES stores (default 1,000) x 365 days of
`StoreDay` rows, 6 products a day for the measured store and its district peers, and the
platform tables for 20 cities x 12 categories x 2 channels x 365 days, all written directly
with bulk_create. The dashboards read only these tables, so their cost depends on the
number of aggregate rows (one store: 365 rows; its peers: ~20 stores x 365), not on the
number of orders behind them: 1,000 stores averaging 27 orders a day is 10 million orders
a year. Timed: the merchant console's whole page (`merchant_dashboard`) and single API
metrics for a year, and the operator's year reports; p50/p95 over repeated calls.

The job that builds the tables (`aggregate_day`) is measured separately on one day of
BENCH_ANA_ORDERS real orders (default 3,000) with their lines and events, and extrapolated
linearly to 10 million orders a year (27,400 a day)."""

from __future__ import annotations

import os
import random
import time
from datetime import date, timedelta

from _setup import percentiles, setup_django

STORES = int(os.environ.get("BENCH_ANA_STORES", "1000"))
ORDERS = int(os.environ.get("BENCH_ANA_ORDERS", "3000"))
RUNS = int(os.environ.get("BENCH_ANA_RUNS", "40"))
DAYS = 365
CITIES, CATEGORIES = 20, 12
YEAR_END = date(2026, 11, 24)
YEAR_START = YEAR_END - timedelta(days=DAYS - 1)
ORDERS_PER_DAY_AT_10M = 10_000_000 / 365


def _timed(fn, runs: int = RUNS) -> str:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def seed_aggregates(rnd: random.Random) -> object:
    from linli.analytics.models import ActiveDay, CohortWeek, PlatformDay, StoreDay, StoreItemDay
    from linli.merchants.models import Merchant, Store, StoreCategory

    category = StoreCategory.objects.create(slug="bench", name_zh="测试", name_en="Bench")
    merchant = Merchant.objects.create(name="bench")
    store = Store.objects.create(merchant=merchant, city_code="c0", name="measured", category=category,
                                 address="-", lat=31.23, lng=121.47, h3_cell="")
    started = time.perf_counter()
    rows, items = [], []
    districts = max(STORES // 100, 1)  # ~20 stores per (district, category): the peer query's work
    for n in range(STORES):
        store_id = store.pk if n == 0 else 1_000_000 + n
        district, cat = f"d{n % districts}", category.pk if n % 5 == 0 else 100 + n % 5
        for d in range(DAYS):
            day = YEAR_START + timedelta(days=d)
            orders = rnd.randint(10, 45)
            rows.append(StoreDay(day=day, store_id=store_id, merchant_id=n, city_code=f"c{n % CITIES}",
                                 district=district, category_id=cat, online_orders=orders,
                                 online_sales_fen=orders * rnd.randint(2500, 6000), pos_orders=orders // 4,
                                 pos_sales_fen=orders * 900, placed_orders=orders + 3, new_buyers=orders // 3,
                                 returning_buyers=orders - orders // 3, views=orders * 8, carts=orders * 3,
                                 checkouts=orders * 2, hours=[rnd.randint(0, 4) for _ in range(24)],
                                 reviews=orders // 10, stars_sum=(orders // 10) * 4))
            if store_id == store.pk or (district == "d0" and cat == category.pk):
                items += [StoreItemDay(day=day, store_id=store_id, product_id=p, name=f"菜品{p}",
                                       quantity=rnd.randint(1, 20), sales_fen=rnd.randint(1000, 30000))
                          for p in range(6)]
        if len(rows) >= 50_000:
            StoreDay.objects.bulk_create(rows, batch_size=5000)
            rows = []
    StoreDay.objects.bulk_create(rows, batch_size=5000)
    StoreItemDay.objects.bulk_create(items, batch_size=5000)
    platform = [PlatformDay(day=YEAR_START + timedelta(days=d), city_code=f"c{c}", category_id=100 + k, channel=ch,
                            orders=rnd.randint(100, 900), gmv_fen=rnd.randint(10**6, 10**7), views=5000,
                            carts=1500, checkouts=900, placed_orders=800, commission_fen=rnd.randint(10**5, 10**6),
                            subsidy_fen=rnd.randint(0, 10**5), delivered=500, delivered_on_time=470, complaints=3)
                for d in range(DAYS) for c in range(CITIES) for k in range(CATEGORIES) for ch in ("online", "pos")]
    PlatformDay.objects.bulk_create(platform, batch_size=5000)
    ActiveDay.objects.bulk_create([ActiveDay(day=YEAR_START + timedelta(days=d), city_code=city, dau=9000, mau=90000)
                                   for d in range(DAYS) for city in [""] + [f"c{c}" for c in range(CITIES)]],
                                  batch_size=5000)
    first_week = YEAR_START - timedelta(days=YEAR_START.weekday())
    CohortWeek.objects.bulk_create([CohortWeek(cohort=first_week + timedelta(weeks=c), offset=k,
                                               week=first_week + timedelta(weeks=c + k), customers=1000 // (k + 1))
                                    for c in range(53) for k in range(53 - c)], batch_size=5000)
    print(f"seeded {StoreDay.objects.count():,} store-days ({STORES:,} stores x {DAYS} days), "
          f"{StoreItemDay.objects.count():,} item-days, {PlatformDay.objects.count():,} platform-days "
          f"in {time.perf_counter() - started:.1f} s")
    return store


def bench_dashboards(store: object) -> None:
    from linli.analytics import selectors

    def q(metric: str, granularity: str = "day", by: str = "", allowed=selectors.STORE_METRICS):  # type: ignore[no-untyped-def]
        return selectors.report_query(metric=metric, start=YEAR_START.isoformat(), end=YEAR_END.isoformat(),
                                      granularity=granularity, allowed=allowed, by=by,
                                      dimensions=selectors.DIMENSIONS)

    year_week = q("summary", "week")
    print("merchant console, a year (target < 300 ms):")
    print(f"  whole page (totals, comparisons, peers, items, heat map, funnel, 5 series) by week: "
          f"{_timed(lambda: selectors.merchant_dashboard(store=store, q=year_week))}")
    year_day = q("summary", "day")
    print(f"  whole page by day:  {_timed(lambda: selectors.merchant_dashboard(store=store, q=year_day))}")
    for metric in ("sales", "comparison", "peers", "items"):
        query = q(metric)
        print(f"  API metric={metric:<10} {_timed(lambda query=query: selectors.merchant_report(store=store, q=query))}")
    print("operator, a year:")
    for metric, granularity, by in (("summary", "day", ""), ("gmv", "day", "city"), ("gmv", "month", "category"),
                                    ("take_rate", "week", "channel"), ("dau", "day", ""), ("retention", "week", "")):
        query = q(metric, granularity, by, allowed=selectors.PLATFORM_METRICS)
        print(f"  metric={metric:<9} by={by or '-':<8} {granularity:<5} "
              f"{_timed(lambda query=query: selectors.platform_report(q=query), runs=max(RUNS // 4, 5))}")


def bench_job(rnd: random.Random) -> None:
    from linli.accounts.models import User
    from linli.analytics.aggregate import aggregate_day, day_bounds
    from linli.analytics.models import Event
    from linli.merchants.models import Merchant, Product, Store, StoreCategory
    from linli.orders.models import Order, OrderItem

    day = YEAR_END + timedelta(days=1)
    start, _ = day_bounds(day)
    category = StoreCategory.objects.get(slug="bench")
    merchant = Merchant.objects.create(name="job")
    stores = Store.objects.bulk_create([Store(merchant=merchant, city_code="c1", name=f"s{n}", category=category,
                                              address="-", lat=31.2, lng=121.4, h3_cell="8931aa4a4dbffff")
                                        for n in range(60)])
    stores = list(Store.objects.filter(merchant=merchant))
    products = Product.objects.bulk_create([Product(store=s, name=f"p{k}", price_fen=1500 + 100 * k)
                                            for s in stores for k in range(8)])
    products = list(Product.objects.filter(store__merchant=merchant))
    by_store: dict[int, list[Product]] = {}
    for p in products:
        by_store.setdefault(p.store_id, []).append(p)
    users = User.objects.bulk_create([User(username=f"bench-{n}") for n in range(ORDERS // 2)])
    users = list(User.objects.filter(username__startswith="bench-"))
    orders = []
    for n in range(ORDERS):
        s = rnd.choice(stores)
        paid = start + timedelta(seconds=rnd.randint(0, 86_399))
        orders.append(Order(consumer=rnd.choice(users), store=s, city_code="c1", status="completed",
                            fulfilment="pickup", items_fen=3000, total_fen=3000, idempotency_key=f"b{n}",
                            request_hash="h", pay_deadline=paid, paid_at=paid))
    Order.objects.bulk_create(orders, batch_size=2000)
    Order.objects.filter(store__merchant=merchant).update(created_at=start + timedelta(hours=12))
    lines = []
    for o in Order.objects.filter(store__merchant=merchant).values_list("id", "store_id"):
        for p in rnd.sample(by_store[o[1]], 2):
            lines.append(OrderItem(order_id=o[0], product=p, name=p.name, unit_price_fen=1500, quantity=1,
                                   amount_fen=1500))
    OrderItem.objects.bulk_create(lines, batch_size=5000)
    Event.objects.bulk_create([Event(kind=rnd.choice(("store_view", "add_to_cart", "checkout_start")),
                                     occurred_at=start + timedelta(seconds=rnd.randint(0, 86_399)),
                                     user_id=rnd.choice(users).pk, store_id=rnd.choice(stores).pk, city_code="c1")
                               for _ in range(ORDERS * 8)], batch_size=5000)
    started = time.perf_counter()
    written = aggregate_day(day)
    first = time.perf_counter() - started
    started = time.perf_counter()
    aggregate_day(day)  # rerun: idempotent, the same work again
    again = time.perf_counter() - started
    per_day_at_10m = first * ORDERS_PER_DAY_AT_10M / ORDERS
    print(f"aggregate_day: {ORDERS:,} orders, {len(lines):,} lines, {ORDERS * 8:,} events, {len(stores)} stores "
          f"-> {written['stores']} store rows: {first * 1000:.0f} ms (rerun {again * 1000:.0f} ms)")
    print(f"  extrapolated to 10 M orders a year ({ORDERS_PER_DAY_AT_10M:,.0f} a day, linear): "
          f"~{per_day_at_10m:.1f} s per day recomputed")


def main() -> None:
    vendor = setup_django()
    print(f"analytics dashboards on {vendor}")
    rnd = random.Random(13)
    store = seed_aggregates(rnd)
    bench_dashboards(store)
    bench_job(rnd)


if __name__ == "__main__":
    main()
