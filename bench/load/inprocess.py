"""What the in-process benchmarks share (memory.py, request_cpu.py): a web worker's
environment as `make serve-prod` sets it, and one request called straight into the WSGI
application, answered and closed as a server would."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any


def worker_environment() -> None:
    """Defaults for what `make serve-prod` exports, unless already set."""
    for key, value in {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/linli_prod",
                       "REDIS_URL": "redis://127.0.0.1:6379/9", "LINLI_LOG_LEVEL": "ERROR",
                       "DJANGO_SETTINGS_MODULE": "linli.settings",
                       # Searches leave indexing to the Celery beat, so the process never
                       # loads jieba and pypinyin (~125 MB); without these the first search
                       # after a seed indexes the city here, and the figures are not a web
                       # worker's.
                       "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
                       "LINLI_SEARCH_INLINE_REFRESH": "0", "LINLI_OUTBOX_RELAY": "1",
                       "LINLI_SANDBOX_SECRET": "linli-load-sandbox"}.items():
        os.environ.setdefault(key, value)


def wsgi_call(application: Callable[..., Any], method: str, path: str, body: bytes = b"",
              headers: Mapping[str, str] | None = None) -> str:
    """The status line of one request. `headers`: extra CGI names (`HTTP_AUTHORIZATION`).
    The answer is read and closed, so Django's request_finished runs as under a server."""
    route, _, query = path.partition("?")
    environ = {"REQUEST_METHOD": method, "PATH_INFO": route, "QUERY_STRING": query,
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8100", "SERVER_PROTOCOL": "HTTP/1.1",
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
               "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
               "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1", "wsgi.errors": sys.stderr,
               "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": True,
               "wsgi.run_once": False, **(headers or {})}
    status: list[str] = []
    answer = application(environ, lambda s, _headers, exc_info=None: status.append(s))
    try:
        b"".join(answer)
    finally:
        answer.close()
    return status[0]
