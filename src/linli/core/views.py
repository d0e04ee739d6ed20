"""Platform-level pages: health check and the landing page."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from linli import __version__


def _check_database() -> dict[str, object]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001  (health checks report any failure, never raise)
        return {"ok": False, "vendor": connection.vendor, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def _check_cache() -> dict[str, object]:
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    started = time.perf_counter()
    try:
        cache.set("healthz:probe", "1", timeout=5)
        ok = cache.get("healthz:probe") == "1"
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "backend": backend, "error": type(exc).__name__}
    return {"ok": ok, "backend": backend,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def _check_outbox(database_ok: bool) -> dict[str, object]:
    """Task sends waiting for the broker (core.outbox): informative only. A broker outage
    does not take the app out of the load balancer (requests still succeed and the tasks
    are sent later), but a growing count or an old oldest row is what to alert on."""
    if not database_ok:
        return {"pending": None}
    from django.db.models import Min
    from django.utils import timezone

    from .models import OutboxMessage

    try:
        stats = OutboxMessage.objects.aggregate(oldest=Min("created_at"))
        pending = OutboxMessage.objects.count()
    except Exception as exc:  # noqa: BLE001
        return {"pending": None, "error": type(exc).__name__}
    oldest = stats["oldest"]
    return {"pending": pending,
            "oldest_age_s": round((timezone.now() - oldest).total_seconds()) if oldest else None}


def healthz(request: HttpRequest) -> JsonResponse:
    database, cache_status = _check_database(), _check_cache()
    ok = bool(database["ok"] and cache_status["ok"])
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "version": __version__,
         "database": database, "cache": cache_status, "outbox": _check_outbox(bool(database["ok"]))},
        status=200 if ok else 503,
    )


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")
