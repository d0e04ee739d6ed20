"""What the dispatcher works on and answers: stops, open orders, riders' states, its
settings and its result. Pure (no Django); `dispatch.py` re-exports every name."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

PICKUP, DROPOFF = "pickup", "dropoff"

INF = math.inf
BIG = 1e12
EARTH_RADIUS_M = 6_371_008.8
_RAD = math.pi / 180

# Effective speeds over the straight-line distance (street detours priced in), m/s.
VEHICLE_SPEED_MPS = {"bike": 3.5, "ebike": 4.2, "scooter": 5.0, "car": 5.5}

# Why an order was left for the next tick.
NO_RIDER_NEARBY = "no_rider_nearby"      # no rider within the radius (or all excluded)
RIDERS_FULL = "riders_full"              # riders nearby, all at capacity
OUTNUMBERED = "outnumbered"              # feasible riders went to other orders this tick
HELD = "held"                            # worth waiting for a better rider: decided on a later tick


@dataclass(frozen=True)
class Stop:
    order_id: str
    kind: str            # PICKUP or DROPOFF
    lat: float
    lng: float
    ready_at: float = -INF   # pickup: the food is ready then (arriving earlier means waiting)
    promised_at: float = INF  # drop-off: the time promised to the consumer


@dataclass(frozen=True)
class OpenOrder:
    id: str
    pickup_lat: float
    pickup_lng: float
    dropoff_lat: float
    dropoff_lng: float
    ready_at: float
    promised_at: float
    excluded_riders: frozenset[str] = frozenset()

    def stops(self) -> tuple[Stop, Stop]:
        return (Stop(self.id, PICKUP, self.pickup_lat, self.pickup_lng, ready_at=self.ready_at),
                Stop(self.id, DROPOFF, self.dropoff_lat, self.dropoff_lng, promised_at=self.promised_at))


@dataclass(frozen=True)
class RiderState:
    """A rider where they are now, with the stops still ahead of them. A drop-off without
    its pickup on the route is an order already on board."""

    id: str
    lat: float
    lng: float
    route: tuple[Stop, ...] = ()
    capacity: int = 3            # max concurrent orders
    speed_mps: float = VEHICLE_SPEED_MPS["ebike"]

    @property
    def order_ids(self) -> set[str]:
        return {s.order_id for s in self.route}


@dataclass(frozen=True)
class DispatchSettings:
    radius_m: float = 4000.0
    max_candidates: int = 8
    # The route cost (see the module docstring); weights per second.
    time_weight: float = 1.0      # each drop-off's time from now: the orders' delivery time
    fresh_weight: float = 0.5     # food on board: drop-off minus leaving the store
    margin_s: float = 5 * 60      # plan drop-offs this long before the promise (prep noise)...
    margin_weight: float = 2.0    # ... at this price per second inside the margin
    late_weight: float = 10.0     # per second past the promise (on top of the margin price)
    late_fixed_s: float = 0.0     # once per drop-off past its promise (a late order is late)
    ride_weight: float = 1.5      # the rider's riding time (their work; waiting is not charged)
    # An insertion may not push an order already on the route later than its promise + this
    # (or later than it already is, when it is later than that). The new order itself has
    # no such limit: a late order still goes to the least bad rider.
    max_late_s: float = 0.0
    service_s: float = 60.0       # at every stop: park, hand over
    h3_res: int = 8
    max_rounds: int = 3           # a rider takes at most one order per round
    # Hold an order for a later tick while every candidate would reach the store more than
    # this long before the food is ready (None: assign at once).
    hold_s: float | None = None
    # Hold an order whose best rider would be late while a rider free at the store now
    # could still be on time (one who frees up nearby soon may take it on time).
    hold_late: bool = True
    candidate_depth: int = 4      # keep the nearest max_candidates x this riders per order
    idle_candidates: int = 4      # also the nearest riders with nothing to do (within the radius)
    # Also the riders whose route passes within route_m of the store (a stop ahead of them
    # there): bundling "on the way", wherever the rider is now. 0: off. They cost round
    # time (bench/dispatch_round.py, 2026-11-26: 0.59 s a round with 4, 0.60 with 6, 0.65
    # with 8; target 1 s) and pay in promises kept: the simulated day keeps 46.1 % of
    # orders on time with two, 58.4 % with four, 60.8 % with eight (docs/dispatch.md).
    route_candidates: int = 8
    route_m: float = 800.0
    route_res: int = 8
    # Deferred commitment: a plan that delivers late and reaches the store only after other
    # stops, more than this long after the food can first be picked up (now, or when it is
    # ready), is not offered (None: off). At a peak such an order is late whoever takes it,
    # and committing it to a busy rider 20 min ahead takes a slot they could fill at the
    # mall they are about to pass; it waits for a rider near the store instead (an idle
    # rider, or one going to the store first, still takes it at once). The 09:00-13:30 run:
    # on time 67.9 -> 67.6 %, mean 39.7 -> 38.3 min, p95 79 -> 64 min, undelivered after
    # the drain 2,623 -> 905; the whole day: 60.8 -> 75.7 % on time, mean 44.2 ->
    # 39.1 min, every order delivered (docs/dispatch.md, 2026-11-26).
    defer_s: float | None = 600.0
    defer_near_m: float = 300.0   # ... unless the stop before the pickup is this near the store (a bundle)


@dataclass(frozen=True)
class Assignment:
    order_id: str
    rider_id: str
    added_s: float        # increase of the route's cost (time + weighted lateness)
    pickup_eta: float
    dropoff_eta: float
    late_s: float         # by how much the drop-off misses the promise (0: on time)


@dataclass
class DispatchResult:
    assignments: list[Assignment]
    routes: dict[str, tuple[Stop, ...]]     # every rider's ordered stops after the tick
    unassigned: dict[str, str]              # order id -> reason
    stats: dict[str, float] = field(default_factory=dict)
    eta_source: Callable[[], dict[str, float]] = field(default=dict, repr=False, compare=False)
    _etas: dict[str, float] | None = field(default=None, repr=False, compare=False)

    @property
    def etas(self) -> dict[str, float]:
        """The drop-off ETA of every order on a route (worked out when first asked for)."""
        if self._etas is None:
            self._etas = self.eta_source()
        return self._etas

    @property
    def total_added_s(self) -> float:
        return sum(a.added_s for a in self.assignments)
