"""A lunch peak against the real API (issue 15): locust scenarios, run by bench/load/run.py.

Share of requests the user classes aim at (weights x pace, checked in the run's CSV):
  ~70 % browsing: nearby stores, a store, its menu, search (BrowsingUser);
  ~15 % cart and checkout: the menu, POST /orders with an Idempotency-Key, open the
        sandbox payment (BuyerUser);
   ~5 % payment callbacks: the gateway's HMAC-signed notification for each opened
        payment, as the sandbox gateway signs it (GatewayUser);
   ~5 % merchant console: accept the paid orders, look at the live queue (MerchantUser);
   ~5 % rider location reports, one per rider every 3-5 s (RiderUser).

Fixtures come from bench/load/prepare.py (LOAD_FIXTURES, JSON): consumer and rider tokens,
the demo store and its products. The gateway signs with LINLI_SANDBOX_SECRET, which must be
the server's (`make serve-prod` sets both to `linli-load-sandbox` unless told otherwise).
LOAD_CHECKOUT_ONLY=1 makes buyers place orders back to back (no think time) for the
order-placement ceiling; buyers rotate over all consumer tokens so the per-consumer order
rate limit (20 a minute) is not what is measured.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser

API = "/api/v1"
FIXTURES: dict[str, Any] = json.loads(
    Path(os.environ.get("LOAD_FIXTURES", "var/load/fixtures.json")).read_text())
SANDBOX_SECRET = os.environ.get("LINLI_SANDBOX_SECRET", "linli-load-sandbox").encode()
CHECKOUT_ONLY = os.environ.get("LOAD_CHECKOUT_ONLY") == "1"

STORE = FIXTURES["store"]
CITY = FIXTURES["city"]
SEARCH_WORDS = FIXTURES["search_words"]  # bench/load/prepare.py

# Hand-offs between users of one locust process: opened payments wait for the gateway,
# paid orders wait for the merchant. Counters for the summary (orders placed, paid, accepted).
OPENED: collections.deque[dict[str, Any]] = collections.deque(maxlen=5000)
PAID: collections.deque[str] = collections.deque(maxlen=5000)
COUNTS: collections.Counter[str] = collections.Counter()
_consumer_tokens = itertools.cycle(FIXTURES["consumers"])
_rider_slots = itertools.cycle(FIXTURES["riders"])


def _near(lat: float, lng: float, km: float = 2.0) -> tuple[float, float]:
    return (lat + random.uniform(-km, km) / 111.0, lng + random.uniform(-km, km) / 95.0)


def _expect(response: Any, *statuses: int) -> bool:
    if response.status_code in statuses:
        response.success()
        return True
    body = (response.text or "")[:200]
    response.failure(f"{response.status_code}: {body}")
    return False


class BrowsingUser(FastHttpUser):
    """A hungry consumer scrolling: nearby, a store, its menu, a search. Anonymous."""

    weight = 70
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.lat, self.lng = _near(CITY["lat"], CITY["lng"])
        self.seen: list[str] = list(FIXTURES["stores"][:20])

    @task(4)
    def nearby(self) -> None:
        with self.client.get(f"{API}/stores/nearby?lat={self.lat:.5f}&lng={self.lng:.5f}&radius_m=3000",
                             name=f"{API}/stores/nearby", catch_response=True) as r:
            if _expect(r, 200):
                ids = [item["id"] for item in r.json().get("items", [])]
                if ids:
                    self.seen = ids

    @task(2)
    def store(self) -> None:
        store_id = random.choice(self.seen)
        with self.client.get(f"{API}/stores/{store_id}", name=f"{API}/stores/{{id}}",
                             catch_response=True) as r:
            _expect(r, 200)

    @task(3)
    def menu(self) -> None:
        store_id = random.choice(self.seen)
        with self.client.get(f"{API}/stores/{store_id}/menu", name=f"{API}/stores/{{id}}/menu",
                             catch_response=True) as r:
            _expect(r, 200)

    @task(2)
    def search(self) -> None:
        word = random.choice(SEARCH_WORDS)
        with self.client.get(f"{API}/search?q={word}&lat={self.lat:.5f}&lng={self.lng:.5f}",
                             name=f"{API}/search", catch_response=True) as r:
            _expect(r, 200)


class BuyerUser(FastHttpUser):
    """Cart and checkout at the demo store: menu, place (idempotent), open the payment."""

    weight = 11
    wait_time = constant(0) if CHECKOUT_ONLY else between(3, 6)

    @task
    def checkout(self) -> None:
        headers = {"Authorization": f"Bearer {next(_consumer_tokens)}"}
        if not CHECKOUT_ONLY:
            with self.client.get(f"{API}/stores/{STORE['id']}/menu",
                                 name=f"{API}/stores/{{id}}/menu (cart)", catch_response=True) as r:
                _expect(r, 200)
        lat, lng = _near(STORE["lat"], STORE["lng"], km=1.5)
        body = {
            "store_id": STORE["id"], "fulfilment": "delivery",
            "items": [{"product_id": p, "quantity": random.randint(1, 2)}
                      for p in random.sample(STORE["products"], k=min(2, len(STORE["products"])))],
            "address": {"text": "人民大道 200 号", "lat": lat, "lng": lng,
                        "contact_name": "张三", "contact_phone": "13912345678"},
        }
        headers["Idempotency-Key"] = uuid.uuid4().hex
        with self.client.post(f"{API}/orders", json=body, headers=headers, name=f"{API}/orders",
                              catch_response=True) as r:
            if not _expect(r, 201):
                return
            order_id = r.json()["id"]
        COUNTS["orders_placed"] += 1
        if CHECKOUT_ONLY:
            return
        with self.client.post(f"{API}/orders/{order_id}/payments", json={}, headers=headers,
                              name=f"{API}/orders/{{id}}/payments", catch_response=True) as r:
            if not _expect(r, 201):
                return
            payment = r.json()
        OPENED.append({"order_id": order_id, "payment_id": payment["id"],
                       "trade_no": payment["pay_url"].rstrip("/").rsplit("/", 1)[-1],
                       "amount_fen": payment["amount_fen"]})


class GatewayUser(FastHttpUser):
    """The sandbox gateway notifying our callback of each payment the buyer completed."""

    fixed_count = 0 if CHECKOUT_ONLY else 1  # one gateway, however many users
    wait_time = between(0.1, 0.3)

    @task
    def notify(self) -> None:
        if not OPENED:
            return
        p = OPENED.popleft()
        body = json.dumps({"notify_id": uuid.uuid4().hex[:24], "trade_no": p["trade_no"],
                           "out_trade_no": p["payment_id"], "amount_fen": p["amount_fen"],
                           "trade_status": "SUCCESS", "paid_at": None},
                          separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        signature = hmac.new(SANDBOX_SECRET, timestamp.encode() + b"." + body,
                             hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "Linli-Sandbox-Timestamp": timestamp,
                   "Linli-Sandbox-Signature": signature}
        with self.client.post(f"{API}/payments/callbacks/sandbox", data=body, headers=headers,
                              name=f"{API}/payments/callbacks/sandbox", catch_response=True) as r:
            if _expect(r, 200):
                COUNTS["callbacks_" + r.headers.get("Linli-Outcome", "?")] += 1
                PAID.append(p["order_id"])


class MerchantUser(FastHttpUser):
    """The demo store's console: accept paid orders as they come, glance at the queue."""

    weight = 0 if CHECKOUT_ONLY else 5
    wait_time = between(1, 3)

    def on_start(self) -> None:
        with self.client.post(f"{API}/auth/password-login", json={
                "login": FIXTURES["merchant"]["login"],
                "password": FIXTURES["merchant"]["password"]},
                name=f"{API}/auth/password-login", catch_response=True) as r:
            _expect(r, 200)
            self.headers = {"Authorization": f"Bearer {r.json().get('access_token', '')}"}

    @task
    def console(self) -> None:
        if PAID:
            order_id = PAID.popleft()
            with self.client.post(f"{API}/merchant/orders/{order_id}/accept", json={},
                                  headers=self.headers, name=f"{API}/merchant/orders/{{id}}/accept",
                                  catch_response=True) as r:
                if _expect(r, 200):
                    COUNTS["orders_accepted"] += 1
        else:
            with self.client.get(f"{API}/merchant/orders?status=accepted", headers=self.headers,
                                 name=f"{API}/merchant/orders", catch_response=True) as r:
                _expect(r, 200)


class RiderUser(FastHttpUser):
    """A rider on shift reporting their position (the API takes one report per 3 s)."""

    weight = 0 if CHECKOUT_ONLY else 10
    wait_time = between(3.2, 5)

    def on_start(self) -> None:
        slot = next(_rider_slots)
        self.headers = {"Authorization": f"Bearer {slot['token']}"}
        self.lat, self.lng = _near(slot["lat"], slot["lng"], km=1.0)
        with self.client.post(f"{API}/rider/shift", json={"online": True, "lat": self.lat,
                                                          "lng": self.lng},
                              headers=self.headers, name=f"{API}/rider/shift",
                              catch_response=True) as r:
            _expect(r, 200)

    @task
    def location(self) -> None:
        self.lat += random.uniform(-0.0004, 0.0004)
        self.lng += random.uniform(-0.0004, 0.0004)
        with self.client.post(f"{API}/rider/location", json={"lat": self.lat, "lng": self.lng},
                              headers=self.headers, name=f"{API}/rider/location",
                              catch_response=True) as r:
            _expect(r, 200)


@events.quitting.add_listener
def _counts(environment: Any, **_: Any) -> None:
    out = os.environ.get("LOAD_COUNTS")
    if out:
        Path(out).write_text(json.dumps(dict(COUNTS)))
