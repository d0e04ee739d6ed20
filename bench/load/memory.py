"""Where one app process's memory goes: resident size after each stage, no server.

Imports `linli.wsgi` as a granian worker does, loads the URL conf, then calls the WSGI
application directly over run.py's browse paths (nearby, store, menu, search in the
mix's shares), places orders as the harness's wrk phase does (`--orders`, its consumers'
tokens: fixtures younger than 15 minutes) and finally a few password logins (Argon2),
printing after each stage:
resident size (VmRSS), its peak (VmHWM), the anonymous part and the private part (USS)
from /proc, and the number of modules. No HTTP server or load generator shares the
process, so the figures are steadier than the harness's (docs/scaling.md).

Needs the fixtures of `bench/load/prepare.py` (run.py writes them too) in the server's
database: `DATABASE_URL` (default linli_prod, as `make serve-prod`). Searches do not index
(`LINLI_SEARCH_INLINE_REFRESH=0`, as in a web worker beside Celery): run `linli
search_reindex` on that database first if nothing has indexed it yet.

Usage: .venv/bin/python bench/load/memory.py [--paths 8000] [--fixtures var/load/fixtures.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from inprocess import worker_environment, wsgi_call  # noqa: E402
from procfs import process_memory  # noqa: E402


def footprint() -> str:
    used = process_memory(Path("/proc/self"))
    return (f"RSS {used['rss_mb']:6.1f} MB (peak {used['peak_rss_mb']:.1f}, anonymous {used['anonymous_mb']:.1f}, "
            f"USS {used['uss_mb']:.1f}), {len(sys.modules)} modules")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "memory.py").splitlines()[0])  # None under -OO
    parser.add_argument("--paths", type=int, default=8000, help="browse requests (reported every 2,000)")
    parser.add_argument("--orders", type=int, default=1000, help="orders placed (reported every 500)")
    parser.add_argument("--logins", type=int, default=3)
    parser.add_argument("--fixtures", type=Path, default=ROOT / "var" / "load" / "fixtures.json")
    args = parser.parse_args()
    if not args.fixtures.exists():
        sys.exit(f"memory: no fixtures at {args.fixtures}; run bench/load/prepare.py first")
    worker_environment()  # as under `make serve-prod`
    print(f"{'interpreter':<22} {footprint()}", flush=True)

    from linli.wsgi import application

    print(f"{'linli.wsgi imported':<22} {footprint()}", flush=True)
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - what the first request would load
    print(f"{'URL conf loaded':<22} {footprint()}", flush=True)

    from run import browse_paths, order_bodies

    def call(method: str, path: str, body: bytes = b"") -> str:
        return wsgi_call(application, method, path, body)

    failed = 0
    for done, path in enumerate(browse_paths(args.fixtures, args.paths), 1):
        failed += not call("GET", path).startswith("200")
        if done % 2000 == 0 or done == args.paths:
            print(f"{f'browse {done:,}':<22} {footprint()}; non-200 answers {failed}", flush=True)
    tokens = json.loads(args.fixtures.read_text())["consumers"]
    bodies = [body.encode() for body in order_bodies(args.fixtures, 500)]
    refused = 0
    for n in range(1, args.orders + 1):
        answer = wsgi_call(application, "POST", "/api/v1/orders", bodies[n % len(bodies)],
                           {"HTTP_AUTHORIZATION": f"Bearer {tokens[n % len(tokens)]}",
                            "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex})
        refused += not answer.startswith("201")
        if n % 500 == 0 or n == args.orders:
            print(f"{f'orders {n:,}':<22} {footprint()}; not placed {refused}", flush=True)
    merchant = json.loads(args.fixtures.read_text())["merchant"]
    body = json.dumps({"login": merchant["login"], "password": merchant["password"]}).encode()
    for n in range(1, args.logins + 1):
        answer = call("POST", "/api/v1/auth/password-login", body)
        print(f"{f'password login {n}':<22} {footprint()}; {answer}", flush=True)


if __name__ == "__main__":
    main()
