"""Browse endpoints one at a time, then mixed, with wrk against a running server (issue 15):
where the browse mix's time goes. The paths are bench/load/run.py's (`browse_paths`: random
points within 2 km of the centre, the seeded stores, the fixtures' search words); `--paths`
sets how many distinct ones are cycled (40,000 for a 30 s run repeats no search, so the
search page cache answers nothing twice).

Usage (`make serve-prod` up, fixtures written by a run.py run or bench/load/prepare.py):
  .venv/bin/python bench/load/browse.py --seconds 15 [--kinds nearby,store,menu,search,mix]
      [--paths 4000] [--fixtures var/load/fixtures.json] [--base-url http://127.0.0.1:8100]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from _wrk import wrk_line, wrk_run  # noqa: E402
from run import browse_paths  # noqa: E402

KINDS = ("nearby", "store", "menu", "search", "mix")


def kind_of(path: str) -> str:
    if path.startswith("/api/v1/stores/nearby"):
        return "nearby"
    if path.startswith("/api/v1/search"):
        return "search"
    return "menu" if path.endswith("/menu") else "store"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8100")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--paths", type=int, default=4000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--fixtures", type=Path, default=HERE.parents[1] / "var" / "load" / "fixtures.json")
    args = parser.parse_args()
    paths = browse_paths(args.fixtures, args.paths)
    for kind in args.kinds.split(","):
        if kind not in KINDS:
            parser.error(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
        chosen = paths if kind == "mix" else [p for p in paths if kind_of(p) == kind]
        wrk_run(args.base_url, chosen[:50], seconds=2, connections=args.connections)  # warm the workers
        result = wrk_run(args.base_url, chosen, seconds=args.seconds, connections=args.connections)
        print(f"{kind:7} {wrk_line(result)}", flush=True)


if __name__ == "__main__":
    main()
