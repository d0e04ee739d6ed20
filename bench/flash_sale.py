"""Flash sale over HTTP on PostgreSQL: BENCH_ATTEMPTS (10,000) purchase attempts from
BENCH_USERS (2,000) consumers on BENCH_CONNECTIONS (48) concurrent keep-alive
connections against one product with BENCH_UNITS (100) units, served by granian (WSGI,
BENCH_WORKERS = 4 processes).

Every attempt is a real `POST /api/v1/orders` with the buyer's own JWT and its own
Idempotency-Key. Then it checks, and exits 1 if any check fails:
  - exactly BENCH_UNITS orders were placed (201), every other answer is 409 `stock_insufficient`;
  - the product's stock ends at 0 with BENCH_UNITS units held by the orders, and the ledger
    balances: the stocktake row (+units) and the orders' rows (-units) sum to the count;
  - paying every order (the payment path, in-process) sells the held units: held 0, stock 0,
    sales sum to the starting quantity.
It prints throughput and p50/p95/p99 latency (target p99 < 200 ms on this machine).

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/linli_bench_flash,
dropped and re-created), BENCH_ATTEMPTS, BENCH_USERS, BENCH_UNITS, BENCH_CONNECTIONS,
BENCH_WORKERS, BENCH_PORT (8794). Without a reachable PostgreSQL it says so and exits 0.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import IO

from _setup import percentiles, setup_django

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_flash"
SECRET = "flash-sale-bench-secret-key-not-for-production"


def fresh_database(url: str) -> bool:
    """Drop and create the benchmark database; False if PostgreSQL does not answer."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"flash sale: skipped, PostgreSQL is unreachable ({str(exc).strip().splitlines()[0]})")
        return False
    return True


def seed(units: int, users_n: int) -> tuple[dict, list[str]]:
    """One always-open store, one product with `units` in stock, and `users_n` consumers
    with their access tokens (signed with the key the servers use)."""
    from linli.accounts.models import User
    from linli.accounts.tokens import token_pair_issue
    from linli.inventory.services import stock_set
    from linli.merchants.hours import every_day
    from linli.merchants.models import MenuCategory, Product, StoreCategory
    from linli.merchants.services import merchant_create, store_create

    food, _ = StoreCategory.objects.get_or_create(slug="food", defaults={"name_zh": "美食", "name_en": "Food"})
    owner = User.objects.create_user(username="flash-owner")
    store = store_create(merchant=merchant_create(name="秒杀旗舰店", owner=owner), name="秒杀旗舰店",
                         category=food, lat=31.2304, lng=121.4737,
                         opening_hours=every_day(("00:00", "24:00")), city_code="shanghai",
                         address="黄浦区南京东路 1 号", delivery_fee_fen=0, packaging_fee_fen=0)
    section = MenuCategory.objects.create(store=store, name="限时秒杀")
    product = Product.objects.create(store=store, menu_category=section, name="1 元秒杀 小龙虾", price_fen=100)
    stock_set(product=product, quantity=units)
    User.objects.bulk_create([User(username=f"+86136{i:08d}", phone=f"+86136{i:08d}")
                              for i in range(users_n)], batch_size=1000)
    users = User.objects.filter(username__startswith="+86136").order_by("pk")
    tokens = [token_pair_issue(user_public_id=u.public_id, token_version=u.token_version)["access_token"]
              for u in users]
    return {"store": store.public_id, "product": product.public_id, "product_pk": product.pk}, tokens


def serve(port: int, workers: int, env: dict[str, str], log: IO[bytes]) -> subprocess.Popen:
    """granian WSGI; its log (one `Conflict` warning per refused attempt) goes to `log`."""
    command = [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi", "--workers",
               str(workers), "--blocking-threads", "1", "--no-ws", "--log-level", "error",
               "--port", str(port), "linli.wsgi:application"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=log)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("flash sale: the app server did not start")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status = int((await reader.readline()).split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return status, await reader.readexactly(length)


async def fire(port: int, sale: dict, tokens: list[str], attempts: int, connections: int,
               warm: int = 0) -> tuple[list[float], collections.Counter, float]:
    """`attempts` purchases on `connections` keep-alive connections (a closed loop: each
    connection sends its next attempt as soon as the last is answered). Attempt i is made
    by buyer i % len(tokens) with its own Idempotency-Key."""
    body = json.dumps({"store_id": sale["store"], "fulfilment": "pickup",
                       "items": [{"product_id": sale["product"], "quantity": 1}]}).encode()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(attempts):
        queue.put_nowait(i)
    samples: list[float] = []
    outcomes: collections.Counter = collections.Counter()

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not queue.empty():
                i = queue.get_nowait()
                request = (f"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           f"Authorization: Bearer {tokens[i % len(tokens)]}\r\n"
                           f"Idempotency-Key: flash-{warm}-{i}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
                t0 = time.perf_counter()
                writer.write(request)
                await writer.drain()
                status, payload = await _read_response(reader)
                samples.append((time.perf_counter() - t0) * 1000)
                code = json.loads(payload).get("code", "") if status >= 400 else ""
                outcomes[(status, code)] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*[client() for _ in range(connections)])
    return samples, outcomes, time.perf_counter() - started


def check(sale: dict, units: int, outcomes: collections.Counter) -> list[str]:
    from linli.inventory.models import StockItem, StockMovement
    from linli.inventory.selectors import stock_ledger_audit
    from linli.orders.models import Order

    failures = []
    placed = outcomes[(201, "")]
    refused = outcomes[(409, "stock_insufficient")]
    other = {k: v for k, v in outcomes.items() if k not in ((201, ""), (409, "stock_insufficient"))}
    if placed != units:
        failures.append(f"{placed} orders placed, expected exactly {units}")
    if other:
        failures.append(f"unexpected answers: {other}")
    item = StockItem.objects.get(product_id=sale["product_pk"])
    if (item.quantity, item.reserved) != (0, units):
        failures.append(f"stock ends at {item.quantity} with {item.reserved} held, expected 0 and {units}")
    if Order.objects.count() != units:
        failures.append(f"{Order.objects.count()} order rows, expected {units}")
    audit = stock_ledger_audit([sale["product_pk"]])[sale["product_pk"]]
    taken = -sum(StockMovement.objects.filter(product_id=sale["product_pk"], reason="order")
                 .values_list("delta", flat=True))
    if not audit.balanced or taken != units:
        failures.append(f"ledger does not balance: {audit}, taken by orders {taken}")
    print(f"checks: {placed} placed, {refused} refused with stock_insufficient, other {sum(other.values())}; "
          f"stock {item.quantity}, held {item.reserved}; ledger: +{units} stocktake, -{taken} by orders, "
          f"sum {audit.ledger_quantity} = stock {item.quantity} ({'balanced' if audit.balanced else 'UNBALANCED'})")
    return failures


def pay_everything(sale: dict, units: int) -> list[str]:
    """Every winner pays (the payment notification's path: the order moves to `paid`,
    which commits its reservation as a sale)."""
    from django.db import transaction

    from linli.inventory.models import StockItem, StockMovement
    from linli.inventory.selectors import stock_ledger_audit
    from linli.orders.models import Order
    from linli.orders.services import order_transition_as

    for order in Order.objects.filter(status="pending_payment"):
        with transaction.atomic():
            order_transition_as(order=order, action="pay", actor=None, role="system")
    item = StockItem.objects.get(product_id=sale["product_pk"])
    sold = -sum(StockMovement.objects.filter(product_id=sale["product_pk"], reason="sale")
                .values_list("reserved_delta", flat=True))
    audit = stock_ledger_audit([sale["product_pk"]])[sale["product_pk"]]
    print(f"after payment: {Order.objects.filter(status='paid').count()} orders paid, {sold} units sold, "
          f"stock {item.quantity}, held {item.reserved}, ledger {'balanced' if audit.balanced else 'UNBALANCED'}")
    if (item.quantity, item.reserved, sold) != (0, 0, units) or not audit.balanced:
        return [f"after payment: stock {item.quantity}, held {item.reserved}, sold {sold}: {audit}"]
    return []


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        print("flash sale: skipped, it needs PostgreSQL (BENCH_DATABASE_URL=postgres://...)")
        return
    if not fresh_database(url):
        return
    attempts = int(os.environ.get("BENCH_ATTEMPTS", "10000"))
    users_n = int(os.environ.get("BENCH_USERS", "2000"))
    units = int(os.environ.get("BENCH_UNITS", "100"))
    connections = int(os.environ.get("BENCH_CONNECTIONS", "48"))
    workers = int(os.environ.get("BENCH_WORKERS", "4"))
    port = int(os.environ.get("BENCH_PORT", "8794"))
    os.environ.update({"BENCH_DATABASE_URL": url, "LINLI_SECRET_KEY": SECRET})
    setup_django()
    started = time.perf_counter()
    sale, tokens = seed(units, users_n)
    print(f"flash sale [postgresql]: 1 store, 1 product with {units} units, {len(tokens):,} buyers "
          f"seeded in {time.perf_counter() - started:.1f} s")
    env = {**os.environ, "DATABASE_URL": url, "LINLI_SECRET_KEY": SECRET, "LINLI_LOG_LEVEL": "ERROR"}
    with tempfile.TemporaryFile() as log:
        server = serve(port, workers, env, log)
        try:
            samples, outcomes, elapsed = asyncio.run(fire(port, sale, tokens, attempts, connections))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        log.seek(0)
        noise = (b"django.request Conflict", b"workers appears to be higher")
        unexpected = [line for line in log.read().splitlines() if line.strip() and not any(n in line for n in noise)]
    if unexpected:
        print(f"server log: {len(unexpected)} unexpected lines, first: {unexpected[0].decode(errors='replace')}")
    print(f"HTTP granian WSGI, {workers} workers, {connections} connections: {attempts:,} attempts in "
          f"{elapsed:.1f} s = {attempts / elapsed:,.0f} attempts/s")
    print(f"latency: {percentiles(samples)}")
    p99 = statistics.quantiles(samples, n=100)[98]
    print(f"p99 {p99:.1f} ms: {'within' if p99 < 200 else 'ABOVE'} the 200 ms target")
    failures = check(sale, units, outcomes)
    failures += pay_everything(sale, units)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("flash sale: OK")


if __name__ == "__main__":
    main()
