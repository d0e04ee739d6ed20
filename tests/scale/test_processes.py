"""Two real app processes, one Redis (issue 15): what one process does is seen by the other.

Process A is granian (WSGI, run as `make serve-prod` runs its workers: `python -OO`, the
OpenAPI document from a file built beforehand), process B uvicorn (ASGI, like
`make run`); both serve the test's own database (committed data: a transactional test)
and share REDIS_URL. A merchant's live order stream open on B receives the order placed
and paid through A; a rate limit counts hits on both; one Idempotency-Key sent to both at
once makes one order.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import Client

from linli.merchants.models import Product, Store
from linli.orders.models import Order
from linli.payments.gateways.sandbox import sandbox_notification_build
from linli.payments.models import SandboxTrade
from tests.fixtures import make_product, make_store, token_api

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: the processes share Redis"),
    pytest.mark.django_db(transaction=True),
]

BIN = Path(sys.executable).parent
ORDERS_PER_MINUTE = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connections["default"].settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class AppProcess:
    def __init__(self, name: str, argv: list[str], port: int, log: Path, **extra_env: str) -> None:
        self.name, self.port, self.log = name, port, log
        env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL,
               "LINLI_SANDBOX_SECRET": settings.LINLI_SANDBOX_SECRET, "LINLI_LOG_LEVEL": "WARNING",
               "LINLI_RATE_ORDERS_PER_MINUTE": str(ORDERS_PER_MINUTE), "LINLI_CONN_MAX_AGE": "0",
               "LINLI_REALTIME_PREFIX": settings.LINLI_REALTIME_PREFIX,
               "LINLI_CACHE_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", "linli"), **extra_env}
        env.pop("CELERY_BROKER_URL", None)  # tasks eager in the children, like `make run`
        self.proc = subprocess.Popen(argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            time.sleep(0.3)
        pytest.fail(f"{self.name} did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, content = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            status, content = exc.code, exc.read()
        try:
            return status, json.loads(content)
        except ValueError:
            return status, content.decode(errors="replace")


@pytest.fixture
def two_processes(tmp_path) -> Iterator[tuple[AppProcess, AppProcess]]:
    port_a, port_b = _free_port(), _free_port()
    document = tmp_path / "openapi.json"  # as `make serve-prod` builds it, in a plain process
    call_command("openapi_build", "--out", str(document), stdout=io.StringIO())
    a = AppProcess("A (granian, WSGI)", [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
                                         "--port", str(port_a), "--workers", "1", "--blocking-threads", "4",
                                         "--no-ws", "linli.wsgi:application"], port_a, tmp_path / "a.log",
                   PYTHONOPTIMIZE="2", LINLI_OPENAPI_FILE=str(document))
    b = AppProcess("B (uvicorn, ASGI)", [str(BIN / "uvicorn"), "linli.asgi:application", "--host", "127.0.0.1",
                                         "--port", str(port_b), "--workers", "1", "--log-level", "warning",
                                         "--timeout-graceful-shutdown", "2"], port_b, tmp_path / "b.log")
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()


class EventStream:
    """A browser's EventSource, reduced: the data of each `event: order` frame, in a queue."""

    def __init__(self, process: AppProcess, path: str, cookie: str) -> None:
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.connected = threading.Event()
        self.conn = http.client.HTTPConnection("127.0.0.1", process.port, timeout=60)
        self.conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/event-stream"})
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.read(500)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.connected.wait(10), "the stream never said it was connected"

    def _read(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError, http.client.HTTPException):  # closed
            while line := self.response.readline():
                text = line.decode().rstrip("\n")
                if text == ": connected":
                    self.connected.set()
                elif text.startswith("data: "):
                    self.events.put(json.loads(text[len("data: "):]))

    def wait_for(self, predicate, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if predicate(event):
                return event
        return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()


def _order_body(store: Store, product: Product) -> dict[str, Any]:
    return {"store_id": store.public_id, "fulfilment": "pickup",
            "items": [{"product_id": product.public_id, "quantity": 1}]}


def _consumer_headers() -> dict[str, str]:
    from linli.accounts.models import User

    user = User.objects.create_user(username=f"buyer-{uuid.uuid4().hex[:10]}")
    return {"Authorization": f"Bearer {token_api(user).token}"}


def test_the_merchant_stream_on_one_process_hears_an_order_paid_through_the_other(two_processes):
    a, b = two_processes
    store = make_store(name="两个进程的店")
    product = make_product(store, price_fen=1800)
    owner = store.merchant.members.get(role="owner").user
    client = Client()
    client.force_login(owner)  # a session row both processes can read
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    stream = EventStream(b, f"/events/stores/{store.public_id}", cookie)
    try:
        headers = {**_consumer_headers(), "Idempotency-Key": uuid.uuid4().hex}
        status, order = a.call("POST", "/api/v1/orders", _order_body(store, product), headers)
        assert status == 201, order
        status, payment = a.call("POST", f"/api/v1/orders/{order['id']}/payments", {}, headers)
        assert status == 201, payment
        trade = SandboxTrade.objects.get(out_trade_no=payment["id"])
        trade.status = SandboxTrade.Status.SUCCESS  # the buyer paid at the gateway
        trade.save()
        body, signed = sandbox_notification_build(trade)
        status, outcome = a.call("POST", "/api/v1/payments/callbacks/sandbox", headers=signed, raw=body)
        assert status == 200, outcome

        paid = stream.wait_for(lambda e: e.get("order_id") == order["id"] and e.get("status") == "paid",
                               timeout=5)
        assert paid is not None, f"B's stream missed the payment; log of B:\n{b.log.read_text()[-2000:]}"
        assert paid["store_id"] == store.public_id and paid["total_fen"] == order["total_fen"]
    finally:
        stream.close()


def test_a_rate_limit_counts_requests_on_both_processes(two_processes):
    a, b = two_processes
    store = make_store()
    product = make_product(store)
    headers = _consumer_headers()
    if time.time() % 60 > 45:  # one fixed window for the whole test
        time.sleep(61 - time.time() % 60)
    answers = []
    for process in (a, b) * (ORDERS_PER_MINUTE // 2):
        status, _ = process.call("POST", "/api/v1/orders", _order_body(store, product),
                                 {**headers, "Idempotency-Key": uuid.uuid4().hex})
        answers.append(status)
    assert answers == [201] * ORDERS_PER_MINUTE  # half on A, half on B: within the budget
    for process in (a, b):
        status, refusal = process.call("POST", "/api/v1/orders", _order_body(store, product),
                                       {**headers, "Idempotency-Key": uuid.uuid4().hex})
        assert status == 429, refusal
        assert refusal["code"] == "rate_limited"


def test_one_idempotency_key_sent_to_both_processes_at_once_makes_one_order(two_processes):
    a, b = two_processes
    store = make_store()
    product = make_product(store, stock=10)
    headers = {**_consumer_headers(), "Idempotency-Key": uuid.uuid4().hex}
    start = threading.Barrier(2)
    answers: dict[str, tuple[int, Any]] = {}

    def place(process: AppProcess) -> None:
        start.wait()
        answers[process.name] = process.call("POST", "/api/v1/orders", _order_body(store, product), headers)

    threads = [threading.Thread(target=place, args=(p,)) for p in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(status for status, _ in answers.values())
    assert statuses in ([200, 201], [201, 201]), answers
    assert len({body["id"] for _, body in answers.values()}) == 1
    assert Order.objects.filter(idempotency_key=headers["Idempotency-Key"]).count() == 1


def test_the_optimized_worker_answers_bad_input_precisely_and_serves_the_described_api(two_processes, tmp_path):
    """A runs without docstrings or asserts (-OO): its refusals are whole, and the OpenAPI
    document it serves is the one built beforehand, whose schema descriptions come from
    docstrings A never loaded."""
    a, _ = two_processes
    headers = {**_consumer_headers(), "Idempotency-Key": uuid.uuid4().hex, "Accept-Language": "en"}
    status, refusal = a.call("POST", "/api/v1/orders", raw=b"{not json", headers=headers)
    assert (status, refusal["code"], refusal["message"]) == (400, "malformed_body", "The request body is not valid JSON.")
    status, refusal = a.call("POST", "/api/v1/orders", {"store_id": 5, "items": "many"}, headers)
    assert status == 422 and refusal["code"] == "invalid_input" and refusal["details"]["errors"]
    status, refusal = a.call("GET", "/api/v1/stores/nearby?lat=91&lng=121.47", headers={"Accept-Language": "zh-hans"})
    assert status == 422 and refusal["code"] == "invalid_input" and refusal["message"] == "请求参数不正确。"
    status, document = a.call("GET", "/api/v1/openapi.json")
    assert status == 200
    assert document == json.loads((tmp_path / "openapi.json").read_bytes())
    described = [name for name, schema in document["components"]["schemas"].items() if schema.get("description")]
    assert described  # models' docstrings: a document built under -OO has none
