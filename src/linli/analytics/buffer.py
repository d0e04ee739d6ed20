"""The event buffer: `track()` on the hot path costs microseconds (an append to an
in-process deque, no I/O) and never raises into the caller. With REDIS_URL set, a daemon
thread per process ships the deque to a Redis list every half second (one RPUSH of many
events), so the Celery worker sees every web process's events; `flush()` (Celery beat,
every few seconds) then moves at most `batch` events into the `Event` table with one
bulk_create. Without Redis (embedded mode) the deque is flushed directly. Losing a few
events (Redis down, a process killed) is accepted: events feed the funnel, never money
(sales come from orders, docs/analytics.md)."""

from __future__ import annotations

import atexit
import json
import logging
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

log = logging.getLogger(__name__)

KEY = "linli:analytics:events"
KINDS = frozenset({"impression", "store_view", "search", "add_to_cart", "checkout_start", "order",
                   "payment", "review"})
LOCAL_MAX = 100_000  # the in-process deque drops the oldest beyond this (a stalled flusher)
FLUSH_BATCH = 5_000

SHIP_EVERY_S = 0.5

_local: deque[str] = deque(maxlen=LOCAL_MAX)
_redis: Any = None
_shipper: threading.Thread | None = None
_shipper_lock = threading.Lock()
_ship_lock = threading.Lock()  # one shipment at a time, and `pending` never counts one in flight


def _client() -> Any:
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.05, socket_connect_timeout=0.05)
    return _redis


def _id(value: Any) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if getattr(value, "is_authenticated", True) is False:  # AnonymousUser
        return None
    return getattr(value, "pk", None)


def device_of(user_agent: str) -> str:
    """phone / tablet / desktop / app / other, from a User-Agent header."""
    ua = user_agent.lower()
    if "linli-app" in ua or "micromessenger" in ua:
        return "app"
    if "ipad" in ua or "tablet" in ua:
        return "tablet"
    if "mobile" in ua or "iphone" in ua or "android" in ua:
        return "phone"
    if "mozilla" in ua:
        return "desktop"
    return "other"


def track(kind: str, *, user: Any = None, store: Any = None, city: str = "", channel: str = "",
          device: str = "", props: dict[str, Any] | None = None, at: datetime | None = None) -> None:
    """Record one behaviour event. Never raises: a broken buffer is logged, not propagated."""
    try:
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        if not city and store is not None and not isinstance(store, int):
            city = getattr(store, "city_code", "") or ""
        record = json.dumps({"k": kind, "t": (at or timezone.now()).timestamp(), "u": _id(user),
                             "s": _id(store), "c": city[:16], "ch": channel[:8], "d": device[:8],
                             "p": props or {}}, ensure_ascii=False, default=str)
        _local.append(record)
        if settings.REDIS_URL and _shipper is None:
            _start_shipper()
    except Exception:  # noqa: BLE001 - the one place a failure must not reach checkout
        log.warning("analytics event %r dropped", kind, exc_info=True)


def _start_shipper() -> None:
    global _shipper
    with _shipper_lock:
        if _shipper is None:
            _shipper = threading.Thread(target=_ship_forever, name="analytics-events", daemon=True)
            _shipper.start()
            atexit.register(ship)


def _ship_forever() -> None:
    while True:
        time.sleep(SHIP_EVERY_S)
        ship()


def ship(limit: int = LOCAL_MAX) -> int:
    """Move this process's buffered events to the Redis list (one RPUSH); never raises."""
    if not settings.REDIS_URL:
        return 0
    with _ship_lock:
        records: list[str] = []
        while _local and len(records) < limit:
            records.append(_local.popleft())
        if not records:
            return 0
        try:
            _client().rpush(KEY, *records)
        except Exception:  # noqa: BLE001 - Redis down: these events are dropped, the caller never knew
            log.warning("analytics: %d events dropped, Redis unreachable", len(records), exc_info=True)
            return 0
        return len(records)


def _take(limit: int) -> list[str]:
    if settings.REDIS_URL:
        ship()
        client = _client()
        pipe = client.pipeline()  # MULTI: read and trim atomically, so two flushers never share an event
        pipe.lrange(KEY, 0, limit - 1)
        pipe.ltrim(KEY, limit, -1)
        raw, _ = pipe.execute()
        return [r.decode() if isinstance(r, bytes) else r for r in raw]
    out: list[str] = []
    while _local and len(out) < limit:
        out.append(_local.popleft())
    return out


def pending() -> int:
    """Events waiting in the buffer (this process's and, with Redis, everyone's shipped ones)."""
    with _ship_lock:
        return len(_local) + (int(_client().llen(KEY)) if settings.REDIS_URL else 0)


def flush(*, batch: int = FLUSH_BATCH) -> int:
    """Write at most `batch` buffered events (one bulk_create); the number written."""
    from .models import Event

    rows = []
    for record in _take(batch):
        try:
            data = json.loads(record)
            rows.append(Event(kind=data["k"], occurred_at=datetime.fromtimestamp(data["t"], tz=UTC),
                              user_id=data["u"], store_id=data["s"], city_code=data["c"], channel=data["ch"],
                              device=data["d"], props=data["p"]))
        except (ValueError, KeyError, TypeError):
            log.warning("analytics: unreadable buffered event dropped: %r", record[:200])
    Event.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def clear() -> None:
    """Empty the buffer (tests)."""
    if settings.REDIS_URL:
        _client().delete(KEY)
    _local.clear()


def track_request(kind: str, request: Any, *, store: Any = None, props: dict[str, Any] | None = None,
                  channel: str = "h5") -> None:
    """`track` with the user, channel and device taken from a web request (one line in a view)."""
    try:
        device = device_of(request.headers.get("User-Agent", ""))
        track(kind, user=getattr(request, "user", None), store=store, channel=channel, device=device, props=props)
    except Exception:  # noqa: BLE001 - never into the caller
        log.warning("analytics event %r dropped", kind, exc_info=True)
