"""The pub/sub behind live pages, and the Server-Sent Events streams on top of it."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from django.conf import settings
from django.test import Client

from linli.core.realtime import MemoryBroker, get_broker, publish, publish_many, subscribe
from linli.orders.models import Order
from linli.orders.services import AddressInput, LineInput, order_act, order_place
from linli.web.events import _async_stream, order_channel, publish_order_event, store_channel
from tests.fixtures import delivery_address, make_staff, next_phone

from .helpers import web_password_login, web_sms_login


def test_memory_broker_delivers_to_every_subscriber_of_the_channel_only():
    broker = MemoryBroker()
    with broker.subscribe("a") as one, broker.subscribe("a") as two, broker.subscribe("b") as other:
        broker.publish("a", {"n": 1})
        assert one.get(timeout=1) == {"n": 1} and two.get(timeout=1) == {"n": 1}
        assert other.get(timeout=0.01) is None
    assert broker.subscriber_count("a") == 0  # leaving the block unsubscribes


def test_memory_broker_hands_events_from_other_threads_to_an_asyncio_subscriber():
    broker = MemoryBroker()

    async def main():
        async with broker.asubscribe("c") as sub:
            threading.Thread(target=broker.publish, args=("c", {"from": "thread"})).start()
            return await sub.get(timeout=2)

    assert asyncio.run(main()) == {"from": "thread"}
    assert broker.subscriber_count("c") == 0


def test_async_stream_sends_heartbeats_and_unsubscribes_when_cancelled():
    broker = get_broker()
    if not isinstance(broker, MemoryBroker):
        pytest.skip("counts subscribers of the in-process broker")

    async def main():
        stream = _async_stream("hb", heartbeat=0.05, max_seconds=10)
        assert (await stream.__anext__()).startswith("retry:")
        assert await stream.__anext__() == ": heartbeat\n\n"
        assert broker.subscriber_count("hb") == 1
        publish("hb", {"type": "order", "status": "paid"})
        assert "event: order" in await stream.__anext__()
        await stream.aclose()  # what Django does when the client disconnects
        return broker.subscriber_count("hb")

    assert asyncio.run(main()) == 0


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
def test_redis_broker_reaches_subscribers_through_redis():
    with subscribe("redis-check") as sub:
        publish("redis-check", {"ok": True})
        got = None
        for _ in range(20):
            got = sub.get(timeout=0.1)
            if got:
                break
    assert got == {"ok": True}


def test_one_event_reaches_several_channels_and_no_other():
    """publish_many: the broker of this run (Redis in CI: one pipelined round trip)."""
    with subscribe("many-a") as a, subscribe("many-b") as b, subscribe("many-c") as c:
        publish_many(["many-a", "many-b"], {"n": 2})
        got_a = got_b = None
        for _ in range(20):
            got_a = got_a or a.get(timeout=0.1)
            got_b = got_b or b.get(timeout=0.1)
            if got_a and got_b:
                break
        assert got_a == got_b == {"n": 2}
        assert c.get(timeout=0.2) is None


def _place(consumer, product, key="k1") -> Order:
    return order_place(consumer=consumer, store_id=product.store.public_id,
                       lines=[LineInput(product_id=product.public_id, quantity=1)],
                       fulfilment="delivery", address=AddressInput(**delivery_address()),
                       idempotency_key=key).order


@pytest.mark.django_db
def test_order_changes_are_published_after_commit(product, django_capture_on_commit_callbacks):
    from linli.accounts.models import User

    consumer = User.objects.create_user(username=next_phone(), phone=next_phone())
    with subscribe(store_channel(product.store.public_id)) as sub:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            order = _place(consumer, product)
        assert sub.get(timeout=0.05) is None  # nothing before the commit
        for callback in callbacks:
            callback()
        event = sub.get(timeout=1)
        assert event["order_id"] == order.public_id and event["status"] == "pending_payment"
        Order.objects.filter(pk=order.pk).update(status="paid")
        staff = make_staff(product.store)
        with django_capture_on_commit_callbacks(execute=True):
            order_act(order_id=order.public_id, actor=staff, action="accept")
        assert sub.get(timeout=1)["status"] == "accepted"


@pytest.mark.django_db
def test_order_event_stream_for_its_consumer(product):
    client = web_sms_login(next_phone())
    from linli.accounts.models import User

    consumer = User.objects.get(pk=client.session["_auth_user_id"])
    order = _place(consumer, product)
    answer = client.get(f"/events/orders/{order.public_id}")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/event-stream")
    chunks = iter(answer.streaming_content)
    assert next(chunks).startswith(b"retry:")  # subscribed from here on
    publish_order_event(order)
    frame = next(chunks).decode()
    assert frame.startswith("event: order\n")
    assert json.loads(frame.split("data: ", 1)[1])["order_id"] == order.public_id
    answer.close()
    broker = get_broker()
    if isinstance(broker, MemoryBroker):
        assert broker.subscriber_count(order_channel(order.public_id)) == 0


@pytest.mark.django_db(transaction=True)  # no test transaction: the stream's thread as in production
def test_an_open_stream_holds_no_database_connection(product):
    """A WSGI stream lasts minutes; the thread's kept connection is closed as it starts."""
    from django.db import connection

    from linli.accounts.models import User

    client = web_sms_login(next_phone())
    order = _place(User.objects.get(pk=client.session["_auth_user_id"]), product)
    answer = client.get(f"/events/orders/{order.public_id}")
    assert connection.connection is not None  # the request read the order
    chunks = iter(answer.streaming_content)
    assert next(chunks).startswith(b"retry:")
    assert connection.connection is None
    assert Order.objects.filter(pk=order.pk).exists()  # the next use reconnects
    publish_order_event(order)
    assert next(chunks).decode().startswith("event: order\n")
    answer.close()


@pytest.mark.django_db
def test_a_stream_inside_a_transaction_leaves_its_connection_open(product):
    from django.db import connection

    from linli.accounts.models import User

    client = web_sms_login(next_phone())
    order = _place(User.objects.get(pk=client.session["_auth_user_id"]), product)
    answer = client.get(f"/events/orders/{order.public_id}")
    assert next(iter(answer.streaming_content)).startswith(b"retry:")
    assert connection.in_atomic_block and connection.connection is not None
    assert Order.objects.filter(pk=order.pk).exists()  # the test's transaction still works
    answer.close()


@pytest.mark.django_db
def test_event_streams_refuse_strangers(product):
    from linli.accounts.models import User

    consumer = User.objects.create_user(username=next_phone(), phone=next_phone())
    order = _place(consumer, product)
    assert Client().get(f"/events/orders/{order.public_id}").status_code == 302  # log in first
    assert web_sms_login(next_phone()).get(f"/events/orders/{order.public_id}").status_code == 404
    store_id = product.store.public_id
    assert web_sms_login(next_phone()).get(f"/events/stores/{store_id}").status_code == 403
    staff = make_staff(product.store)
    own = web_password_login(staff.username, "m")
    answer = own.get(f"/events/stores/{store_id}")
    assert answer.status_code == 200
    answer.close()
    from tests.fixtures import make_store

    other = make_store(name="别人的店")
    assert own.get(f"/events/stores/{other.public_id}").status_code == 404


@pytest.mark.django_db
def test_order_event_stream_is_an_async_generator_under_asgi(product):
    """Under ASGI the stream holds no thread: Django iterates an async generator."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    from linli.accounts.models import User

    consumer = User.objects.create_user(username=next_phone(), phone=next_phone())
    order = _place(consumer, product)

    async def main():
        client = AsyncClient()
        await client.aforce_login(consumer)
        answer = await client.get(f"/events/orders/{order.public_id}")
        assert answer.status_code == 200 and answer.is_async
        chunks = aiter(answer.streaming_content)
        assert (await anext(chunks)).startswith(b"retry:")
        publish(order_channel(order.public_id), {"type": "order", "status": "paid"})
        frame = (await anext(chunks)).decode()
        await chunks.aclose()
        return frame

    assert '"status": "paid"' in async_to_sync(main)()
