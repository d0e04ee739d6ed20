"""A synthetic city for the dispatcher's tests, benchmark and simulator. Pure Python.

Stores sit in a few dense clusters (malls, food streets) of a square city around a centre;
drop-offs are anywhere within a few kilometres of their store; riders are spread over the
city, some idle and some already carrying one or two orders.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .dispatch import VEHICLE_SPEED_MPS, OpenOrder, RiderState, Stop

CENTRE = (31.2304, 121.4737)  # People's Square, Shanghai
_M_PER_DEG_LAT = 111_195.0


def offset(lat: float, lng: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (lat + north_m / _M_PER_DEG_LAT,
            lng + east_m / (_M_PER_DEG_LAT * math.cos(math.radians(lat))))


@dataclass(frozen=True)
class City:
    half_size_m: float = 7000.0
    clusters: int = 25
    stores: int = 400
    cluster_spread_m: float = 500.0
    max_ride_m: float = 3500.0

    def store_points(self, rng: random.Random) -> list[tuple[float, float]]:
        hubs = [offset(*CENTRE, rng.uniform(-self.half_size_m, self.half_size_m),
                       rng.uniform(-self.half_size_m, self.half_size_m)) for _ in range(self.clusters)]
        return [offset(*rng.choice(hubs), rng.gauss(0, self.cluster_spread_m),
                       rng.gauss(0, self.cluster_spread_m)) for _ in range(self.stores)]

    def dropoff_near(self, rng: random.Random, lat: float, lng: float) -> tuple[float, float]:
        r = self.max_ride_m * math.sqrt(rng.uniform(0.02, 1.0))
        a = rng.uniform(0, 2 * math.pi)
        return offset(lat, lng, r * math.sin(a), r * math.cos(a))

    def random_point(self, rng: random.Random) -> tuple[float, float]:
        return offset(*CENTRE, rng.uniform(-self.half_size_m, self.half_size_m),
                      rng.uniform(-self.half_size_m, self.half_size_m))


def promise_for(ready_at: float, ride_m: float, *, speed_mps: float = VEHICLE_SPEED_MPS["ebike"],
                slack_s: float = 15 * 60) -> float:
    """Ready time + the ride at e-bike speed + a fixed slack (the consumer's promised time)."""
    return ready_at + ride_m / speed_mps + slack_s


def random_order(rng: random.Random, city: City, stores: list[tuple[float, float]], oid: str,
                 now: float) -> OpenOrder:
    plat, plng = rng.choice(stores)
    dlat, dlng = city.dropoff_near(rng, plat, plng)
    ready = now + rng.uniform(0, 15 * 60)
    ride = _distance_m(plat, plng, dlat, dlng)
    return OpenOrder(oid, plat, plng, dlat, dlng, ready_at=ready, promised_at=promise_for(ready, ride))


def _distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    kx = _M_PER_DEG_LAT * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot((lat2 - lat1) * _M_PER_DEG_LAT, (lng2 - lng1) * kx)


def random_instance(*, orders: int, riders: int, seed: int = 0, now: float = 0.0,
                    city: City | None = None, busy_share: float = 0.6, capacity: int = 3,
                    ) -> tuple[list[OpenOrder], list[RiderState]]:
    """`orders` open orders and `riders` riders; `busy_share` of the riders already carry one
    or two orders (picked up or still to collect)."""
    rng = random.Random(seed)
    city = city or City()
    stores = city.store_points(rng)
    open_orders = [random_order(rng, city, stores, f"o{i}", now) for i in range(orders)]
    states = []
    for r in range(riders):
        lat, lng = city.random_point(rng)
        route: list[Stop] = []
        if rng.random() < busy_share:
            for k in range(rng.randint(1, min(2, capacity))):
                old = random_order(rng, city, stores, f"r{r}-{k}", now - 600)
                pickup, dropoff = old.stops()
                if rng.random() < 0.5:   # already on board
                    route.append(dropoff)
                else:
                    route[len(route) // 2:len(route) // 2] = [pickup]
                    route.append(dropoff)
        vehicle = rng.choice(("ebike", "ebike", "ebike", "scooter", "bike"))
        states.append(RiderState(f"rdr{r}", lat, lng, tuple(route), capacity, VEHICLE_SPEED_MPS[vehicle]))
    return open_orders, states
