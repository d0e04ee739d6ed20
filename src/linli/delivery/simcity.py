"""A synthetic city for the dispatcher's tests, benchmark and simulator. Pure Python.

Stores sit in a few dense clusters (malls, food streets) of a square city around a centre;
drop-offs are anywhere within a few kilometres of their store (`dropoff_near`), or, with
`compounds` > 0, mostly at residential compounds and office towers (`Demand`); riders are
spread over the city, some idle and some already carrying one or two orders.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate

from .dispatch import VEHICLE_SPEED_MPS, OpenOrder, RiderState, Stop
from .promise import PromiseSettings, base_promise_in_s

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
    # Where consumers are (see `Demand`); 0 compounds: drop-offs uniform in a disc.
    compounds: int = 0
    compound_spread_m: float = 150.0
    compound_reach_m: float = 4000.0   # farthest compound a store delivers to
    decay_m: float = 4000.0            # gravity: a compound's pull falls as exp(-d / decay_m)
    scatter: float = 0.25              # share of orders to a uniform point (not a compound)

    def store_points(self, rng: random.Random) -> list[tuple[float, float]]:
        hubs = [offset(*CENTRE, rng.uniform(-self.half_size_m, self.half_size_m),
                       rng.uniform(-self.half_size_m, self.half_size_m)) for _ in range(self.clusters)]
        return [offset(*rng.choice(hubs), rng.gauss(0, self.cluster_spread_m),
                       rng.gauss(0, self.cluster_spread_m)) for _ in range(self.stores)]

    def dropoff_near(self, rng: random.Random, lat: float, lng: float) -> tuple[float, float]:
        r = self.max_ride_m * math.sqrt(rng.uniform(0.02, 1.0))
        a = rng.uniform(0, 2 * math.pi)
        return offset(lat, lng, r * math.sin(a), r * math.cos(a))

    def demand(self, rng: random.Random, stores: list[tuple[float, float]]) -> Demand:
        """The city's consumers for these stores (drawn from `rng`)."""
        points = [(*self.random_point(rng), rng.lognormvariate(0.0, 1.0)) for _ in range(self.compounds)]
        return Demand(self, stores, points)

    def random_point(self, rng: random.Random) -> tuple[float, float]:
        return offset(*CENTRE, rng.uniform(-self.half_size_m, self.half_size_m),
                      rng.uniform(-self.half_size_m, self.half_size_m))


class Demand:
    """Where orders go: a gravity model over residential compounds and office towers.

    Chinese city demand is lumpy: a compound of a few thousand households or an office
    tower places dozens of lunch orders, and consumers order mostly from nearby stores.
    Each compound has a size (lognormal weight); an order from a store goes, with
    probability `1 - scatter`, to a compound within `compound_reach_m`, chosen in
    proportion to size x exp(-distance / `decay_m`), at a point `compound_spread_m`
    around its centre; otherwise to a uniform point within `max_ride_m` (as without
    compounds). With the medium city's defaults the mean store-to-door distance stays
    about 2.3 km, the same as the uniform disc, so only the clustering differs.
    """

    def __init__(self, city: City, stores: list[tuple[float, float]],
                 points: list[tuple[float, float, float]]) -> None:
        self.city, self.points = city, points
        self._near: list[tuple[list[int], list[float]]] = []
        for lat, lng in stores:
            idx, weights = [], []
            for c, (clat, clng, size) in enumerate(points):
                d = _distance_m(lat, lng, clat, clng)
                if d <= city.compound_reach_m:
                    idx.append(c)
                    weights.append(size * math.exp(-d / city.decay_m))
            self._near.append((idx, list(accumulate(weights))))

    def dropoff(self, rng: random.Random, store: int, lat: float, lng: float) -> tuple[float, float]:
        """A drop-off for an order from store number `store` at (lat, lng)."""
        idx, cum = self._near[store]
        if not idx or rng.random() < self.city.scatter:
            return self.city.dropoff_near(rng, lat, lng)
        c = idx[min(len(idx) - 1, bisect(cum, rng.random() * cum[-1]))]
        clat, clng, _size = self.points[c]
        spread = self.city.compound_spread_m
        return offset(clat, clng, rng.gauss(0, spread), rng.gauss(0, spread))


def promise_for(ready_at: float, ride_m: float, *, speed_mps: float = VEHICLE_SPEED_MPS["ebike"],
                slack_s: float = 15 * 60) -> float:
    """The fixed promise at a time on the run's clock: ready + the ride at e-bike speed + a
    fixed slack (`promise.base_promise_in_s`, the rule the live checkout uses too)."""
    return base_promise_in_s(ready_in_s=ready_at, ride_m=ride_m,
                             settings=PromiseSettings(slack_s=slack_s, speed_mps=speed_mps))


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


# A Meituan-like fleet's shifts, in clock hours: (share of riders, online spans). Full-time
# riders work both peaks (most with a break in the afternoon), part-timers one peak; every
# shift is 4-10 h. Online riders follow the day profile's demand: about 35 % of the riders
# at 09:00-10:00 and in the afternoon lull, over 90 % at the lunch peak, 80 % at dinner.
SHIFT_MIX: tuple[tuple[float, tuple[tuple[float, float], ...]], ...] = (
    (0.30, ((9.0, 14.0), (16.5, 20.5))),    # full-time, split: morning to lunch, dinner, 9 h
    (0.25, ((10.5, 14.0), (16.5, 21.0))),   # full-time, split: lunch and dinner, 8 h
    (0.20, ((10.0, 20.0),)),                 # full-time, straight through, 10 h
    (0.10, ((9.0, 15.0),)),                  # morning and lunch, 6 h
    (0.08, ((15.0, 21.0),)),                 # afternoon and dinner, 6 h
    (0.07, ((10.5, 14.5),)),                 # part-time lunch, 4 h
)
SHIFT_JITTER_H = 0.25  # each rider's shift starts up to this much earlier or later


def shifts_for(riders: int, rng: random.Random) -> list[tuple[tuple[float, float], ...]]:
    """`riders` shifts (online spans in clock hours), in the proportions of `SHIFT_MIX`
    (largest remainder, so the counts add up to `riders` exactly), each moved by a
    uniform jitter of up to `SHIFT_JITTER_H`."""
    exact = [share * riders for share, _spans in SHIFT_MIX]
    counts = [math.floor(x) for x in exact]
    for k in sorted(range(len(exact)), key=lambda k: counts[k] - exact[k])[:riders - sum(counts)]:
        counts[k] += 1
    out = []
    for count, (_share, spans) in zip(counts, SHIFT_MIX, strict=True):
        for _ in range(count):
            shift = rng.uniform(-SHIFT_JITTER_H, SHIFT_JITTER_H)
            out.append(tuple((a + shift, b + shift) for a, b in spans))
    rng.shuffle(out)
    return out
