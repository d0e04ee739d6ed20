"""Order events pushed to browsers, and the Server-Sent Events stream that carries them.

Channels: `orders.<order id>` (its consumer's order page), `stores.<store id>` (the
store's merchant console) and `riders.<rider id>` (the assigned rider's task list). `orders.services` calls `publish_order_event` on commit.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from linli.core.realtime import asubscribe, publish_many, subscribe

HEARTBEAT_SECONDS = 15.0
# A stream ends after this long and the browser's EventSource reconnects by itself: no
# connection (or WSGI thread) is held forever by a tab left open.
STREAM_MAX_SECONDS = 300.0
RETRY_MS = 3000


def order_channel(order_id: str) -> str:
    return f"orders.{order_id}"


def store_channel(store_id: str) -> str:
    return f"stores.{store_id}"


def rider_channel(rider_id: str) -> str:
    return f"riders.{rider_id}"


def on_order_changed(sender: Any, order: Any, **kwargs: Any) -> None:
    """Receiver of `linli.orders.events.order_changed` (connected in WebConfig.ready)."""
    publish_order_event(order)


def publish_order_event(order: Any) -> None:
    """Tell the order's consumer page, its store's console and its rider (if one is
    assigned: the accept that opens a delivery task assigns the nearest rider) that the
    order changed."""
    from linli.delivery.models import DeliveryTask

    event = {
        "type": "order", "order_id": order.public_id, "store_id": order.store.public_id,
        "status": order.status, "fulfilment": order.fulfilment, "total_fen": order.total_fen,
        "at": timezone.now().isoformat(),
    }
    channels = [order_channel(order.public_id), store_channel(order.store.public_id)]
    if order.fulfilment == "delivery" and order.status not in ("pending_payment", "paid"):
        rider_id = DeliveryTask.objects.filter(order_id=order.pk, rider__isnull=False).values_list(
            "rider__public_id", flat=True).first()
        if rider_id:
            channels.append(rider_channel(rider_id))
    publish_many(channels, event)  # one round trip to Redis


def _frame(event: dict[str, Any]) -> str:
    return f"event: {event.get('type', 'message')}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


_OPENING = f"retry: {RETRY_MS}\n: connected\n\n"
_HEARTBEAT = ": heartbeat\n\n"


def _release_database() -> None:
    """Close this thread's database connections before a stream starts: the request's
    reads are done, and a stream stays open for minutes. Under WSGI the thread kept its
    connection for the next request (CONN_MAX_AGE), so every open stream held one of
    PostgreSQL's connections doing nothing; the next request on the thread reconnects. A
    connection inside a transaction (a test's) is left alone."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close()


def _sync_stream(channel: str, heartbeat: float, max_seconds: float) -> Iterator[str]:
    # Under WSGI a client that went away makes the next write fail, which closes this
    # generator (GeneratorExit) and the `with` unsubscribes: at most one heartbeat later.
    _release_database()
    with subscribe(channel) as sub:
        yield _OPENING
        ends = time.monotonic() + max_seconds
        while time.monotonic() < ends:
            event = sub.get(timeout=min(heartbeat, max(ends - time.monotonic(), 0.01)))
            yield _frame(event) if event is not None else _HEARTBEAT


async def _async_stream(channel: str, heartbeat: float, max_seconds: float) -> AsyncIterator[str]:
    # Under ASGI Django cancels this generator when the client disconnects (CancelledError
    # at the await), and the `async with` unsubscribes.
    async with asubscribe(channel) as sub:
        yield _OPENING
        ends = time.monotonic() + max_seconds
        while time.monotonic() < ends:
            event = await sub.get(timeout=min(heartbeat, max(ends - time.monotonic(), 0.01)))
            yield _frame(event) if event is not None else _HEARTBEAT


def sse_response(request: HttpRequest, channel: str, *, heartbeat: float = HEARTBEAT_SECONDS,
                 max_seconds: float = STREAM_MAX_SECONDS) -> StreamingHttpResponse:
    """A text/event-stream of the channel's events: an async generator under ASGI (no
    thread held per client), a blocking one under WSGI (the dev/test live server)."""
    if isinstance(request, ASGIRequest):
        content: Any = _async_stream(channel, heartbeat, max_seconds)
    else:
        content = _sync_stream(channel, heartbeat, max_seconds)
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response
