"""Sustained order placement over HTTP on PostgreSQL, several app worker processes.

Seeds BENCH_STORES stores (20 products each, ample stock) and BENCH_USERS consumers with
JWTs, serves the app with granian (WSGI, BENCH_WORKERS processes), then:
  1. closed loop: BENCH_CONNECTIONS keep-alive clients place orders back to back for
     BENCH_SECONDS: the maximum rate;
  2. open loop at 80 % of that rate (requests sent on a schedule, latency measured from
     the scheduled time, so queueing counts): orders/s and p50/p95/p99;
  3. where the time goes: the SQL statements of one order (over HTTP, authentication
     included, and of order_place alone), the CPU one order costs the app and its
     PostgreSQL backend without a profiler (steadier than rates on a shared machine), and
     an in-process profile of order_place (top functions by own time).
Every answer must be 201; anything else is counted and printed by status and code.

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/linli_bench_checkout,
dropped and re-created), BENCH_STORES (50), BENCH_USERS (400), BENCH_WORKERS (2),
BENCH_THREADS (2 blocking threads per worker, as `make serve-prod`),
BENCH_CONNECTIONS (32), BENCH_SECONDS (15), BENCH_PORT (8793).
Without a reachable PostgreSQL it says so and exits 0.
"""

from __future__ import annotations

import asyncio
import collections
import cProfile
import itertools
import json
import os
import pstats
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from _setup import percentiles

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_checkout"
CENTRE = (31.2304, 121.4737)
RUN = f"bench-{os.getpid()}-{int(time.time())}"
SERIAL = itertools.count()  # idempotency keys: unique across every load of a run


def fresh_database(url: str) -> bool:
    """Drop and create the benchmark database; False if PostgreSQL does not answer."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"checkout: PostgreSQL unreachable ({exc.__class__.__name__}); skipped")
        return False
    return True


def seed(stores_n: int, users_n: int) -> tuple[list[dict], list[str]]:
    """Stores with their product ids, and one access token per consumer."""
    from linli.accounts.models import User
    from linli.accounts.tokens import token_pair_issue
    from linli.inventory.services import stock_set
    from linli.merchants.hours import every_day
    from linli.merchants.models import MenuCategory, Product, StoreCategory
    from linli.merchants.services import merchant_create, store_create

    rnd = random.Random(5)
    food, _ = StoreCategory.objects.get_or_create(slug="food", defaults={"name_zh": "美食", "name_en": "Food"})
    stores = []
    for s in range(stores_n):
        owner = User.objects.create_user(username=f"bench-checkout-owner-{s}")
        lat, lng = CENTRE[0] + rnd.uniform(-0.02, 0.02), CENTRE[1] + rnd.uniform(-0.02, 0.02)
        store = store_create(merchant=merchant_create(name=f"压测商家{s}", owner=owner), name=f"压测店{s}",
                             category=food, lat=lat, lng=lng, city_code="shanghai", address="-",
                             opening_hours=every_day(("00:00", "24:00")), delivery_radius_m=10_000,
                             delivery_fee_fen=500, packaging_fee_fen=100)
        section = MenuCategory.objects.create(store=store, name="热菜")
        products = [Product.objects.create(store=store, menu_category=section, name=f"菜{i}",
                                           price_fen=1200 + 100 * i) for i in range(20)]
        for p in products:
            stock_set(product=p, quantity=10_000_000)
        stores.append({"id": store.public_id, "lat": lat, "lng": lng,
                       "products": [p.public_id for p in products]})
    tokens = []
    for u in range(users_n):
        phone = f"+86139{u:08d}"
        user = User.objects.create_user(username=phone, phone=phone)
        tokens.append(token_pair_issue(user_public_id=user.public_id,
                                       token_version=user.token_version)["access_token"])
    return stores, tokens


def order_body(rnd: random.Random, stores: list[dict]) -> dict:
    store = rnd.choice(stores)
    picks = rnd.sample(store["products"], rnd.randint(1, 4))
    return {"store_id": store["id"], "fulfilment": "delivery",
            "items": [{"product_id": p, "quantity": rnd.randint(1, 3)} for p in picks],
            "address": {"text": "人民大道 200 号 3 号楼", "lat": store["lat"] + 0.004,
                        "lng": store["lng"] + 0.003, "contact_name": "张三",
                        "contact_phone": "13912345678"}}


class Load:
    """Keep-alive HTTP/1.1 clients posting orders; one consumer token per connection."""

    def __init__(self, port: int, stores: list[dict], tokens: list[str]) -> None:
        self.port, self.stores, self.tokens = port, stores, tokens
        self.samples: list[float] = []
        self.failures: collections.Counter[str] = collections.Counter()
        self.placed = 0  # 201s: the rates count these, never a refusal

    async def _post(self, reader, writer, token: str, rnd: random.Random) -> None:
        body = json.dumps(order_body(rnd, self.stores)).encode()
        head = (f"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {token}\r\nIdempotency-Key: {RUN}-{next(SERIAL)}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        writer.write(head + body)
        await writer.drain()
        status = await reader.readline()
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        payload = await reader.readexactly(length)
        if b" 201 " in status:
            self.placed += 1
        else:
            try:
                code = json.loads(payload).get("code", "?")
            except ValueError:
                code = "?"
            self.failures[f"{status.split()[1].decode()} {code}"] += 1

    async def closed(self, connections: int, seconds: float) -> float:
        deadline = time.perf_counter() + seconds

        async def client(k: int) -> None:
            rnd = random.Random(k)
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                while time.perf_counter() < deadline:
                    t0 = time.perf_counter()
                    await self._post(reader, writer, self.tokens[k % len(self.tokens)], rnd)
                    self.samples.append((time.perf_counter() - t0) * 1000)
            finally:
                writer.close()

        started = time.perf_counter()
        await asyncio.gather(*[client(k) for k in range(connections)])
        return self.placed / (time.perf_counter() - started)

    async def open(self, connections: int, rate: float, seconds: float) -> float:
        """Requests due every 1/rate s, spread over the connections; latency counts from
        when a request was due, so a server that falls behind shows it."""
        total = int(rate * seconds)
        started = time.perf_counter()
        queue: asyncio.Queue[float] = asyncio.Queue()
        for i in range(total):
            queue.put_nowait(started + i / rate)

        async def client(k: int) -> None:
            rnd = random.Random(1000 + k)
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                while not queue.empty():
                    due = queue.get_nowait()
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    await self._post(reader, writer, self.tokens[k % len(self.tokens)], rnd)
                    self.samples.append((time.perf_counter() - due) * 1000)
            finally:
                writer.close()

        await asyncio.gather(*[client(k) for k in range(connections)])
        return self.placed / (time.perf_counter() - started)


def serve(port: int, workers: int, env: dict[str, str], threads: int = 2) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi", "--workers",
               str(workers), "--blocking-threads", str(threads), "--no-ws", "--log-level", "warning",
               "linli.wsgi:application", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the server did not start")


def _backend_cpu_seconds(connection) -> float | None:
    """CPU time used so far by this connection's PostgreSQL backend (same machine only)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def where_the_time_goes(stores: list[dict], tokens: list[str]) -> None:
    """Statements of one order (over HTTP in-process, and of order_place alone), CPU per
    order without a profiler (the app's and its PostgreSQL backend's: less noisy than
    rates on a shared machine), then a profile of order_place."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from linli.accounts.models import User
    from linli.orders.services import AddressInput, LineInput, order_place

    rnd = random.Random(9)
    consumer = User.objects.create_user(username="bench-profile", phone="+8613700000001")
    client = Client()

    def post(i: int) -> None:
        answer = client.post("/api/v1/orders", data=json.dumps(order_body(rnd, stores)),
                             content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {tokens[i % len(tokens)]}",
                             HTTP_IDEMPOTENCY_KEY=f"{RUN}-http-{i}")
        assert answer.status_code == 201, answer.content

    def place(i: int) -> None:
        body = order_body(rnd, stores)
        order_place(consumer=consumer, store_id=body["store_id"], fulfilment="delivery",
                    lines=[LineInput(product_id=x["product_id"], quantity=x["quantity"]) for x in body["items"]],
                    address=AddressInput(**body["address"]), idempotency_key=f"profile-{i}")

    for i in range(20):  # warm: connection, prepared statements
        post(i)
    with CaptureQueriesContext(connection) as queries:
        post(20)
    print(f"SQL statements for one POST /api/v1/orders (authentication included): {len(queries)}")
    n = 300
    cpu, backend, started = time.process_time(), _backend_cpu_seconds(connection), time.perf_counter()
    for i in range(21, 21 + n):
        post(i)
    backend_after = _backend_cpu_seconds(connection)
    print(f"CPU per order over HTTP in-process, no profiler: app {(time.process_time() - cpu) / n * 1000:.2f} ms"
          + (f", PostgreSQL backend {(backend_after - backend) / n * 1000:.2f} ms"
             if backend is not None and backend_after is not None else "")
          + f" (wall {(time.perf_counter() - started) / n * 1000:.2f} ms)")
    with CaptureQueriesContext(connection) as queries:
        place(0)
    print(f"SQL statements for one order_place: {len(queries)}")
    for q in queries.captured_queries:
        print(f"   {q['time']:>6} s  {' '.join(q['sql'].split())[:110]}")
    profile = cProfile.Profile()
    profile.enable()
    started = time.perf_counter()
    for i in range(1, 201):
        place(i)
    elapsed = time.perf_counter() - started
    profile.disable()
    print(f"in-process order_place under the profiler: {200 / elapsed:,.0f} orders/s on one core "
          f"({elapsed / 200 * 1000:.2f} ms each)")
    pstats.Stats(profile).sort_stats("tottime").print_stats(12)


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        print("checkout: needs PostgreSQL (BENCH_DATABASE_URL=postgres://...); skipped")
        return
    if not fresh_database(url):
        return
    os.environ["BENCH_DATABASE_URL"] = url
    from _setup import setup_django

    setup_django()
    stores_n, users_n = int(os.environ.get("BENCH_STORES", "50")), int(os.environ.get("BENCH_USERS", "400"))
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    threads = int(os.environ.get("BENCH_THREADS", "2"))  # per worker, as `make serve-prod`
    connections = int(os.environ.get("BENCH_CONNECTIONS", "32"))
    seconds = float(os.environ.get("BENCH_SECONDS", "15"))
    port = int(os.environ.get("BENCH_PORT", "8793"))
    t0 = time.perf_counter()
    stores, tokens = seed(stores_n, users_n)
    print(f"checkout: {stores_n} stores x 20 products, {users_n} consumers seeded in {time.perf_counter() - t0:.0f} s")
    # Each synthetic consumer places an order every few milliseconds, far past the per-user
    # limit a person meets (20 a minute): the limit is not what this measures, so it is lifted.
    env = {**os.environ, "DATABASE_URL": url, "LINLI_LOG_LEVEL": "ERROR",
           "LINLI_RATE_ORDERS_PER_MINUTE": "1000000000"}
    server = serve(port, workers, env, threads)
    try:
        warm = Load(port, stores, tokens)
        asyncio.run(warm.closed(connections, 3))  # connections, caches, JIT-free warm-up
        peak = Load(port, stores, tokens)
        rate = asyncio.run(peak.closed(connections, seconds))
        print(f"closed loop, {connections} connections, {workers} workers x {threads} threads: {rate:,.0f} orders/s; "
              f"{percentiles(peak.samples)}; failures {dict(peak.failures) or 0}")
        steady = Load(port, stores, tokens)
        achieved = asyncio.run(steady.open(connections, 0.8 * rate, seconds))
        print(f"open loop at 80 % ({0.8 * rate:,.0f}/s offered): {achieved:,.0f} orders/s; "
              f"{percentiles(steady.samples)}; failures {dict(steady.failures) or 0}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    where_the_time_goes(stores, tokens)


if __name__ == "__main__":
    main()
