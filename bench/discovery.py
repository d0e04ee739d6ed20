"""Discovery at city scale: nearby, nearby with filters, smart ranking (and search when
it exists), in-process and over HTTP, on SQLite or PostgreSQL.

Builds a city with `linli seed` (BENCH_MERCHANTS merchants, default 95,000 -> ~100,000
stores; BENCH_MENUS=large (default) serves 16-26 products a store, ~2 million products;
`typical` 6-15, ~1 million), then:
  1. checks the nearby list against a brute-force reference on random points;
  2. times 500 in-process queries per scenario (p50/p95/p99);
  3. serves the app with 2 workers under uvicorn (ASGI) and under granian (WSGI) and
     drives it with wrk (or a Python keep-alive client when wrk is missing) for
     BENCH_HTTP_SECONDS (default 15) per scenario: requests/s and latency.

Environment: BENCH_DATABASE_URL (default: a temp SQLite file), BENCH_MERCHANTS, BENCH_MENUS,
BENCH_QUERIES, BENCH_HTTP_SECONDS, BENCH_HTTP_POINTS (random points cycled through over
HTTP, default 2,000), BENCH_HTTP_SERVERS (comma-separated subset of SERVERS), BENCH_PORT.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from _setup import percentiles, setup_django
from _wrk import wrk_line, wrk_run

CENTRE = (31.2304, 121.4737)
SCENARIOS: dict[str, dict[str, Any]] = {
    "nearby 3 km": {"radius_m": 3000},
    "nearby 3 km + filters": {"radius_m": 3000, "open_now": True, "min_rating": 4.0,
                              "price_max_fen": 10000, "category": "food"},
    "smart ranking 5 km": {"radius_m": 5000, "sort": "smart"},
    "smart + delivers_to_me": {"radius_m": 5000, "sort": "smart", "delivers_to_me": True},
}

# Narrow and broad: a dish, a drink everyone sells, a brand in initials and in pinyin, a
# flower shop, pharmacies (one character), gyms in pinyin, beef in pinyin (thousands of dishes).
SEARCH_WORDS = ["宫保鸡丁", "奶茶", "mdl", "maidanglao", "鲜花", "药", "jianshen", "niurou"]


def random_point(rnd: random.Random) -> tuple[float, float]:
    """Where people are: mostly the denser middle of the city."""
    return CENTRE[0] + rnd.gauss(0, 0.06), CENTRE[1] + rnd.gauss(0, 0.07)


def build(merchants: int) -> None:
    from linli.core.seed.run import seed_run
    from linli.merchants.models import Store

    if Store.objects.count() >= merchants:
        print(f"reusing {Store.objects.count():,} stores")
        return
    result = seed_run(city="shanghai", merchants=merchants, users=0, riders=0, seed=7, progress=True,
                      menus=os.environ.get("BENCH_MENUS", "large"))
    print(result.summary())
    # The seed writes in bulk; build the search index in one pass (stores in quadkey order)
    # rather than leaving the first searches to catch up incrementally.
    from django.core.management import call_command  # noqa: PLC0415

    t0 = time.perf_counter()
    call_command("search_reindex")
    print(f"search index built in {time.perf_counter() - t0:.0f} s")


def check_reference(rnd: random.Random) -> None:
    from linli.discovery.selectors import store_list_nearby, store_list_nearby_brute_force

    for _ in range(5):
        lat, lng = random_point(rnd)
        expected = [e[0] for e in store_list_nearby_brute_force(lat=lat, lng=lng, radius_m=1500)]
        got, cursor = [], None
        while True:
            items, cursor = store_list_nearby(lat=lat, lng=lng, radius_m=1500, cursor=cursor, limit=100)
            got += [i.id for i in items]
            if not cursor:
                break
        status = "OK" if got == expected else "MISMATCH"
        print(f"reference check at ({lat:.4f}, {lng:.4f}) r=1500 m: {len(got)} stores, {status}")
        if got != expected:
            sys.exit(1)


def in_process(rnd: random.Random, queries: int) -> None:
    from linli.discovery.selectors import nearby_index_refresh, store_list_nearby

    started = time.perf_counter()
    index = nearby_index_refresh()
    print(f"in-memory index: {len(index):,} stores loaded in {time.perf_counter() - started:.2f} s")
    for name, params in SCENARIOS.items():
        samples, found = [], 0
        for _ in range(queries):
            lat, lng = random_point(rnd)
            t0 = time.perf_counter()
            items, _ = store_list_nearby(lat=lat, lng=lng, limit=20, **params)
            samples.append((time.perf_counter() - t0) * 1000)
            found += len(items)
        print(f"in-process {name:<24} {percentiles(samples)}")
    search_in_process(rnd, queries)


def search_in_process(rnd: random.Random, queries: int) -> None:
    from linli.discovery.search import store_search
    words = SEARCH_WORDS
    samples: list[float] = []
    by_word: dict[str, list[float]] = {w: [] for w in words}
    for i in range(queries):
        lat, lng = random_point(rnd)
        t0 = time.perf_counter()
        store_search(q=words[i % len(words)], lat=lat, lng=lng, radius_m=3000, limit=20)
        samples.append((time.perf_counter() - t0) * 1000)
        by_word[words[i % len(words)]].append(samples[-1])
    print(f"in-process {'search 3 km':<24} {percentiles(samples)}")
    for word, timings in by_word.items():
        print(f"in-process   search {word:<16} {percentiles(timings)}")


async def _client(host: str, port: int, paths: list[str], deadline: float,
                  samples: list[float], errors: list[int]) -> None:
    """A keep-alive HTTP/1.1 client, for machines without wrk."""
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            samples.append((time.perf_counter() - t0) * 1000)
            if b" 200 " not in status_line:
                errors.append(1)
    finally:
        writer.close()


def _python_load(port: int, paths: list[str], seconds: float) -> str:
    samples: list[float] = []
    errors: list[int] = []
    deadline = time.perf_counter() + seconds

    async def run() -> None:
        await asyncio.gather(*[_client("127.0.0.1", port, paths[k::64], deadline, samples, errors)
                               for k in range(64)])

    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    return (f"{len(samples) / elapsed:,.0f} req/s, errors {len(errors)}; {percentiles(samples)} "
            f"(python client, 64 connections)")


def _wrk_load(port: int, paths: list[str], seconds: float) -> str:
    return wrk_line(wrk_run(f"http://127.0.0.1:{port}", paths, seconds=seconds))


SERVERS = {
    # Django under ASGI pays two to three event-loop <-> thread hops per request; WSGI none.
    "uvicorn ASGI": ["uvicorn", "linli.asgi:application", "--workers", "2", "--no-access-log",
                     "--log-level", "warning", "--port"],
    "granian WSGI": ["granian", "--interface", "wsgi", "--workers", "2", "--blocking-threads", "1",
                     "--no-ws", "--log-level", "warning", "linli.wsgi:application", "--port"],
}


def over_http(rnd: random.Random, seconds: float, env: dict[str, str]) -> None:
    port = int(os.environ.get("BENCH_PORT", "8791"))
    # Points cycled through: with the default 2,000 each is asked several times in a run
    # (the per-process page cache answers repeats); a large number measures cold pages.
    points = int(os.environ.get("BENCH_HTTP_POINTS", "2000"))
    root = Path(__file__).resolve().parent.parent
    load = _wrk_load if shutil.which("wrk") else _python_load
    only = [s for s in os.environ.get("BENCH_HTTP_SERVERS", "").split(",") if s]
    for server_name, command in SERVERS.items():
        if only and server_name.split()[0] not in only:
            continue
        server = subprocess.Popen([str(Path(sys.executable).parent / command[0]), *command[1:], str(port)],
                                  cwd=root, env=env, start_new_session=True)
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.5)
            for name, params in {**SCENARIOS, "search 3 km": {"radius_m": 3000}}.items():
                paths = []
                for i in range(points):
                    lat, lng = random_point(rnd)
                    query = "&".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                                     for k, v in params.items())
                    if name.startswith("search"):
                        word = urllib.parse.quote(SEARCH_WORDS[i % len(SEARCH_WORDS)])
                        paths.append(f"/api/v1/search?q={word}&lat={lat:.6f}&lng={lng:.6f}&{query}")
                    else:
                        paths.append(f"/api/v1/stores/nearby?lat={lat:.6f}&lng={lng:.6f}&{query}")
                for path in paths[:40]:  # warm every worker's index before measuring
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60).read()
                print(f"HTTP {server_name:<13} {name:<24} {load(port, paths, seconds)}")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def main() -> None:
    vendor = setup_django()
    merchants = int(os.environ.get("BENCH_MERCHANTS", "95000"))
    queries = int(os.environ.get("BENCH_QUERIES", "500"))
    rnd = random.Random(11)
    started = time.perf_counter()
    build(merchants)
    print(f"discovery [{vendor}]: city ready in {time.perf_counter() - started:.0f} s")
    check_reference(rnd)
    in_process(rnd, queries)
    seconds = float(os.environ.get("BENCH_HTTP_SECONDS", "15"))
    if seconds > 0:  # BENCH_HTTP_SECONDS=0 measures in-process only
        over_http(rnd, seconds, {**os.environ, "LINLI_LOG_LEVEL": "WARNING"})


if __name__ == "__main__":
    main()
