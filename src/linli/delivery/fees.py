"""What a rider earns for one delivered task. Pure Python, no Django: integer fen only.

    gross   = base_fen                                    (covers the first base_distance_m)
            + per_km_fen × started km beyond base_distance_m
    penalty = min(late_per_minute_fen × started late minute, gross × max_penalty_pct / 100)
    total   = gross − penalty

Distance is the straight-line (haversine) distance from the store to the drop-off, in
metres, as stored on the task. Lateness is counted from the task's `deliver_deadline`:
on time or early costs nothing; every started minute late costs `late_per_minute_fen`,
and the penalty never takes more than `max_penalty_pct` of the gross, so a rider is
always paid something for a delivery that was made.

Invariants (tests/delivery/test_fees.py checks them with hypothesis): the total is an
integer, never negative, never above the gross, never below half of it with the
default rules; it never decreases as the distance grows and never increases as
lateness grows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeeRules:
    base_fen: int = 500            # ¥5.00 for a delivery of up to base_distance_m
    base_distance_m: int = 1000
    per_km_fen: int = 100          # ¥1.00 for each started kilometre beyond that
    late_per_minute_fen: int = 20  # ¥0.20 off per started minute past the deadline
    max_penalty_pct: int = 50      # the penalty never exceeds half the gross

    def __post_init__(self) -> None:
        for name in ("base_fen", "base_distance_m", "per_km_fen", "late_per_minute_fen"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if not 0 <= self.max_penalty_pct <= 100:
            raise ValueError("max_penalty_pct must be within 0..100")


DEFAULT_RULES = FeeRules()


@dataclass(frozen=True)
class RiderFee:
    base_fen: int
    distance_fen: int
    late_penalty_fen: int
    total_fen: int
    late_minutes: int

    @property
    def gross_fen(self) -> int:
        return self.base_fen + self.distance_fen


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def late_minutes(late_seconds: float) -> int:
    """Started minutes past the deadline; 0 when on time or early."""
    if late_seconds <= 0:
        return 0
    return _ceil_div(int(late_seconds * 1000), 60_000)  # millisecond precision, no float drift


def rider_fee(distance_m: float, late_seconds: float = 0, rules: FeeRules = DEFAULT_RULES) -> RiderFee:
    """The fee for one delivery of `distance_m` metres delivered `late_seconds` after its
    deadline (negative or zero: on time)."""
    if distance_m < 0:
        raise ValueError("distance_m must not be negative")
    beyond_m = max(0, _ceil_div(int(distance_m * 1000), 1000) - rules.base_distance_m)  # mm precision
    distance_fen = _ceil_div(beyond_m, 1000) * rules.per_km_fen
    gross = rules.base_fen + distance_fen
    minutes = late_minutes(late_seconds)
    penalty = min(minutes * rules.late_per_minute_fen, gross * rules.max_penalty_pct // 100)
    return RiderFee(base_fen=rules.base_fen, distance_fen=distance_fen, late_penalty_fen=penalty,
                    total_fen=gross - penalty, late_minutes=minutes)
