"""The city simulator behind `linli simulate`: a synthetic city (`simcity.py`) run for N
minutes of simulated time through the real dispatcher (`dispatch.py`). Pure Python, no
Django, no database: a seed gives the same figures on any machine.

- **Orders** arrive by a Poisson process (flat rate; a lunch peak that rises from 40 %
  to the peak rate at the middle of the window and falls back; or a day on the clock from
  09:00 with a lunch and a dinner peak, `orders` spreading a given number over the
  window), each at a random store
  with its own preparation time, to a drop-off within a few kilometres. The store accepts
  after 15-90 s; from then the order is open for dispatch. The dispatcher sees the store's
  *declared* preparation time (as the live tick reads `pickup_deadline`); the food is
  really ready after a noisy draw around it (sd 25 %). The promise to the consumer
  (`promise`): the fixed one, the declared ready time + the ride at e-bike speed + 15 min
  (`simcity.promise_for`), or (load, the default) that plus the wait for a rider the
  city's backlog implies (`promise.py`), computed when the order is placed from the state
  then: the orders not yet picked up, the riders on shift, the deliveries per on-shift
  rider-hour over the last `throughput_window_s`.
- **Drop-offs** (`demand`): at residential compounds and office towers, mostly near the
  store (`simcity.Demand`, a gravity model), or uniform in a 3.5 km disc around it.
- **Riders** (`shifts`): with the day profile, on the shifts of `simcity.SHIFT_MIX`
  (lunch and dinner, 4-10 h), each coming online near a store and taking new orders only
  on shift; otherwise all online for the whole run from anywhere in the city. They ride
  straight lines at their vehicle's speed (e-bike, scooter or bicycle). At a pickup they
  wait until the food is really ready, then spend `service_s`; at a drop-off the order
  counts as delivered on arrival (when the engine measures lateness), then `service_s`.
- **Repositioning** (batch only): every minute idle riders far from where orders are
  appearing ride towards the hot spots (`dispatch_reposition`).
- **Dispatch** runs every tick (`tick_s`) with `dispatch_batch` or `dispatch_greedy` on
  the open orders and every rider with room, with their remaining stops as their route.
  A rider already at a stop (waiting for the food or handing over) finishes it first.
- After the window no new orders arrive, and the run goes on for up to `drain_minutes`
  so that the orders placed late get a delivery time too.

Figures (`SimResult`): on-time rate (against the promise given and against the fixed
one) and delivery time (placed -> delivered) over the orders placed in the window and
delivered; the promised minutes (placed -> promised), overall and at the peak; mean rider wait at the store; rider
utilisation (share of rider-time carrying at least one order), idle share (no stop
ahead) and orders delivered per rider-hour, over the riders' online time: their shifts
and the routes they finish after one; with all-day shifts the window and the drain until
the last order is delivered (over the window alone, a short run would show no delivery
and no carrying at all, since a delivery takes longer than a few minutes); the backlog
at the end of the window.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice

from .dispatch import (
    PICKUP,
    VEHICLE_SPEED_MPS,
    DispatchResult,
    DispatchSettings,
    OpenOrder,
    RiderState,
    Stop,
    dispatch_batch,
    dispatch_greedy,
)
from .dispatch_reposition import RepositionSettings, reposition
from .promise import CityLoad, PromiseSettings, hits_cap, rider_wait_s
from .simcity import City, offset, promise_for, shifts_for

POLICIES: dict[str, Callable[..., DispatchResult]] = {"batch": dispatch_batch, "greedy": dispatch_greedy}
PROFILES = ("lunch", "flat", "day")
CITIES = {
    "small": City(half_size_m=3500.0, clusters=8, stores=120, compounds=60),
    "medium": City(compounds=250),                              # 14 x 14 km, 25 clusters
    "large": City(half_size_m=12000.0, clusters=60, stores=1500, compounds=750),
}
DEMANDS = ("compounds", "uniform")
SHIFTS = ("day", "all")
PROMISES = ("load", "fixed")
# The live tick's settings (`dispatching.DISPATCH`), and like it at most this many waiting
# orders per tick, the oldest first (`dispatching.MAX_TASKS_PER_TICK`).
SIM_DISPATCH = DispatchSettings(radius_m=5000)
REPOSITION = RepositionSettings()
REPOSITION_EVERY_S = 60.0
MAX_OPEN_PER_TICK = 2000
_M_PER_DEG_LAT = 111_195.0
_VEHICLES = ("ebike", "ebike", "ebike", "scooter", "bike")


@dataclass(frozen=True)
class SimConfig:
    minutes: float = 60.0
    riders: int = 200
    orders_per_minute: float | None = None   # flat: the rate; lunch/day: the peak. None: riders / 12
    profile: str = "lunch"
    orders: int | None = None                # expected orders in the window (overrides the rate)
    day_start_hour: float = 9.0              # day profile: the clock time the window starts
    seed: int = 0
    tick_s: float = 15.0
    policy: str = "batch"
    city: str = "medium"
    drain_minutes: float = 60.0
    capacity: int = 3
    promise_slack_s: float = 15 * 60
    # The consumer's promise: load (`promise.py`: the fixed promise + the wait for a rider,
    # from the city's state when the order is placed) or fixed (ready + ride + slack).
    promise: str = "load"
    promise_settings: PromiseSettings | None = None   # None: the defaults with promise_slack_s
    throughput_window_s: float = 30 * 60     # the recent deliveries per rider-hour the promise reads
    prep_noise: float = 0.25                 # sd of the real preparation time, as a share
    demand: str = "compounds"                # drop-offs: at compounds (gravity) or uniform in a disc
    reposition: bool = True                  # batch: send idle riders to hot spots every minute
    shifts: str | None = None                # day: `simcity.SHIFT_MIX`; all: online throughout
                                             # (None: day with the day profile, else all)

    def __post_init__(self) -> None:
        if self.minutes <= 0 or self.tick_s <= 0 or self.drain_minutes < 0:
            raise ValueError("minutes and tick_s must be positive, drain_minutes not negative")
        if self.riders < 1 or self.capacity < 1:
            raise ValueError("riders and capacity must be at least 1")
        if self.orders_per_minute is not None and self.orders_per_minute < 0:
            raise ValueError("orders_per_minute must not be negative")
        if self.orders is not None and self.orders < 0:
            raise ValueError("orders must not be negative")
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {sorted(POLICIES)}")
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}")
        if self.city not in CITIES:
            raise ValueError(f"city must be one of {sorted(CITIES)}")
        if self.demand not in DEMANDS:
            raise ValueError(f"demand must be one of {DEMANDS}")
        if self.shifts is not None and self.shifts not in SHIFTS:
            raise ValueError(f"shifts must be one of {SHIFTS}")
        if self.promise not in PROMISES:
            raise ValueError(f"promise must be one of {PROMISES}")
        if self.throughput_window_s <= 0:
            raise ValueError("throughput_window_s must be positive")

    @property
    def promise_rule(self) -> PromiseSettings:
        return self.promise_settings or PromiseSettings(slack_s=self.promise_slack_s)

    @property
    def shift_model(self) -> str:
        return self.shifts or ("day" if self.profile == "day" else "all")

    @cached_property
    def _orders_per_shape_minute(self) -> float:
        """With `orders`: the rate (per minute) where the profile's shape is 1."""
        assert self.orders is not None
        shape_total = sum(self._shape((m + 0.5) * 60) for m in range(math.ceil(self.minutes)))
        return self.orders / shape_total if shape_total > 0 else 0.0

    @cached_property
    def peak_per_minute(self) -> float:
        if self.orders is not None:
            peak_shape = max(self._shape(m * 60.0) for m in range(math.ceil(self.minutes) + 1))
            return self._orders_per_shape_minute * peak_shape
        return self.riders / 12 if self.orders_per_minute is None else self.orders_per_minute

    def _shape(self, t: float) -> float:
        """The profile's relative rate at `t` seconds into the window."""
        if self.profile == "flat":
            return 1.0
        if self.profile == "lunch":
            return 0.4 + 0.6 * math.sin(math.pi * min(1.0, t / (self.minutes * 60)))
        return _day_shape(self.day_start_hour + t / 3600)

    @cached_property
    def highest_rate(self) -> float:
        """Orders per second at the window's busiest minute."""
        return max((self.rate_at(m * 60.0) for m in range(math.ceil(self.minutes) + 1)), default=0.0)

    def in_peak(self, t: float) -> bool:
        """Whether `t` (seconds into the window) is in the peak hours: the order rate at least
        half its highest (day profile: about 10:56-13:04 and 17:14-19:16)."""
        return self.rate_at(t) >= 0.5 * self.highest_rate

    def rate_at(self, t: float) -> float:
        """Orders per second at `t` seconds into the window."""
        if self.orders is not None:
            return self._orders_per_shape_minute / 60 * self._shape(t)
        if self.profile == "day":  # the peak rate given: at the day's highest point
            return self.peak_per_minute / 60 * self._shape(t) / _DAY_PEAK
        return self.peak_per_minute / 60 * self._shape(t)


def _day_shape(hour: float) -> float:
    """A delivery day on the clock: a low base, a lunch peak around 12:00 and a slightly
    lower, wider dinner peak around 18:15 (relative to the lunch peak = 1)."""
    base = 0.18 * min(1.0, max(0.0, (hour - 7.0) / 2.0)) * min(1.0, max(0.0, (23.5 - hour) / 2.5))
    lunch = math.exp(-0.5 * ((hour - 12.0) / 0.8) ** 2)
    dinner = 0.78 * math.exp(-0.5 * ((hour - 18.25) / 0.9) ** 2)
    return base + lunch + dinner


_DAY_PEAK = max(_day_shape(h / 60) for h in range(24 * 60))


@dataclass
class SimOrder:
    id: str
    placed_at: float
    accepted_at: float
    store: int
    pickup: tuple[float, float]
    dropoff: tuple[float, float]
    ready_declared: float      # what the dispatcher is told
    ready_actual: float        # when the food really is ready
    promised_at: float         # the promise the consumer got (and the dispatcher works to)
    fixed_promised_at: float   # ready + ride + slack, whatever the load
    assigned_at: float | None = None
    picked_up_at: float | None = None
    delivered_at: float | None = None
    rider: str | None = None
    pickup_wait_s: float = 0.0
    load: CityLoad | None = None   # the city when the order was placed (what the promise read)
    rider_wait_s: float = 0.0      # the load-aware promise's wait for a rider (0 with fixed)

    def open_order(self) -> OpenOrder:
        return OpenOrder(self.id, *self.pickup, *self.dropoff, ready_at=self.ready_declared,
                         promised_at=self.promised_at)


@dataclass
class SimRider:
    id: str
    lat: float
    lng: float
    speed_mps: float
    capacity: int
    route: list[Stop] = field(default_factory=list)
    busy_until: float | None = None   # at route[0]: waiting for food or handing over until then
    on_board: int = 0
    carrying_s: float = 0.0
    idle_s: float = 0.0
    # Online spans in seconds of the run: the rider takes new orders only inside one (and
    # finishes their route after it). Empty: online the whole run.
    spans: tuple[tuple[float, float], ...] = ()
    online_s: float = 0.0             # on shift, or finishing a route after it
    target: tuple[float, float] | None = None   # idle: riding there (repositioning)
    was_on: bool = True               # on shift at the previous tick

    def on_shift(self, t: float) -> bool:
        return not self.spans or any(a <= t < b for a, b in self.spans)

    def state(self) -> RiderState:
        return RiderState(self.id, self.lat, self.lng, tuple(self.route), self.capacity, self.speed_mps)

    @property
    def open_orders(self) -> int:
        return len({s.order_id for s in self.route})


@dataclass
class SimResult:
    policy: str
    config: SimConfig
    placed: int
    delivered: int                 # of the orders placed, delivered by the end of the run
    on_time_rate: float            # of those delivered, against the promise the consumer got
    on_time_fixed_rate: float      # of those delivered, against the fixed promise
    mean_promised_s: float         # placed -> promised, over the orders placed
    mean_promised_peak_s: float    # the same over the orders placed in the peak hours (`peak_hours`)
    promises_over_fixed: int       # orders promised later than the fixed promise
    promises_capped: int           # orders whose wait for a rider hit `max_wait_s`
    mean_delivery_s: float
    p90_delivery_s: float
    p95_delivery_s: float
    mean_pickup_wait_s: float      # the rider waiting at the store for the food
    utilisation: float             # share of rider-time (the shift) carrying orders
    idle_share: float              # share of rider-time (the shift) with no stop ahead
    orders_per_rider_hour: float   # delivered / rider-hours of the shift
    shift_s: float                 # simulated time run: the window, then the drain until done
    rider_hours: float             # riders online (on shift, or finishing a route after it)
    backlog_unassigned: int        # at the end of the window: open, no rider
    backlog_in_flight: int         # at the end of the window: with a rider, not delivered
    left_undelivered: int          # at the end of the run (after draining)
    ticks: int
    dispatch_seconds: float        # wall time inside the dispatcher (depends on the machine)
    states: dict[str, str] = field(default_factory=dict)   # order id -> final state
    promised_at: dict[str, float] = field(default_factory=dict)  # order id -> the promise given
    delivered_ids: list[str] = field(default_factory=list)  # in delivery order, once each


# --- the city and its order stream -----------------------------------------------------

def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    kx = _M_PER_DEG_LAT * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot((b[0] - a[0]) * _M_PER_DEG_LAT, (b[1] - a[1]) * kx)


def _orders_stream(cfg: SimConfig) -> tuple[random.Random, list[tuple[float, float]]]:
    """The orders' random stream and the city's stores, the first thing drawn from it: the
    one place both the orders and the riders' start points (`_World`) take the stores from."""
    rng = random.Random(f"orders-{cfg.seed}")
    return rng, CITIES[cfg.city].store_points(rng)


def make_orders(cfg: SimConfig) -> list[SimOrder]:
    """The window's orders, from the seed alone (the same for every policy): a Poisson
    process by thinning at the peak rate. Each carries the fixed promise; the load-aware
    one is set when the run reaches the order's placement (`_World.promise`)."""
    rng, stores = _orders_stream(cfg)
    city = CITIES[cfg.city]
    demand = city.demand(random.Random(f"demand-{cfg.seed}"), stores) if cfg.demand == "compounds" else None
    # Declared preparation minutes per store: most kitchens 8-15 min, some fast, some slow.
    prep_s = [60.0 * rng.choice((4, 6, 8, 8, 10, 10, 12, 12, 15, 15, 18, 25)) for _ in stores]
    peak = cfg.highest_rate
    orders: list[SimOrder] = []
    t, end = 0.0, cfg.minutes * 60
    while peak > 0:
        t += rng.expovariate(peak)
        if t >= end:
            break
        if rng.random() * peak > cfg.rate_at(t):
            continue
        s = rng.randrange(len(stores))
        pickup = stores[s]
        dropoff = demand.dropoff(rng, s, *pickup) if demand else city.dropoff_near(rng, *pickup)
        accepted = t + rng.uniform(15, 90)
        declared = accepted + prep_s[s]
        actual = accepted + max(120.0, rng.gauss(prep_s[s], cfg.prep_noise * prep_s[s]))
        promised = promise_for(declared, _distance_m(pickup, dropoff), slack_s=cfg.promise_slack_s)
        orders.append(SimOrder(f"o{len(orders)}", t, accepted, s, pickup, dropoff, declared, actual,
                               promised_at=promised, fixed_promised_at=promised))
    return orders


def make_riders(cfg: SimConfig) -> list[SimRider]:
    """All online from the start anywhere in the city (`shifts` all), or on the shifts of
    `simcity.SHIFT_MIX` (day), each coming online near a store (`start_point`)."""
    rng = random.Random(f"riders-{cfg.seed}")
    city = CITIES[cfg.city]
    riders = []
    for r in range(cfg.riders):
        lat, lng = city.random_point(rng)
        riders.append(SimRider(f"rdr{r}", lat, lng, VEHICLE_SPEED_MPS[rng.choice(_VEHICLES)], cfg.capacity))
    if cfg.shift_model == "day":
        end = cfg.minutes * 60
        shifts = shifts_for(cfg.riders, random.Random(f"shifts-{cfg.seed}"))
        for rider, shift in zip(riders, shifts, strict=True):
            spans = [(max(0.0, (a - cfg.day_start_hour) * 3600), min(end, (b - cfg.day_start_hour) * 3600))
                     for a, b in shift]
            # A span that ends with the window runs on through the drain (the backlog).
            spans = [(a, math.inf if b >= end else b) for a, b in spans if b > a]
            rider.spans = tuple(spans) or ((math.inf, math.inf),)
            rider.was_on = False
    return riders


def start_point(cfg: SimConfig, rider: SimRider, stores: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Where a rider comes online: near a store (riders wait by the malls and food streets)."""
    rng = random.Random(f"start-{cfg.seed}-{rider.id}-{rider.online_s:.0f}")
    lat, lng = rng.choice(stores)
    return offset(lat, lng, rng.gauss(0, 400), rng.gauss(0, 400))


# --- the loop -------------------------------------------------------------------------

def _ride_part(rider: SimRider, lat: float, lng: float, share: float) -> None:
    """Move `share` (0-1) of the straight way from where the rider is towards (lat, lng)."""
    rider.lat += (lat - rider.lat) * share
    rider.lng += (lng - rider.lng) * share


class _World:
    def __init__(self, cfg: SimConfig, orders: Sequence[SimOrder] | None = None) -> None:
        self.cfg = cfg
        self.service_s = SIM_DISPATCH.service_s
        self.orders = {o.id: o for o in (make_orders(cfg) if orders is None else orders)}
        self.arrivals = sorted(self.orders.values(), key=lambda o: o.accepted_at)
        self.next_arrival = 0
        self.placements = sorted(self.orders.values(), key=lambda o: o.placed_at)
        self.next_placement = 0
        self.picked_up = 0                         # orders picked up so far
        self.recent_deliveries: deque[float] = deque()              # times, the last throughput window
        self.recent_shifts: deque[tuple[float, float]] = deque()    # (tick, rider-seconds on shift)
        self.recent_shift_s = 0.0
        self.riders = make_riders(cfg)
        _rng, self.stores = _orders_stream(cfg)
        self.by_id = {r.id: r for r in self.riders}
        self.open: dict[str, SimOrder] = {}      # accepted, no rider yet
        self.delivered: list[str] = []
        self.recent: deque[SimOrder] = deque()    # accepted in the last REPOSITION.window_s

    def clock_in(self, now: float) -> None:
        """Riders whose shift starts come online near a store; those whose shift ended take
        no new orders (they finish their route)."""
        for rider in self.riders:
            on = rider.on_shift(now)
            if on and not rider.was_on and not rider.route and rider.busy_until is None:
                rider.lat, rider.lng = start_point(self.cfg, rider, self.stores)
                rider.target = None
            rider.was_on = on

    def advance(self, rider: SimRider, t0: float, t1: float) -> None:
        """Ride, wait and serve from t0 to t1."""
        if not rider.was_on and not rider.route and rider.busy_until is None:
            return  # off shift, nothing left to do: offline
        t = t0
        while t < t1:
            if rider.busy_until is not None:
                until = min(rider.busy_until, t1)
                self._account(rider, t, until)
                t = until
                if rider.busy_until > t1:
                    return
                rider.busy_until = None
                stop = rider.route.pop(0)
                if stop.kind == PICKUP:
                    order = self.orders[stop.order_id]
                    order.picked_up_at = t
                    self.picked_up += 1
                    rider.on_board += 1
                continue
            if not rider.route:
                self._account(rider, t, t1)
                if rider.target is not None:
                    self._reposition(rider, t, t1)
                return
            stop = rider.route[0]
            leg = _distance_m((rider.lat, rider.lng), (stop.lat, stop.lng)) / rider.speed_mps
            if t + leg > t1:  # still riding at the end of the tick
                _ride_part(rider, stop.lat, stop.lng, (t1 - t) / leg)
                self._account(rider, t, t1)
                return
            self._account(rider, t, t + leg)
            t += leg
            rider.lat, rider.lng = stop.lat, stop.lng
            order = self.orders[stop.order_id]
            if stop.kind == PICKUP:
                start = max(t, order.ready_actual)
                order.pickup_wait_s = start - t
                rider.busy_until = start + self.service_s
            else:
                order.delivered_at = t
                self.delivered.append(order.id)
                self.recent_deliveries.append(t)
                rider.on_board -= 1
                rider.busy_until = t + self.service_s

    def _reposition(self, rider: SimRider, t: float, t1: float) -> None:
        """An idle rider rides towards their repositioning target."""
        assert rider.target is not None
        lat, lng = rider.target
        leg = _distance_m((rider.lat, rider.lng), rider.target) / rider.speed_mps
        if leg <= t1 - t:
            rider.lat, rider.lng, rider.target = lat, lng, None
        else:
            _ride_part(rider, lat, lng, (t1 - t) / leg)

    def _account(self, rider: SimRider, a: float, b: float) -> None:
        if b <= a:
            return
        rider.online_s += b - a
        if rider.on_board:
            rider.carrying_s += b - a
        if not rider.route:
            rider.idle_s += b - a

    def promise(self, now: float) -> None:
        """Promise the orders placed in this tick [now, now + tick_s), each from the city at
        `now` (the backlog counts the orders placed before it in the tick too): never from
        anything later. With the fixed promise the load is recorded, the promise kept."""
        window = self.cfg.throughput_window_s
        while self.recent_deliveries and self.recent_deliveries[0] < now - window:
            self.recent_deliveries.popleft()
        while self.recent_shifts and self.recent_shifts[0][0] < now - window:
            self.recent_shift_s -= self.recent_shifts.popleft()[1]
        on_shift = sum(r.was_on for r in self.riders)
        # Deliveries per on-shift rider-hour over the last window; unknown until a whole
        # window has been seen (the run starts empty, not in the middle of a day).
        per_rider_hour = (len(self.recent_deliveries) / (self.recent_shift_s / 3600)
                          if now >= window and self.recent_shift_s > 0 else 0.0)
        backlog = self.next_placement - self.picked_up
        settings = self.cfg.promise_rule
        while (self.next_placement < len(self.placements)
               and self.placements[self.next_placement].placed_at < now + self.cfg.tick_s):
            order = self.placements[self.next_placement]
            order.load = CityLoad(backlog, on_shift, per_rider_hour)
            wait = rider_wait_s(ready_in_s=order.ready_declared - order.placed_at, load=order.load,
                                settings=settings)
            if self.cfg.promise == "load":
                order.rider_wait_s = wait
                order.promised_at = order.fixed_promised_at + wait
            self.next_placement += 1
            backlog += 1
        self.recent_shifts.append((now, on_shift * self.cfg.tick_s))
        self.recent_shift_s += on_shift * self.cfg.tick_s

    def dispatch(self, now: float, policy: Callable[..., DispatchResult]) -> float:
        """One tick; returns the wall seconds the dispatcher took."""
        while self.next_arrival < len(self.arrivals) and self.arrivals[self.next_arrival].accepted_at <= now:
            order = self.arrivals[self.next_arrival]
            self.open[order.id] = order
            self.recent.append(order)
            self.next_arrival += 1
        if not self.open:
            return 0.0
        riders = [r for r in self.riders if r.was_on and r.open_orders < r.capacity]
        if not riders:
            return 0.0
        started = time.perf_counter()
        waiting = [o.open_order() for o in islice(self.open.values(), MAX_OPEN_PER_TICK)]
        result = policy(waiting, [r.state() for r in riders], now=now, cfg=SIM_DISPATCH)
        took = time.perf_counter() - started
        for a in result.assignments:
            order = self.open.pop(a.order_id)
            order.assigned_at, order.rider = now, a.rider_id
        for rider_id in {a.rider_id for a in result.assignments}:
            rider = self.by_id[rider_id]
            route = list(result.routes[rider_id])
            if rider.busy_until is not None and route[0] != rider.route[0]:
                route.remove(rider.route[0])  # the stop under way is finished first
                route.insert(0, rider.route[0])
            rider.route = route
            rider.target = None
        return took

    def reposition(self, now: float) -> int:
        """Idle riders on shift ride towards the hot spots of the last minutes' orders
        (`dispatch_reposition`); returns how many were sent."""
        while self.recent and self.recent[0].accepted_at < now - REPOSITION.window_s:
            self.recent.popleft()
        idle = [(r.id, r.lat, r.lng) for r in self.riders if r.was_on and not r.route and r.busy_until is None]
        moves = reposition(idle, [o.pickup for o in self.recent], REPOSITION)
        for rider_id, point in moves.items():
            self.by_id[rider_id].target = point
        return len(moves)

    def unfinished(self) -> bool:
        return bool(self.open) or self.next_arrival < len(self.arrivals) or any(r.route for r in self.riders)

    def states(self) -> dict[str, str]:
        out = {}
        for o in self.orders.values():
            if o.delivered_at is not None:
                out[o.id] = "delivered"
            elif o.picked_up_at is not None:
                out[o.id] = "on_board"
            elif o.rider is not None:
                out[o.id] = "assigned"
            elif o.id in self.open:
                out[o.id] = "unassigned"
            else:
                out[o.id] = "not_accepted"
        return out


def _percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def tick_count(cfg: SimConfig) -> int:
    """Ticks in the window plus the longest drain (a run may stop earlier)."""
    return math.ceil(cfg.minutes * 60 / cfg.tick_s) + math.ceil(cfg.drain_minutes * 60 / cfg.tick_s)


def simulate(cfg: SimConfig, *, progress: Callable[[int, int], None] | None = None,
             orders: Sequence[SimOrder] | None = None) -> SimResult:
    """Run the city; `progress(done, total)` after every tick (`total` = `tick_count`).
    `orders` (default `make_orders(cfg)`) are updated in place."""
    world = _World(cfg, orders)
    policy = POLICIES[cfg.policy]
    window_ticks = math.ceil(cfg.minutes * 60 / cfg.tick_s)
    total_ticks = tick_count(cfg)
    dispatch_s = 0.0
    backlog_unassigned = backlog_in_flight = 0
    tick = 0
    while tick < total_ticks:
        now = tick * cfg.tick_s
        world.clock_in(now)
        world.promise(now)
        dispatch_s += world.dispatch(now, policy)
        if cfg.reposition and cfg.policy == "batch" and now % REPOSITION_EVERY_S < cfg.tick_s:
            world.reposition(now)
        for rider in world.riders:
            world.advance(rider, now, now + cfg.tick_s)
        tick += 1
        if tick == window_ticks:
            states = world.states()
            backlog_unassigned = sum(s == "unassigned" for s in states.values())
            backlog_in_flight = sum(s in ("assigned", "on_board") for s in states.values())
        if progress:
            progress(tick, total_ticks)
        if tick >= window_ticks and not world.unfinished():
            break
    if progress and tick < total_ticks:
        progress(total_ticks, total_ticks)

    done = [world.orders[i] for i in world.delivered]
    times = [o.delivered_at - o.placed_at for o in done if o.delivered_at is not None]
    on_time = sum(1 for o in done if o.delivered_at is not None and o.delivered_at <= o.promised_at)
    on_time_fixed = sum(1 for o in done if o.delivered_at is not None and o.delivered_at <= o.fixed_promised_at)
    promised = [o.promised_at - o.placed_at for o in world.orders.values()]
    peak = [o.promised_at - o.placed_at for o in world.orders.values() if cfg.in_peak(o.placed_at)]
    picked = [o for o in world.orders.values() if o.picked_up_at is not None]
    shift_s = tick * cfg.tick_s  # riders were accounted up to the end of the last tick run
    rider_s = sum(r.online_s for r in world.riders) or 1.0
    states = world.states()
    return SimResult(
        policy=cfg.policy, config=cfg, placed=len(world.orders), delivered=len(done),
        on_time_rate=on_time / len(done) if done else 0.0,
        on_time_fixed_rate=on_time_fixed / len(done) if done else 0.0,
        mean_promised_s=sum(promised) / len(promised) if promised else 0.0,
        mean_promised_peak_s=sum(peak) / len(peak) if peak else 0.0,
        promises_over_fixed=sum(o.promised_at > o.fixed_promised_at for o in world.orders.values()),
        promises_capped=sum(hits_cap(o.rider_wait_s, cfg.promise_rule) for o in world.orders.values()),
        mean_delivery_s=sum(times) / len(times) if times else 0.0,
        p90_delivery_s=_percentile(times, 90), p95_delivery_s=_percentile(times, 95),
        mean_pickup_wait_s=sum(o.pickup_wait_s for o in picked) / len(picked) if picked else 0.0,
        utilisation=sum(r.carrying_s for r in world.riders) / rider_s,
        idle_share=sum(r.idle_s for r in world.riders) / rider_s,
        orders_per_rider_hour=len(done) / (rider_s / 3600), shift_s=shift_s, rider_hours=rider_s / 3600,
        backlog_unassigned=backlog_unassigned, backlog_in_flight=backlog_in_flight,
        left_undelivered=sum(s != "delivered" for s in states.values()),
        ticks=tick, dispatch_seconds=dispatch_s, states=states, delivered_ids=list(world.delivered),
        promised_at={o.id: o.promised_at for o in world.orders.values()},
    )


# --- the table ------------------------------------------------------------------------

def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


ROWS: tuple[tuple[str, Callable[[SimResult], str]], ...] = (
    ("orders placed", lambda r: f"{r.placed:,}"),
    ("delivered", lambda r: f"{r.delivered:,}"),
    ("on-time rate", lambda r: f"{r.on_time_rate * 100:.1f} %"),
    ("on time vs fixed promise", lambda r: f"{r.on_time_fixed_rate * 100:.1f} %"),
    ("mean promised time", lambda r: _minutes(r.mean_promised_s)),
    ("mean promised time, peak", lambda r: _minutes(r.mean_promised_peak_s)),
    ("promised over fixed", lambda r: f"{r.promises_over_fixed:,}"),
    ("promises at the cap", lambda r: f"{r.promises_capped:,}"),
    ("mean delivery time", lambda r: _minutes(r.mean_delivery_s)),
    ("p90 delivery time", lambda r: _minutes(r.p90_delivery_s)),
    ("p95 delivery time", lambda r: _minutes(r.p95_delivery_s)),
    ("mean pickup wait", lambda r: _minutes(r.mean_pickup_wait_s)),
    ("rider utilisation", lambda r: f"{r.utilisation * 100:.1f} %"),
    ("rider idle share", lambda r: f"{r.idle_share * 100:.1f} %"),
    ("rider-hours online", lambda r: f"{r.rider_hours:,.0f}"),
    ("mean rider idle time", lambda r: _minutes(r.idle_share * r.rider_hours * 3600 / r.config.riders)),
    ("orders per rider-hour", lambda r: f"{r.orders_per_rider_hour:.2f}"),
    ("unassigned at window end", lambda r: f"{r.backlog_unassigned:,}"),
    ("in flight at window end", lambda r: f"{r.backlog_in_flight:,}"),
    ("undelivered after drain", lambda r: f"{r.left_undelivered:,}"),
    ("dispatch wall time / tick", lambda r: f"{r.dispatch_seconds / max(1, r.ticks) * 1000:.0f} ms"),
)


def results_table(results: Sequence[SimResult]) -> str:
    """The figures side by side, one column per policy (plain text)."""
    width = max(len(label) for label, _ in ROWS)
    cells = [[fmt(r) for r in results] for _, fmt in ROWS]
    col = max([len(r.policy) for r in results] + [len(c) for row in cells for c in row])
    lines = [" " * width + "".join(f"  {r.policy:>{col}}" for r in results)]
    for (label, _), row in zip(ROWS, cells, strict=True):
        lines.append(f"{label:<{width}}" + "".join(f"  {c:>{col}}" for c in row))
    return "\n".join(lines)


def describe(cfg: SimConfig) -> str:
    rate = f"{cfg.peak_per_minute:.1f} orders/min" + (" at the peak" if cfg.profile != "flat" else "")
    if cfg.orders is not None:
        rate = f"{cfg.orders:,} orders expected, {rate}"
    return (f"{cfg.minutes:g} simulated minutes ({cfg.profile} profile, {rate}), {cfg.riders} riders, "
            f"{cfg.city} city ({cfg.demand} demand, {cfg.shift_model} shifts), tick {cfg.tick_s:g} s, "
            f"seed {cfg.seed}, drain up to {cfg.drain_minutes:g} min, {cfg.promise} promise")

