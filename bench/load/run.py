"""Load run (issue 15): the database's ceiling with pgbench, then a lunch-peak request mix
with locust against a running `make serve-prod`, then a table, a CSV and a chart.

Steps:
  1. fixtures (bench/load/prepare.py) in the server's database: consumer and rider tokens,
     the demo store's products with ample stock;
  2. pgbench on a scratch database of the same PostgreSQL: `-i -s SCALE`, then TPC-B-like
     `-T PGBENCH_SECONDS -c 8 -j 2`: transactions/s, the ceiling on this machine;
  3. locust headless, the mix of bench/load/locustfile.py, USERS users for DURATION s;
  4. optionally (--checkout-seconds) buyers alone placing orders back to back: the order
     placement rate the app reaches when nothing else runs;
  4a. optionally (--orders-seconds) order placement alone with wrk (a client in C, so the
     load generator costs little of the cores, unlike locust's): POST /api/v1/orders at the
     demo store back to back on --orders-connections, each with its own Idempotency-Key,
     from enough bench consumers that none meets the 20-a-minute limit; orders/s and p95/p99
     against the issue's 500/s, and their ratio to pgbench's TPS;
  4b. optionally (--browse-seconds) browsing alone with wrk (nearby, store, menu, search in
     the mix's 4:2:3:2, anonymous, closed loop on --browse-connections): the browse rate
     and its p95 against the issue's 1,000 req/s with p95 < 50 ms;
  5. prints req/s, failures, p50/p95/p99 per endpoint, order placements/s and their ratio to
     pgbench's TPS; after each single-purpose phase (4, 4a, 4b) the CPU a request took by
     role (app workers, PostgreSQL, Celery, Redis, RabbitMQ, the load generator) and how
     busy the cores were (bench/load/cpu.py); writes OUT/mix_stats.csv (and locust's other
     CSVs), OUT/chart.svg, OUT/summary.json.

Usage (server already up: `make serve-prod` in another terminal):
  .venv/bin/python bench/load/run.py --duration 75 --users 40
Environment: LOAD_DATABASE_URL (the server's database, default linli_prod),
PGBENCH_URL (default postgres://postgres@127.0.0.1:5432/h_pgbench).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))
from _wrk import wrk_line, wrk_post_run, wrk_run  # noqa: E402
from cpu import as_dict, cpu_delta, cpu_line, cpu_snapshot  # noqa: E402
from procfs import cmdline, is_app_server, process_memory  # noqa: E402


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def app_memory() -> list[dict[str, object]]:
    """Resident memory of the app server's processes (granian's parent and workers), read
    from /proc: now (VmRSS) and the peak since start (VmHWM), in MB. Issue 15's budget is
    150 MB per app worker. Also the part no other process maps (USS: private pages; what
    one more worker costs) and the proportional share (PSS), from smaps_rollup: the shared
    libraries' pages (numpy's OpenBLAS, libpq, OpenSSL, libpython) count in every worker's
    RSS but exist once."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if not is_app_server(cmdline(proc)):
                continue
            used = process_memory(proc)
        except OSError:
            continue  # gone meanwhile
        found.append({"pid": int(proc.name), **used})
    return sorted(found, key=lambda p: p["pid"])  # type: ignore[arg-type, return-value]


def pgbench(url: str, *, scale: int, seconds: int, clients: int) -> dict[str, float | str]:
    u = urlparse(url)
    env = {**os.environ, "PGPASSWORD": u.password or ""}
    conn = ["-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    db = u.path.lstrip("/")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "db_ensure.py"), url], check=True)  # a new machine has none
    subprocess.run(["pgbench", *conn, "-i", "-q", "-s", str(scale), db], env=env, check=True,
                   capture_output=True)
    before = loadavg()
    out = subprocess.run(["pgbench", *conn, "-T", str(seconds), "-c", str(clients), "-j", "2", db],
                         env=env, check=True, capture_output=True, text=True).stdout
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    lat = re.search(r"latency average = ([\d.]+) ms", out)
    return {"tps": float(tps.group(1)) if tps else 0.0,
            "latency_avg_ms": float(lat.group(1)) if lat else 0.0,
            "scale": scale, "clients": clients, "seconds": seconds,
            "loadavg_before": before, "loadavg_after": loadavg()}


def locust(base_url: str, *, users: int, spawn_rate: float, seconds: int, prefix: Path,
           fixtures: Path, extra_env: dict[str, str] | None = None,
           user_classes: tuple[str, ...] = ()) -> dict[str, int]:
    counts = prefix.with_name(prefix.name + "_counts.json")
    env = {**os.environ, "LOAD_FIXTURES": str(fixtures), "LOAD_COUNTS": str(counts),
           **(extra_env or {})}
    subprocess.run([str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless",
                    "--host", base_url, "-u", str(users), "-r", str(spawn_rate),
                    "-t", f"{seconds}s", "--csv", str(prefix), "--csv-full-history",
                    "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5", *user_classes],
                   env=env, check=False, cwd=ROOT)
    return json.loads(counts.read_text()) if counts.exists() else {}


def warm_up(base_url: str, fixtures: Path, rounds: int = 12) -> None:
    """Each worker process loads its code, URL map and search dictionary on its first
    requests (seconds on a busy 2-core machine): make those before measuring."""
    import urllib.request

    data = json.loads(fixtures.read_text())
    lat, lng, store = data["city"]["lat"], data["city"]["lng"], data["store"]["id"]
    paths = ["/healthz", f"/api/v1/stores/nearby?lat={lat}&lng={lng}", f"/api/v1/stores/{store}",
             f"/api/v1/stores/{store}/menu", f"/api/v1/search?q=%E9%9D%A2&lat={lat}&lng={lng}"]
    for _ in range(rounds):
        for path in paths:
            try:
                urllib.request.urlopen(base_url + path, timeout=60).read()  # noqa: S310
            except OSError as exc:
                print(f"   warm-up {path}: {exc}")


def read_stats(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as f:
        return list(csv.DictReader(f))


def read_history(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_stats_history.csv")
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [row for row in csv.DictReader(f) if row["Name"] == "Aggregated"]


def _f(row: dict[str, str], key: str) -> float:
    try:
        return float(row.get(key) or 0)
    except ValueError:
        return 0.0


def table(rows: list[dict[str, str]]) -> str:
    head = f"{'endpoint':<52}{'reqs':>7}{'fail':>6}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}"
    lines = [head, "-" * len(head)]
    for row in rows:
        name = row["Name"] if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
        lines.append(f"{name[:51]:<52}{int(_f(row, 'Request Count')):>7}"
                     f"{int(_f(row, 'Failure Count')):>6}{_f(row, 'Requests/s'):>8.1f}"
                     f"{_f(row, '50%'):>7.0f}{_f(row, '95%'):>7.0f}{_f(row, '99%'):>7.0f}")
    return "\n".join(lines) + "\n(latencies in ms)"


def chart_svg(rows: list[dict[str, str]], history: list[dict[str, str]], title: str) -> str:
    """A hand-written SVG: p50/p95/p99 per endpoint (bars), and req/s and p95 over time."""
    endpoints = [r for r in rows if r["Name"] != "Aggregated"]
    width, bar_h, left = 900, 16, 330
    top = 40
    height_bars = top + len(endpoints) * (bar_h * 3 + 10) + 30
    height = height_bars + 260
    vmax = max([_f(r, "99%") for r in endpoints] + [1.0])
    scale = (width - left - 90) / vmax
    colours = (("50%", "#8ecae6"), ("95%", "#219ebc"), ("99%", "#023047"))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="20" font-size="14" font-weight="bold">{title}</text>']
    for i, (key, colour) in enumerate(colours):
        out.append(f'<rect x="{left + i * 80}" y="26" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{left + i * 80 + 14}" y="35">{key[:-1]}th pct</text>')
    y = top + 10
    for row in endpoints:
        label = f"{row['Type']} {row['Name'].replace('/api/v1', '')}"
        out.append(f'<text x="10" y="{y + bar_h * 1.5 + 4}">{label[:48]}</text>')
        for key, colour in colours:
            w = _f(row, key) * scale
            out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{colour}"/>'
                       f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 5}">{_f(row, key):.0f} ms</text>')
            y += bar_h
        y += 10
    # time series
    if history:
        t0 = _f(history[0], "Timestamp")
        pts = [(_f(h, "Timestamp") - t0, _f(h, "Requests/s"), _f(h, "95%")) for h in history]
        tmax = max(p[0] for p in pts) or 1.0
        rmax = max(p[1] for p in pts) or 1.0
        lmax = max(p[2] for p in pts) or 1.0
        gx, gy, gw, gh = 60, height_bars + 20, width - 140, 200
        out.append(f'<rect x="{gx}" y="{gy}" width="{gw}" height="{gh}" fill="none" stroke="#999"/>')
        req = " ".join(f"{gx + t / tmax * gw:.1f},{gy + gh - r / rmax * gh:.1f}" for t, r, _ in pts)
        p95 = " ".join(f"{gx + t / tmax * gw:.1f},{gy + gh - p / lmax * gh:.1f}" for t, _, p in pts)
        out.append(f'<polyline points="{req}" fill="none" stroke="#fb8500" stroke-width="2"/>')
        out.append(f'<polyline points="{p95}" fill="none" stroke="#023047" stroke-width="1.5"/>')
        out.append(f'<text x="{gx}" y="{gy - 6}" fill="#fb8500">req/s (max {rmax:.1f})</text>'
                   f'<text x="{gx + 200}" y="{gy - 6}" fill="#023047">p95 ms (max {lmax:.0f})</text>'
                   f'<text x="{gx + gw - 60}" y="{gy + gh + 14}">{tmax:.0f} s</text>')
    out.append("</svg>")
    return "\n".join(out)


def order_bodies(fixtures: Path, count: int = 500) -> list[str]:
    """What BuyerUser posts: one or two of the demo store's products, one or two of each,
    delivered to a point within 1.5 km of it."""
    data = json.loads(fixtures.read_text())
    rnd, store = random.Random(7), data["store"]
    bodies = []
    for _ in range(count):
        lat, lng = store["lat"] + rnd.uniform(-1.5, 1.5) / 111.0, store["lng"] + rnd.uniform(-1.5, 1.5) / 95.0
        bodies.append(json.dumps({
            "store_id": store["id"], "fulfilment": "delivery",
            "items": [{"product_id": p, "quantity": rnd.randint(1, 2)}
                      for p in rnd.sample(store["products"], k=min(2, len(store["products"])))],
            "address": {"text": "人民大道 200 号", "lat": round(lat, 6), "lng": round(lng, 6),
                        "contact_name": "张三", "contact_phone": "13912345678"}}, ensure_ascii=False))
    return bodies


# Orders a bench consumer may place a minute (settings.LINLI_RATE_LIMITS["order_place"]).
ORDERS_PER_CONSUMER_MINUTE = 20


def browse_paths(fixtures: Path, count: int = 4000) -> list[str]:
    """What BrowsingUser asks, in its 4:2:3:2 shares, at random points within 2 km of the
    centre and over the seeded stores: nearby, a store, its menu, a search."""
    data = json.loads(fixtures.read_text())
    rnd = random.Random(5)
    stores, (lat0, lng0) = data["stores"], (data["city"]["lat"], data["city"]["lng"])
    words = data["search_words"]
    kinds = ["nearby"] * 4 + ["store"] * 2 + ["menu"] * 3 + ["search"] * 2
    paths = []
    for i in range(count):
        lat, lng = lat0 + rnd.uniform(-2, 2) / 111.0, lng0 + rnd.uniform(-2, 2) / 95.0
        kind, store = kinds[i % len(kinds)], rnd.choice(stores)
        paths.append({
            "nearby": f"/api/v1/stores/nearby?lat={lat:.5f}&lng={lng:.5f}&radius_m=3000",
            "store": f"/api/v1/stores/{store}",
            "menu": f"/api/v1/stores/{store}/menu",
            "search": f"/api/v1/search?q={quote(rnd.choice(words))}&lat={lat:.5f}&lng={lng:.5f}",
        }[kind])
    return paths


def main() -> None:
    p = argparse.ArgumentParser(description="pgbench ceiling + locust lunch-peak mix")
    p.add_argument("--base-url", default="http://127.0.0.1:8100")
    p.add_argument("--duration", type=int, default=75, help="seconds of the mix")
    p.add_argument("--users", type=int, default=40)
    p.add_argument("--spawn-rate", type=float, default=10)
    p.add_argument("--pgbench-seconds", type=int, default=30)
    p.add_argument("--pgbench-clients", type=int, default=8)
    p.add_argument("--pgbench-scale", type=int, default=8,
                   help=">= clients, so TPC-B's branch rows are not one hot row")
    p.add_argument("--skip-pgbench", action="store_true")
    p.add_argument("--checkout-seconds", type=int, default=0,
                   help="then buyers only, no think time, for this long (0: skip)")
    p.add_argument("--checkout-users", type=int, default=8)
    p.add_argument("--orders-seconds", type=int, default=0,
                   help="then order placement only with wrk for this long (0: skip; at most 60)")
    p.add_argument("--orders-connections", type=int, default=32)
    p.add_argument("--browse-seconds", type=int, default=0,
                   help="after the mix, browsing only with wrk for this long (0: skip)")
    p.add_argument("--browse-connections", type=int, default=16)
    p.add_argument("--browse-paths", type=int, default=4000,
                   help="distinct paths cycled; 40,000 repeats no search in 30 s (no page-cache hits)")
    p.add_argument("--out", type=Path,
                   default=ROOT / "var" / "load" / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"))
    args = p.parse_args()
    if args.orders_seconds > 60:
        p.error("--orders-seconds: at most 60 (the per-consumer limit counts per minute)")
    args.out.mkdir(parents=True, exist_ok=True)
    fixtures = args.out / "fixtures.json"
    db_url = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linli_prod")

    print(f"== fixtures ({db_url})", flush=True)
    # Enough consumers that the checkout and orders phases, up to 1,000 orders/s each and
    # within the same minute, keep each under its limit: a 429 is answered in a fraction of
    # an order's time, so a consumer over it flatters the rate (wrk counts them apart).
    consumers = max(200, -(-1000 * (args.orders_seconds + args.checkout_seconds) // ORDERS_PER_CONSUMER_MINUTE))
    subprocess.run([sys.executable, str(HERE / "prepare.py"), "--out", str(fixtures),
                    "--consumers", str(consumers)],
                   env={**os.environ, "DATABASE_URL": db_url}, check=True)

    summary: dict[str, object] = {"base_url": args.base_url, "users": args.users,
                                  "duration_s": args.duration, "cpus": os.cpu_count()}
    if not args.skip_pgbench:
        url = os.environ.get("PGBENCH_URL", "postgres://postgres@127.0.0.1:5432/h_pgbench")
        print(f"== pgbench TPC-B-like, scale {args.pgbench_scale}, {args.pgbench_clients} clients, "
              f"{args.pgbench_seconds} s", flush=True)
        summary["pgbench"] = pgbench(url, scale=args.pgbench_scale, seconds=args.pgbench_seconds,
                                     clients=args.pgbench_clients)
        print(f"   {summary['pgbench']}", flush=True)

    print("== warm-up", flush=True)
    warm_up(args.base_url, fixtures)
    print(f"== locust mix: {args.users} users, {args.duration} s against {args.base_url}", flush=True)
    summary["loadavg_before_mix"] = loadavg()
    started = time.monotonic()
    counts = locust(args.base_url, users=args.users, spawn_rate=args.spawn_rate,
                    seconds=args.duration, prefix=args.out / "mix", fixtures=fixtures)
    elapsed = time.monotonic() - started
    summary["loadavg_after_mix"] = loadavg()
    rows = read_stats(args.out / "mix")
    history = read_history(args.out / "mix")
    agg = next(r for r in rows if r["Name"] == "Aggregated")
    orders = next((r for r in rows if r["Type"] == "POST" and r["Name"] == "/api/v1/orders"), None)
    # locust's Requests/s divides by the whole run, spawn included: the same for every row.
    order_rate = _f(orders, "Requests/s") * (
        1 - _f(orders, "Failure Count") / max(_f(orders, "Request Count"), 1)) if orders else 0.0
    summary["mix"] = {
        "req_per_s": _f(agg, "Requests/s"), "requests": int(_f(agg, "Request Count")),
        "failures": int(_f(agg, "Failure Count")), "p50_ms": _f(agg, "50%"),
        "p95_ms": _f(agg, "95%"), "p99_ms": _f(agg, "99%"),
        "orders_per_s": round(order_rate, 2), "counts": counts,
        "wall_s": round(elapsed, 1),
        "share": {f"{r['Type']} {r['Name']}": round(_f(r, "Request Count") / max(_f(agg, "Request Count"), 1), 3)
                  for r in rows if r["Name"] != "Aggregated"},
    }
    print(table(rows))
    bench = summary.get("pgbench")
    tps = float(bench["tps"]) if isinstance(bench, dict) else 0.0
    line = (f"mix: {summary['mix']['req_per_s']:.1f} req/s, p95 {summary['mix']['p95_ms']:.0f} ms, "  # type: ignore[index]
            f"p99 {summary['mix']['p99_ms']:.0f} ms, {summary['mix']['failures']} failures; "  # type: ignore[index]
            f"orders placed {order_rate:.2f}/s")
    if tps:
        line += f" = {order_rate / tps:.4f} x pgbench TPS ({tps:.0f})"
    print(line)
    (args.out / "chart.svg").write_text(chart_svg(
        rows, history, f"Linli lunch-peak mix: {args.users} users, {args.duration} s, "
                       f"{summary['mix']['req_per_s']:.1f} req/s"))  # type: ignore[index]

    # Browsing alone comes before the order floods: each order queues background work
    # (notifications, stock alerts, the unpaid-order timeout) that the Celery worker is still
    # doing for a minute after them, on the same two cores.
    if args.browse_seconds:
        print(f"== browse only: wrk, {args.browse_connections} connections, {args.browse_seconds} s",
              flush=True)
        summary["loadavg_before_browse"] = loadavg()
        paths = browse_paths(fixtures, args.browse_paths)
        before = cpu_snapshot()
        result = wrk_run(args.base_url, paths, seconds=args.browse_seconds, connections=args.browse_connections)
        usage = cpu_delta(before, cpu_snapshot())
        summary["browse"] = {**result, **as_dict(usage, requests=result["requests"]), "loadavg_after": loadavg()}
        met = result["req_per_s"] >= 1000 and result["p95_ms"] < 50 and not (
            result["socket_errors"] or result["status_errors"])
        print(f"browse only: {wrk_line(result)}; target >= 1,000 req/s with p95 < 50 ms and no "
              f"errors: {'met' if met else 'NOT met'}")
        print(f"   {cpu_line(usage, requests=result['requests'])}")
    if args.checkout_seconds:
        print(f"== checkout only: {args.checkout_users} buyers, no think time, "
              f"{args.checkout_seconds} s", flush=True)
        summary["loadavg_before_checkout"] = loadavg()
        before = cpu_snapshot()
        locust(args.base_url, users=args.checkout_users, spawn_rate=args.checkout_users,
               seconds=args.checkout_seconds, prefix=args.out / "checkout", fixtures=fixtures,
               extra_env={"LOAD_CHECKOUT_ONLY": "1"}, user_classes=("BuyerUser",))
        usage = cpu_delta(before, cpu_snapshot())
        crow = read_stats(args.out / "checkout")
        c_orders = next((r for r in crow if r["Name"] == "/api/v1/orders"), None)
        rate = _f(c_orders, "Requests/s") * (
            1 - _f(c_orders, "Failure Count") / max(_f(c_orders, "Request Count"), 1)) if c_orders else 0.0
        summary["checkout"] = {"orders_per_s": round(rate, 2), "p95_ms": _f(c_orders, "95%") if c_orders else 0,
                               "p99_ms": _f(c_orders, "99%") if c_orders else 0,
                               "failures": int(_f(c_orders, "Failure Count")) if c_orders else 0,
                               "ratio_to_pgbench_tps": round(rate / tps, 4) if tps else None,
                               **as_dict(usage, requests=int(_f(c_orders, "Request Count")) if c_orders else 0),
                               "loadavg_after": loadavg()}
        print(table(crow))
        print(f"checkout only: {rate:.1f} orders/s"
              + (f" = {rate / tps:.3f} x pgbench TPS ({tps:.0f})" if tps else ""))
        print(f"   {cpu_line(usage, requests=int(_f(c_orders, 'Request Count')) if c_orders else 0)}")
    if args.orders_seconds:
        print(f"== orders only: wrk, {args.orders_connections} connections, {args.orders_seconds} s",
              flush=True)
        data = json.loads(fixtures.read_text())
        summary["loadavg_before_orders"] = loadavg()
        bodies = order_bodies(fixtures)
        before = cpu_snapshot()
        result = wrk_post_run(args.base_url, "/api/v1/orders", bodies, data["consumers"],
                              run=f"load-{args.out.name}", seconds=args.orders_seconds,
                              connections=args.orders_connections)
        usage = cpu_delta(before, cpu_snapshot())
        ratio = result["ok_per_s"] / tps if tps else None  # accepted orders only
        summary["orders"] = {**result, "ratio_to_pgbench_tps": round(ratio, 4) if ratio is not None else None,
                             **as_dict(usage, requests=result["requests"]), "loadavg_after": loadavg()}
        met = result["ok_per_s"] >= 500 and not (result["socket_errors"] or result["status_errors"])
        print(f"orders only: {wrk_line(result)}"
              + (f" = {ratio:.3f} x pgbench TPS ({tps:.0f})" if ratio is not None else "")
              + f"; target >= 500 orders/s with no errors: {'met' if met else 'NOT met'}")
        print(f"   {cpu_line(usage, requests=result['requests'])}")
    if tps:
        summary["orders_ratio_to_pgbench_tps"] = round(order_rate / tps, 5)
    memory = app_memory()
    summary["app_memory"] = memory
    if memory:
        pids, parents = {m["pid"] for m in memory}, {m["ppid"] for m in memory}
        # granian's workers: children of an app-server process with none of their own (when
        # granian is started through a shell, the shell is the main process's parent)
        workers = [m for m in memory if m["ppid"] in pids and m["pid"] not in parents] or memory
        print("app workers' memory: " + ", ".join(
            f"pid {m['pid']} {m['rss_mb']} MB now, {m['peak_rss_mb']} MB peak (PSS {m['pss_mb']}, "
            f"USS {m['uss_mb']})" for m in workers)
            + " (budget 150 MB each)")
    else:
        print("app workers' memory: no granian process of linli.wsgi found on this machine")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    print(f"CSV, chart and summary in {args.out}")


if __name__ == "__main__":
    main()
