"""WSGI entry point, for servers that do not speak ASGI (granian in `make serve-prod`).

After the application is built its start-up objects are frozen out of the garbage
collector's full collections (`core/gcfreeze.py`: ~100 ms pauses otherwise)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")

application = get_wsgi_application()

from linli.core.gcfreeze import freeze_startup_objects  # noqa: E402 - needs Django set up

freeze_startup_objects()
