"""Publish/subscribe for pushes to browsers (Server-Sent Events).

`publish(channel, event)` sends a JSON-able dict to everyone subscribed to `channel`.
Subscribers read with `subscribe(channel)` (blocking, for WSGI threads) or
`asubscribe(channel)` (asyncio, for ASGI). The backend follows the settings: Redis
pub/sub when REDIS_URL is set (works across processes), otherwise a thread-safe broker
inside this process (enough for `make run`, which serves from one process).

Delivery is at most once: a subscriber that is not connected misses the event, so
clients re-read the current state when they (re)connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol

from django.conf import settings

logger = logging.getLogger("linli.realtime")

SUBSCRIBE_TIMEOUT = 5.0  # seconds to wait for Redis to confirm a subscription


def _redis_channel(channel: str) -> str:
    prefix = getattr(settings, "LINLI_REALTIME_PREFIX", "linli:rt:")
    return f"{prefix}{channel}"


class SyncSubscription(Protocol):
    def get(self, timeout: float) -> dict[str, Any] | None: ...


class AsyncSubscription(Protocol):
    async def get(self, timeout: float) -> dict[str, Any] | None: ...


# --- in-process broker -------------------------------------------------------------------

class _MemorySyncSub:
    def __init__(self) -> None:
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=1000)

    def deliver(self, event: dict[str, Any]) -> None:
        with contextlib.suppress(queue.Full):  # a stuck reader loses events, never blocks publishers
            self.queue.put_nowait(event)

    def get(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None


class _MemoryAsyncSub:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)

    def _put(self, event: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(event)

    def deliver(self, event: dict[str, Any]) -> None:
        # Publishers run in other threads: hand the event to the subscriber's loop.
        with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is listening
            self.loop.call_soon_threadsafe(self._put, event)

    async def get(self, timeout: float) -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class MemoryBroker:
    """Per-process fan-out: channel -> subscribers, guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[Any]] = {}

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        self.publish_many([channel], event)

    def publish_many(self, channels: list[str], event: dict[str, Any]) -> None:
        with self._lock:
            subs = [sub for channel in channels for sub in self._subs.get(channel, ())]
        for sub in subs:
            sub.deliver(event)

    def _add(self, channel: str, sub: Any) -> None:
        with self._lock:
            self._subs.setdefault(channel, set()).add(sub)

    def _remove(self, channel: str, sub: Any) -> None:
        with self._lock:
            subs = self._subs.get(channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[channel]

    def subscriber_count(self, channel: str) -> int:
        with self._lock:
            return len(self._subs.get(channel, ()))

    @contextlib.contextmanager
    def subscribe(self, channel: str) -> Iterator[SyncSubscription]:
        sub = _MemorySyncSub()
        self._add(channel, sub)
        try:
            yield sub
        finally:
            self._remove(channel, sub)

    @contextlib.asynccontextmanager
    async def asubscribe(self, channel: str) -> AsyncIterator[AsyncSubscription]:
        sub = _MemoryAsyncSub()
        self._add(channel, sub)
        try:
            yield sub
        finally:
            self._remove(channel, sub)


# --- Redis ------------------------------------------------------------------------------

def _decode(message: dict[str, Any] | None) -> dict[str, Any] | None:
    if not message or message.get("type") != "message":
        return None
    try:
        return json.loads(message["data"])
    except (TypeError, ValueError):
        logger.warning("dropped a malformed realtime message")
        return None


class _RedisSyncSub:
    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    def get(self, timeout: float) -> dict[str, Any] | None:
        # get_message answers None early for control messages: wait out the whole timeout.
        ends = time.monotonic() + timeout
        while (left := ends - time.monotonic()) > 0:
            event = _decode(self.pubsub.get_message(timeout=left))
            if event is not None:
                return event
        return None


class _RedisAsyncSub:
    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    async def get(self, timeout: float) -> dict[str, Any] | None:
        ends = time.monotonic() + timeout
        while (left := ends - time.monotonic()) > 0:
            event = _decode(await self.pubsub.get_message(timeout=left))
            if event is not None:
                return event
        return None


def _confirmed(message: dict[str, Any] | None) -> bool:
    return bool(message) and message.get("type") == "subscribe"  # type: ignore[union-attr]


class RedisBroker:
    """Redis pub/sub: every app process subscribed to a channel receives each event."""

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        # A Redis that does not answer must not hold a request (publish fails open, below).
        self._client = redis.Redis.from_url(url, socket_connect_timeout=1.0)

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        self.publish_many([channel], event)

    def publish_many(self, channels: list[str], event: dict[str, Any]) -> None:
        """One event to several channels in one round trip (an order's change goes to its
        consumer's, its store's and its rider's), encoded once."""
        data = json.dumps(event, ensure_ascii=False)
        if len(channels) == 1:
            self._client.publish(_redis_channel(channels[0]), data)
            return
        pipe = self._client.pipeline(transaction=False)
        for channel in channels:
            pipe.publish(_redis_channel(channel), data)
        pipe.execute()

    @contextlib.contextmanager
    def subscribe(self, channel: str) -> Iterator[SyncSubscription]:
        pubsub = self._client.pubsub()
        try:
            pubsub.subscribe(_redis_channel(channel))
            # Wait for Redis to confirm, so every event published after this returns arrives.
            ends = time.monotonic() + SUBSCRIBE_TIMEOUT
            while not _confirmed(pubsub.get_message(timeout=0.5)) and time.monotonic() < ends:
                pass
            yield _RedisSyncSub(pubsub)
        finally:
            pubsub.close()

    @contextlib.asynccontextmanager
    async def asubscribe(self, channel: str) -> AsyncIterator[AsyncSubscription]:
        import redis.asyncio as aredis

        client = aredis.Redis.from_url(self.url)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(_redis_channel(channel))
            ends = time.monotonic() + SUBSCRIBE_TIMEOUT
            while not _confirmed(await pubsub.get_message(timeout=0.5)) and time.monotonic() < ends:
                pass
            yield _RedisAsyncSub(pubsub)
        finally:
            await pubsub.aclose()
            await client.aclose()


# --- the module-level interface ----------------------------------------------------------

_broker: MemoryBroker | RedisBroker | None = None
_broker_lock = threading.Lock()


def get_broker() -> MemoryBroker | RedisBroker:
    global _broker
    with _broker_lock:
        wanted = settings.REDIS_URL
        if _broker is None or (isinstance(_broker, RedisBroker) and _broker.url != wanted) or (
                isinstance(_broker, MemoryBroker) and wanted):
            _broker = RedisBroker(wanted) if wanted else MemoryBroker()
        return _broker


def publish(channel: str, event: dict[str, Any]) -> None:
    """Send `event` to the channel's current subscribers. Never raises for a broker outage:
    the change is already committed and clients re-read state when they reconnect."""
    publish_many([channel], event)


def publish_many(channels: list[str], event: dict[str, Any]) -> None:
    """`publish` to several channels at once; never raises for a broker outage either."""
    import redis

    try:
        get_broker().publish_many(channels, event)
    except redis.RedisError:
        logger.exception("realtime publish to %s failed", ", ".join(channels))


def subscribe(channel: str) -> contextlib.AbstractContextManager[SyncSubscription]:
    return get_broker().subscribe(channel)


def asubscribe(channel: str) -> contextlib.AbstractAsyncContextManager[AsyncSubscription]:
    return get_broker().asubscribe(channel)
