"""The app's CPU a request, in one process, no HTTP server: orders and the browse mix.

Imports `linli.wsgi` as a granian worker does and calls the WSGI application directly,
closing each answer so Django's request signals run (as a server's would: connections are
given back, health checks and request-scoped state behave as in production). Prints the
process's CPU time per request (`time.process_time`) over blocks, with the median and the
best block: no load generator and no other process on the same cores, so it is steadier
than the load harness's rates. The machine's speed still drifts between minutes (the same
code gave medians of 3.2 and 4.0 ms an order ten minutes apart): compare versions over
several alternated runs (docs/orders.md "eighth session"). It also prints the garbage
collector's pauses over the blocks, by generation: the full collections are what
`LINLI_GC_FREEZE=0` brings back (`core/gcfreeze.py`).

Needs `make serve-prod`'s database and Redis (or any seeded PostgreSQL) and fresh fixtures
from `bench/load/prepare.py` (their consumers' tokens live 15 minutes); the server itself
need not run. Comparing two versions: run this with `PYTHONPATH=/tmp/old/src` (a `git
worktree` of the old commit, bench/load/README.md) and without, alternately, five times
each, and compare the medians of the medians.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/linli_prod .venv/bin/python \\
           bench/load/prepare.py --out /tmp/fx.json --consumers 400
       .venv/bin/python bench/load/request_cpu.py --fixtures /tmp/fx.json [--blocks 10]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # run.py's paths and bodies; `linli` as installed, or PYTHONPATH's

from inprocess import worker_environment, wsgi_call  # noqa: E402
from run import browse_paths, order_bodies  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, required=True)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--orders", type=int, default=100, help="orders a block")
    parser.add_argument("--browse", type=int, default=250, help="browse requests a block")
    args = parser.parse_args()
    worker_environment()  # as under `make serve-prod`
    from linli.wsgi import application

    tokens = json.loads(args.fixtures.read_text())["consumers"]
    bodies = [body.encode() for body in order_bodies(args.fixtures, 500)]
    paths = browse_paths(args.fixtures, 20_000)
    sent = {"orders": 0, "browse": 0}

    def order() -> str:
        n = sent["orders"] = sent["orders"] + 1
        return wsgi_call(application, "POST", "/api/v1/orders", bodies[n % len(bodies)],
                         {"HTTP_AUTHORIZATION": f"Bearer {tokens[n % len(tokens)]}",
                          "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex})

    def browse() -> str:
        n = sent["browse"] = sent["browse"] + 1
        return wsgi_call(application, "GET", paths[n % len(paths)])

    for _ in range(50):  # warm up: imports, caches, connections
        order(), browse()
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started_at: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started_at[:] = [time.perf_counter()]
        elif started_at:
            pauses[info["generation"]].append((time.perf_counter() - started_at[0]) * 1000)

    gc.callbacks.append(on_gc)
    per_block = {"orders": args.orders, "browse": args.browse}
    kinds = {"orders": (order, "201"), "browse": (browse, "200")}
    cpu: dict[str, list[float]] = {"orders": [], "browse": []}
    for block in range(1, args.blocks + 1):
        for kind, (send, ok) in kinds.items():
            started, failed = time.process_time(), 0
            for _ in range(per_block[kind]):
                failed += not send().startswith(ok)
            if failed:
                sys.exit(f"request_cpu: {failed} {kind} requests failed (stale fixtures? rate limit?)")
            cpu[kind].append((time.process_time() - started) * 1000 / per_block[kind])
        print(f"block {block:>2}: order {cpu['orders'][-1]:.2f} ms, browse {cpu['browse'][-1]:.2f} ms "
              "of app CPU a request", flush=True)
    for kind, values in cpu.items():
        print(f"{kind}: median {statistics.median(values):.2f} ms, best block {min(values):.2f} ms "
              f"of app CPU a request ({len(values)} blocks of {per_block[kind]})")
    gc.callbacks.remove(on_gc)
    print(f"garbage collector over the blocks ({gc.get_freeze_count():,} objects frozen at start-up):")
    for generation, took in pauses.items():
        longest = f", longest {max(took):.1f} ms" if took else ""
        print(f"   generation {generation}: {len(took)} collections, {sum(took):.0f} ms in all{longest}")


if __name__ == "__main__":
    main()
