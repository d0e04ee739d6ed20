"""Keep the start-up's objects out of the garbage collector's full collections.

A web worker holds ~200,000 objects from start-up (1,600 modules' functions, classes,
Django's models and URL patterns, Ninja's and pydantic's schemas) that live as long as the
process. CPython's full collection (generation 2) walks every tracked object, so each one
stops the worker for **95-130 ms** here (two of them while a fresh worker loads its URL
conf and serves its first hundred requests, measured in process; with two threads under
one GIL both wait). In steady state full collections are rare (none in 8,750 requests of
the order and browse mix: they wait until the survivors since the last one reach a quarter
of the long-lived objects), but each one that comes, as caches fill, costs as much.
`gc.freeze()` moves everything alive into a permanent generation that collections skip;
what requests allocate is still collected as before. `bench/load/request_cpu.py` prints
the collector's pauses.

Called by the WSGI and ASGI entry points after the application is built. It first loads
the URL conf, as the first request would (every API module and its schemas), so that is
frozen too and the first request does not pay for it. Nothing frozen is garbage: a full
collection runs just before. `LINLI_GC_FREEZE=0` turns it off (to compare: docs/orders.md, "ninth session").

This is the practice Instagram described for their Django fleet (gc.freeze, Python 3.7+);
the objects here are not shared between forked processes (granian imports the app in each
worker), so the gain is the pauses, not memory.
"""

from __future__ import annotations

import gc
import os


def freeze_startup_objects() -> int:
    """Load the URL conf, collect, freeze. The number of objects frozen (0 when off)."""
    if os.environ.get("LINLI_GC_FREEZE", "1") == "0":
        return 0
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module, as the first request would
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
