"""WSGI entry point, for servers that do not speak ASGI (granian in `make serve-prod`).

After the application is built its start-up objects are frozen out of the garbage
collector's full collections (`core/gcfreeze.py`: ~100 ms pauses otherwise). Django's test
framework and redis-py's asyncio client are loaded only if something asks for them
(`core/lazy_packages.py`)."""

import os

from linli.core.lazy_packages import defer_unused_packages

defer_unused_packages()  # before Django: Ninja's settings would load the test framework

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")

application = get_wsgi_application()

from linli.core.gcfreeze import freeze_startup_objects  # noqa: E402 - needs Django set up

freeze_startup_objects()
