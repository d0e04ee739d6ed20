"""ASGI entry point: `uvicorn linli.asgi:application`.

Persistent database connections are off here (LINLI_CONN_MAX_AGE=0 unless set): under
ASGI Django runs each request's synchronous code in a thread of its own, so a connection
kept "for the next request" is never reused and stays open until the thread is collected.
Django's documentation says to disable them under ASGI; under load on PostgreSQL they ran
the server out of connections ("too many clients already", 500s on /search in
bench/discovery.py). A connection is opened per request instead; put PgBouncer (or a
pool) in front where that cost matters, or serve the API with WSGI (`make serve-wsgi`).

As under WSGI, the start-up's objects are frozen out of the garbage collector's full
collections once the application is built (`core/gcfreeze.py`), and Django's test
framework and redis-py's asyncio client are loaded only if something asks for them
(`core/lazy_packages.py`).
"""

import os

from linli.core.lazy_packages import defer_unused_packages

defer_unused_packages()  # before Django: Ninja's settings would load the test framework

from django.core.asgi import get_asgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
os.environ.setdefault("LINLI_CONN_MAX_AGE", "0")

application = get_asgi_application()

from linli.core.gcfreeze import freeze_startup_objects  # noqa: E402 - needs Django set up

freeze_startup_objects()
