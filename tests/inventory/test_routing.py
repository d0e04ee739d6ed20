"""The chain routing choice (`inventory.routing`, pure): properties over random chains and
carts, and a few worked examples."""

from __future__ import annotations

from operator import attrgetter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.discovery.geo import haversine_m
from linli.inventory.routing import UNLIMITED, StoreOption, Why, route

DROP = (31.2304, 121.4737)
SKUS = ["A", "B", "C", "D"]

stores_st = st.lists(st.builds(
    StoreOption,
    store_id=st.from_regex(r"sto_[a-z]{3}", fullmatch=True),
    lat=st.floats(31.20, 31.26), lng=st.floats(121.44, 121.50),
    is_open=st.booleans(),
    stock=st.dictionaries(st.sampled_from(SKUS), st.integers(0, 6)),
    delivery_radius_m=st.integers(500, 5000),
), min_size=0, max_size=7, unique_by=attrgetter("store_id"))
cart_st = st.dictionaries(st.sampled_from(SKUS), st.integers(1, 5), min_size=1)


def _has(store: StoreOption, items: dict[str, int]) -> bool:
    return all(store.stock.get(sku, 0) >= q for sku, q in items.items())


def _feasible(store: StoreOption, cart: dict[str, int]) -> bool:
    d = haversine_m(store.lat, store.lng, *DROP)
    return store.is_open and d <= store.delivery_radius_m and _has(store, cart)


@settings(max_examples=300, deadline=None)
@given(stores=stores_st, cart=cart_st, allow_split=st.booleans(), excluded=st.sets(st.integers(0, 6), max_size=2))
def test_routing_invariants(stores, cart, allow_split, excluded):
    exclude = {stores[i].store_id for i in excluded if i < len(stores)}
    result = route(cart, lat=DROP[0], lng=DROP[1], stores=stores, allow_split=allow_split, exclude=exclude)
    by_id = {s.store_id: s for s in stores}
    feasible = [s for s in stores if s.store_id not in exclude and _feasible(s, cart)]
    chosen = [by_id[leg.store_id] for leg in result.legs]
    for leg, store in zip(result.legs, chosen, strict=True):
        assert store.store_id not in exclude and store.is_open  # never an excluded or closed store
        assert haversine_m(store.lat, store.lng, *DROP) <= store.delivery_radius_m
        assert _has(store, leg.items)  # never a store missing what it is given
    if result.legs:  # the legs deliver exactly the cart
        total: dict[str, int] = {}
        for leg in result.legs:
            for sku, q in leg.items.items():
                total[sku] = total.get(sku, 0) + q
        assert total == cart
    if feasible:  # a single store can: the nearest of those, never a split
        assert result.kind == "single" and result.why == Why.NEAREST_WITH_ALL
        best = min(haversine_m(s.lat, s.lng, *DROP) for s in feasible)
        assert result.legs[0].distance_m == round(best)
        assert _has(chosen[0], cart)
    else:
        assert result.kind != "single"
        if result.kind == "split":
            assert allow_split and result.why == Why.SPLIT and len({leg.store_id for leg in result.legs}) == 2
    if not allow_split:
        assert result.kind in ("single", "none")
    for store in stores:  # every store is either chosen or has a reason
        assert (store.store_id in {leg.store_id for leg in result.legs}) != (store.store_id in result.reasons)


def _store(sid, lat, lng, stock, **kw):
    return StoreOption(store_id=sid, lat=lat, lng=lng, is_open=kw.pop("is_open", True), stock=stock, **kw)


NEAR = _store("sto_near", 31.2310, 121.4740, {"A": 1})
MID = _store("sto_mid", 31.2350, 121.4760, {"A": 5, "B": 5})
FAR = _store("sto_far", 31.2500, 121.4800, {"A": 5, "B": 5})


def test_the_nearest_store_with_every_item_wins_and_the_others_say_why():
    result = route({"A": 2, "B": 1}, lat=DROP[0], lng=DROP[1], stores=[FAR, NEAR, MID])
    assert [leg.store_id for leg in result.legs] == ["sto_mid"]
    assert result.reasons == {"sto_near": Why.MISSING_ITEMS, "sto_far": Why.FARTHER}
    assert result.missing == {"sto_near": ["A", "B"]}


def test_reroute_skips_the_store_that_refused():
    result = route({"A": 2, "B": 1}, lat=DROP[0], lng=DROP[1], stores=[FAR, NEAR, MID], exclude={"sto_mid"})
    assert [leg.store_id for leg in result.legs] == ["sto_far"]
    assert result.reasons["sto_mid"] == Why.EXCLUDED


def test_split_only_when_allowed_and_the_nearer_store_takes_what_it_can():
    only_a = _store("sto_a", 31.2310, 121.4740, {"A": 3})
    only_b = _store("sto_b", 31.2330, 121.4750, {"B": 2, "A": 1})
    cart = {"A": 4, "B": 2}
    assert route(cart, lat=DROP[0], lng=DROP[1], stores=[only_a, only_b]).kind == "none"
    split = route(cart, lat=DROP[0], lng=DROP[1], stores=[only_a, only_b], allow_split=True)
    assert split.kind == "split" and [leg.items for leg in split.legs] == [{"A": 3}, {"A": 1, "B": 2}]


def test_closed_out_of_range_and_made_to_order():
    closed = _store("sto_closed", 31.2305, 121.4738, {"A": 9}, is_open=False)
    far_away = _store("sto_away", 31.30, 121.60, {"A": 9})
    zoned = _store("sto_zone", 31.2306, 121.4739, {"A": 9},
                   delivery_zone=[[31.0, 121.0], [31.0, 121.1], [31.1, 121.1]])
    tiered = _store("sto_tier", 31.2400, 121.4737, {"A": 9}, max_distance_m=500)
    kitchen = _store("sto_kitchen", 31.2450, 121.4737, {"A": UNLIMITED})
    result = route({"A": 50}, lat=DROP[0], lng=DROP[1], stores=[closed, far_away, zoned, tiered, kitchen])
    assert [leg.store_id for leg in result.legs] == ["sto_kitchen"]
    assert result.reasons == {"sto_closed": Why.CLOSED, "sto_away": Why.OUT_OF_RANGE,
                              "sto_zone": Why.OUT_OF_RANGE, "sto_tier": Why.OUT_OF_RANGE}


@pytest.mark.parametrize("cart", [{}, {"A": 0}, {"A": -1}])
def test_an_empty_or_non_positive_cart_is_a_programming_error(cart):
    with pytest.raises(ValueError):
        route(cart, lat=0, lng=0, stores=[])
