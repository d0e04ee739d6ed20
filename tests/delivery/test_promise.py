"""The load-aware promise (`linli.delivery.promise`, pure): the fixed promise when the city
keeps up, plus the wait for a rider the backlog implies when it does not."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.delivery.promise import (
    CityLoad,
    PromiseSettings,
    base_promise_in_s,
    hits_cap,
    promise_in_s,
    rider_wait_s,
)
from linli.delivery.simcity import promise_for

ready = st.floats(min_value=0, max_value=3600, allow_nan=False)
ride = st.floats(min_value=0, max_value=10_000, allow_nan=False)
backlog = st.integers(min_value=0, max_value=50_000)
riders = st.integers(min_value=0, max_value=10_000)
throughput = st.floats(min_value=0.01, max_value=20, allow_nan=False)
loads = st.builds(CityLoad, backlog, riders, throughput)
# At the lunch peak: 10,000 orders not picked up, 2,760 riders delivering 4.7 an hour.
PEAK = CityLoad(backlog=10_000, riders_online=2760, deliveries_per_rider_hour=4.7)


@given(ready, ride)
def test_without_load_the_promise_is_exactly_the_fixed_one(ready_in_s, ride_m):
    assert promise_in_s(ready_in_s=ready_in_s, ride_m=ride_m, load=None) == promise_for(ready_in_s, ride_m)


@given(ready, ride, backlog, riders)
def test_unknown_throughput_gives_the_fixed_promise(ready_in_s, ride_m, backlog, riders):
    load = CityLoad(backlog, riders, 0.0)
    assert promise_in_s(ready_in_s=ready_in_s, ride_m=ride_m, load=load) == promise_for(ready_in_s, ride_m)


def test_a_city_that_keeps_up_promises_the_fixed_time():
    # The simulated day at 10:00 (defaults): 1,050 orders not picked up, 1,860 riders
    # delivering 2.1 an hour each, an order from a 4-minute kitchen.
    load = CityLoad(backlog=1050, riders_online=1860, deliveries_per_rider_hour=2.1)
    assert promise_in_s(ready_in_s=270, ride_m=2300, load=load) == promise_for(270, 2300)
    # ... and at 12:00, 7,150 orders, 2,760 riders at 5.1: the promise grows.
    peak = CityLoad(backlog=7150, riders_online=2760, deliveries_per_rider_hour=5.1)
    assert promise_in_s(ready_in_s=720, ride_m=2300, load=peak) > promise_for(720, 2300) + 30 * 60


def test_at_the_peak_the_promise_adds_the_wait_behind_the_backlog():
    settings = PromiseSettings(wait_factor=1.0, covered_s=600, max_wait_s=3 * 3600,
                               busy_deliveries_per_rider_hour=4.0)
    clear_s = 10_000 / (2760 * 4.7) * 3600          # about 46 min
    wait = rider_wait_s(ready_in_s=720, load=PEAK, settings=settings)
    assert wait == pytest.approx(clear_s - 720 - 600)
    assert promise_in_s(ready_in_s=720, ride_m=2300, load=PEAK, settings=settings) == pytest.approx(
        promise_for(720, 2300) + wait)


@given(ready, ride, loads)
def test_the_promise_is_never_before_the_fixed_one_nor_later_than_the_cap(ready_in_s, ride_m, load):
    settings = PromiseSettings(max_wait_s=45 * 60)
    promise = promise_in_s(ready_in_s=ready_in_s, ride_m=ride_m, load=load, settings=settings)
    base = base_promise_in_s(ready_in_s=ready_in_s, ride_m=ride_m, settings=settings)
    assert base <= promise <= base + 45 * 60


@given(ready, ride, loads, st.integers(min_value=0, max_value=5000))
def test_more_backlog_never_promises_sooner(ready_in_s, ride_m, load, more):
    heavier = CityLoad(load.backlog + more, load.riders_online, load.deliveries_per_rider_hour)
    assert (promise_in_s(ready_in_s=ready_in_s, ride_m=ride_m, load=heavier)
            >= promise_in_s(ready_in_s=ready_in_s, ride_m=ride_m, load=load))


@given(ready, ride, loads, st.integers(min_value=0, max_value=5000),
       st.floats(min_value=0, max_value=10, allow_nan=False))
def test_more_riders_or_throughput_never_promise_later(ready_in_s, ride_m, load, riders_more, faster):
    stronger = CityLoad(load.backlog, load.riders_online + riders_more, load.deliveries_per_rider_hour + faster)
    assert (promise_in_s(ready_in_s=ready_in_s, ride_m=ride_m, load=stronger)
            <= promise_in_s(ready_in_s=ready_in_s, ride_m=ride_m, load=load))


def test_the_wait_is_capped_and_the_cap_is_counted():
    settings = PromiseSettings(max_wait_s=1800)
    swamped = CityLoad(backlog=50_000, riders_online=100, deliveries_per_rider_hour=3.0)
    wait = rider_wait_s(ready_in_s=600, load=swamped, settings=settings)
    assert wait == 1800 and hits_cap(wait, settings)
    assert not hits_cap(rider_wait_s(ready_in_s=600, load=PEAK, settings=PromiseSettings(max_wait_s=7200)),
                        PromiseSettings(max_wait_s=7200))
    # A backlog and no rider online: the cap (not the fixed promise).
    nobody = CityLoad(backlog=10, riders_online=0, deliveries_per_rider_hour=3.0)
    assert rider_wait_s(ready_in_s=600, load=nobody, settings=settings) == 1800
    assert rider_wait_s(ready_in_s=600, load=CityLoad(0, 0, 3.0), settings=settings) == 0


def test_riders_with_room_count_at_a_busy_riders_throughput():
    # 1,500 orders not picked up and 2,000 riders who deliver 2 an hour because there is
    # not more to deliver: not a 22-minute queue, the city keeps up.
    settings = PromiseSettings(wait_factor=1.0, covered_s=600, busy_deliveries_per_rider_hour=5.0)
    quiet = CityLoad(backlog=1500, riders_online=2000, deliveries_per_rider_hour=2.0)
    assert quiet.clear_s() == pytest.approx(22.5 * 60)
    assert quiet.clear_s(5.0) == pytest.approx(9 * 60)
    assert promise_in_s(ready_in_s=300, ride_m=2000, load=quiet, settings=settings) == promise_for(300, 2000)
    assert promise_in_s(ready_in_s=300, ride_m=2000, load=quiet,
                        settings=replace(settings, busy_deliveries_per_rider_hour=0.0)) > promise_for(300, 2000)


def test_a_longer_preparation_absorbs_the_wait_for_a_rider():
    # The rider's wait and the kitchen's overlap: the pickup is at the later of the two.
    settings = PromiseSettings(max_wait_s=3 * 3600)
    quick = promise_in_s(ready_in_s=240, ride_m=2000, load=PEAK, settings=settings)
    slow = promise_in_s(ready_in_s=1500, ride_m=2000, load=PEAK, settings=settings)
    assert quick == pytest.approx(slow)
    assert quick > promise_for(240, 2000)


@pytest.mark.parametrize("bad", [dict(backlog=-1, riders_online=1, deliveries_per_rider_hour=1.0),
                                 dict(backlog=1, riders_online=-1, deliveries_per_rider_hour=1.0),
                                 dict(backlog=1, riders_online=1, deliveries_per_rider_hour=-1.0)])
def test_a_negative_load_is_refused(bad):
    with pytest.raises(ValueError):
        CityLoad(**bad)
