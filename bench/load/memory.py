"""Where one app process's memory goes: resident size after each stage, no server.

Imports `linli.wsgi` as a granian worker does, loads the URL conf, then calls the WSGI
application directly over run.py's browse paths (nearby, store, menu, search in the
mix's shares) and finally a few password logins (Argon2), printing after each stage:
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
import io
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from procfs import process_memory  # noqa: E402


def footprint() -> str:
    used = process_memory(Path("/proc/self"))
    return (f"RSS {used['rss_mb']:6.1f} MB (peak {used['peak_rss_mb']:.1f}, anonymous {used['anonymous_mb']:.1f}, "
            f"USS {used['uss_mb']:.1f}), {len(sys.modules)} modules")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=8000, help="browse requests (reported every 2,000)")
    parser.add_argument("--logins", type=int, default=3)
    parser.add_argument("--fixtures", type=Path, default=ROOT / "var" / "load" / "fixtures.json")
    args = parser.parse_args()
    if not args.fixtures.exists():
        sys.exit(f"memory: no fixtures at {args.fixtures}; run bench/load/prepare.py first")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linli_prod")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    os.environ.setdefault("LINLI_LOG_LEVEL", "ERROR")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    # As under `make serve-prod`: searches leave indexing to the Celery beat, so the process
    # never loads jieba and pypinyin (~125 MB). Without this, the first search after a seed
    # indexes the city in this process and the figures are not a web worker's.
    os.environ.setdefault("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    os.environ.setdefault("LINLI_SEARCH_INLINE_REFRESH", "0")
    print(f"{'interpreter':<22} {footprint()}", flush=True)

    from linli.wsgi import application

    print(f"{'linli.wsgi imported':<22} {footprint()}", flush=True)
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - what the first request would load
    print(f"{'URL conf loaded':<22} {footprint()}", flush=True)

    from run import browse_paths

    def call(method: str, path: str, body: bytes = b"") -> str:
        route, _, query = path.partition("?")
        environ = {"REQUEST_METHOD": method, "PATH_INFO": route, "QUERY_STRING": query,
                   "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8100", "SERVER_PROTOCOL": "HTTP/1.1",
                   "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
                   "CONTENT_TYPE": "application/json", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1",
                   "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": True,
                   "wsgi.multiprocess": True, "wsgi.run_once": False}
        status: list[str] = []
        b"".join(application(environ, lambda s, headers, exc_info=None: status.append(s)))
        return status[0]

    failed = 0
    for done, path in enumerate(browse_paths(args.fixtures, args.paths), 1):
        failed += not call("GET", path).startswith("200")
        if done % 2000 == 0 or done == args.paths:
            print(f"{f'browse {done:,}':<22} {footprint()}; non-200 answers {failed}", flush=True)
    merchant = json.loads(args.fixtures.read_text())["merchant"]
    body = json.dumps({"login": merchant["login"], "password": merchant["password"]}).encode()
    for n in range(1, args.logins + 1):
        answer = call("POST", "/api/v1/auth/password-login", body)
        print(f"{f'password login {n}':<22} {footprint()}; {answer}", flush=True)


if __name__ == "__main__":
    main()
