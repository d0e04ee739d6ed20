"""When a delivery task is due. Pure Python, no Django.

- `pickup_deadline`: when the food should be ready for the rider: the moment the store
  accepted the order plus the store's preparation time (`Store.prep_minutes`); when the
  acceptance time is unknown, now plus the preparation time.
- `deliver_deadline`: the time promised to the consumer. An order that carries a promised
  time (an ETA) keeps it; otherwise the pickup deadline plus the ride: the haversine
  distance from the store to the drop-off at `RIDER_SPEED_M_PER_MIN`, rounded up to the
  next minute.

`RIDER_SPEED_M_PER_MIN` = 250 m/min (15 km/h) is an effective speed over the
straight-line distance, i.e. an e-bike in city traffic with the detours of real streets
already priced in. The dispatch engine's routed ETA replaces it when it lands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

RIDER_SPEED_M_PER_MIN = 250


@dataclass(frozen=True)
class Deadlines:
    pickup: datetime
    deliver: datetime


def travel_minutes(distance_m: float, speed_m_per_min: float = RIDER_SPEED_M_PER_MIN) -> int:
    """Whole minutes (rounded up) to ride `distance_m` metres."""
    if distance_m < 0:
        raise ValueError("distance_m must not be negative")
    return math.ceil(distance_m / speed_m_per_min)


def deadlines_for(*, now: datetime, accepted_at: datetime | None, prep_minutes: int,
                  distance_m: float, promised_at: datetime | None = None) -> Deadlines:
    pickup = (accepted_at or now) + timedelta(minutes=max(0, prep_minutes))
    deliver = promised_at if promised_at is not None \
        else pickup + timedelta(minutes=travel_minutes(distance_m))
    return Deadlines(pickup=pickup, deliver=deliver)


def seconds_left(deadline: datetime | None, now: datetime) -> int | None:
    """Seconds until the deadline (negative once it has passed); None without a deadline."""
    if deadline is None:
        return None
    return math.floor((deadline - now).total_seconds())
