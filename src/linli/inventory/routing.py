"""Chain routing, pure Python (no Django): which store of a chain should take a delivery
order (docs/inventory.md).

A store can take the cart when it is open, delivers to the drop-off point and has every
item in stock. The nearest such store wins. When none can and the consumer allows a split,
the pair of stores with the smallest total distance that together cover the cart is
proposed: the nearer store takes all it can of each item, the other the rest. Every store
not chosen gets a reason. The stock read is a snapshot: the order placed afterwards takes
the units with its own atomic check (and the consumer app reroutes if that store refuses).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from linli.discovery.geo import haversine_m
from linli.merchants.zones import point_in_polygon

UNLIMITED = 10**12  # stock of a made-to-order item


class Why(StrEnum):
    NEAREST_WITH_ALL = "nearest_with_all_items"  # chosen: the nearest store able to take the cart
    SPLIT = "split_no_single_store"  # chosen: no single store can, the consumer allows a split
    FARTHER = "farther"  # could take the cart, a nearer store was chosen
    MISSING_ITEMS = "missing_items"  # open and in range, short of some item
    OUT_OF_RANGE = "out_of_range"  # does not deliver to the drop-off point
    CLOSED = "closed"  # paused, outside its hours or not taking orders
    EXCLUDED = "excluded"  # rejected this cart already (reroute)
    NOT_IN_PAIR = "not_in_best_split"  # part of a possible split, a shorter one was chosen


@dataclass(frozen=True)
class StoreOption:
    store_id: str
    lat: float
    lng: float
    is_open: bool
    stock: Mapping[str, int]  # sku -> units available (UNLIMITED for made to order)
    delivery_radius_m: int = 3000
    delivery_zone: Sequence[Sequence[float]] | None = None  # replaces the radius when set
    max_distance_m: int | None = None  # the last fee tier: no delivery beyond it


@dataclass(frozen=True)
class Leg:
    store_id: str
    items: dict[str, int]  # sku -> quantity this store takes
    distance_m: int


@dataclass
class Route:
    legs: list[Leg]  # [] none, [one] single store, [two] split
    why: Why | None  # why the legs were chosen; None when no store (or pair) can
    reasons: dict[str, Why] = field(default_factory=dict)  # every store not chosen
    missing: dict[str, list[str]] = field(default_factory=dict)  # store -> skus it is short of

    @property
    def kind(self) -> str:
        return {0: "none", 1: "single"}.get(len(self.legs), "split")


def delivers_to(store: StoreOption, lat: float, lng: float, distance_m: float) -> bool:
    """The rule `orders` applies at placement: the zone polygon when set, else the radius;
    fee tiers end delivery after their last tier."""
    if store.delivery_zone:
        inside = point_in_polygon(lat, lng, [[float(p[0]), float(p[1])] for p in store.delivery_zone])
    else:
        inside = distance_m <= store.delivery_radius_m
    return inside and (store.max_distance_m is None or distance_m <= store.max_distance_m)


def _short(store: StoreOption, cart: Mapping[str, int]) -> list[str]:
    return sorted(sku for sku, quantity in cart.items() if store.stock.get(sku, 0) < quantity)


def route(cart: Mapping[str, int], *, lat: float, lng: float, stores: Sequence[StoreOption],
          allow_split: bool = False, exclude: Collection[str] = ()) -> Route:
    """Pick the store (or, with `allow_split`, two stores) for `cart` {sku: quantity > 0}
    delivered to (lat, lng). Ties in distance go to the smaller store id (deterministic)."""
    if not cart or any(q <= 0 for q in cart.values()):
        raise ValueError("cart needs at least one item, every quantity > 0")
    result = Route(legs=[], why=None)
    usable: list[tuple[float, StoreOption]] = []
    for store in stores:
        distance = haversine_m(store.lat, store.lng, lat, lng)
        if store.store_id in exclude:
            result.reasons[store.store_id] = Why.EXCLUDED
        elif not store.is_open:
            result.reasons[store.store_id] = Why.CLOSED
        elif not delivers_to(store, lat, lng, distance):
            result.reasons[store.store_id] = Why.OUT_OF_RANGE
        else:
            usable.append((distance, store))
    usable.sort(key=lambda pair: (pair[0], pair[1].store_id))
    full = []
    for distance, store in usable:
        short = _short(store, cart)
        if short:
            result.reasons[store.store_id] = Why.MISSING_ITEMS
            result.missing[store.store_id] = short
        else:
            full.append((distance, store))
    if full:
        distance, chosen = full[0]
        result.legs, result.why = [Leg(chosen.store_id, dict(cart), round(distance))], Why.NEAREST_WITH_ALL
        for _d, other in full[1:]:
            result.reasons[other.store_id] = Why.FARTHER
        return result
    if allow_split:
        best = _best_split(cart, usable)
        if best is not None:
            result.legs, result.why = best, Why.SPLIT
            for leg in best:
                result.reasons.pop(leg.store_id, None)
                result.missing.pop(leg.store_id, None)
    return result


def _best_split(cart: Mapping[str, int], usable: list[tuple[float, StoreOption]]) -> list[Leg] | None:
    """The two stores with the smallest total distance that together have every unit (each
    taking at least one item); the nearer one takes all it can."""
    best: tuple[float, str, str] | None = None
    legs: list[Leg] | None = None
    for i, (d_near, near) in enumerate(usable):
        for d_far, far in usable[i + 1:]:
            if best is not None and d_near + d_far > best[0]:
                break  # sorted by distance: every later partner is farther still
            first: dict[str, int] = {}
            second: dict[str, int] = {}
            for sku, quantity in cart.items():
                take = min(quantity, near.stock.get(sku, 0))
                rest = quantity - take
                if rest > far.stock.get(sku, 0):
                    break
                if take:
                    first[sku] = take
                if rest:
                    second[sku] = rest
            else:
                if not first or not second:
                    continue
                key = (d_near + d_far, near.store_id, far.store_id)
                if best is None or key < best:
                    best = key
                    legs = [Leg(near.store_id, first, round(d_near)), Leg(far.store_id, second, round(d_far))]
    return legs
