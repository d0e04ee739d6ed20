"""`linli simulate`: the city simulator through the real dispatchers (pure, no database)."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from linli.delivery import simulation
from linli.delivery.dispatch_reposition import RepositionSettings, reposition
from linli.delivery.promise import PromiseSettings
from linli.delivery.simcity import CENTRE, offset, shifts_for
from linli.delivery.simulation import (
    SimConfig,
    SimResult,
    _distance_m,
    make_orders,
    make_riders,
    simulate,
)

SMALL = SimConfig(minutes=20, riders=30, orders_per_minute=4, city="small", seed=1, drain_minutes=30)


def _figures(result: SimResult) -> dict[str, object]:
    figures = dict(vars(result))
    figures.pop("dispatch_seconds")  # wall time: the only thing that depends on the machine
    return figures


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    first, again = simulate(SMALL), simulate(SMALL)
    assert first.delivered > 0
    assert _figures(first) == _figures(again)
    other = simulate(replace(SMALL, seed=2))
    assert other.delivered_ids != first.delivered_ids


def test_both_policies_see_the_same_orders():
    assert make_orders(SMALL) == make_orders(replace(SMALL, policy="greedy"))


@pytest.mark.parametrize("policy", ["batch", "greedy"])
def test_every_order_is_delivered_once_or_still_open_none_lost(policy):
    # Overloaded and cut off at the window's end: orders are left in every state.
    cfg = replace(SMALL, riders=8, orders_per_minute=6, drain_minutes=0, policy=policy)
    result = simulate(cfg)
    assert len(result.states) == result.placed
    assert set(result.states) == {f"o{i}" for i in range(result.placed)}
    assert len(result.delivered_ids) == len(set(result.delivered_ids)) == result.delivered
    assert {o for o, s in result.states.items() if s == "delivered"} == set(result.delivered_ids)
    counts = Counter(result.states.values())
    assert counts["unassigned"] == result.backlog_unassigned
    assert counts["assigned"] + counts["on_board"] == result.backlog_in_flight
    assert result.placed == result.delivered + result.left_undelivered
    assert {"delivered", "unassigned", "on_board"} <= set(counts)


def test_draining_delivers_every_order_of_a_light_load():
    result = simulate(replace(SMALL, orders_per_minute=2, drain_minutes=60))
    assert result.placed > 20
    assert result.delivered == result.placed and result.left_undelivered == 0
    assert 0 < result.utilisation < 1 and 0 < result.idle_share < 1
    assert result.p90_delivery_s >= result.mean_delivery_s * 0.8 and result.p95_delivery_s >= result.p90_delivery_s


def test_rider_figures_cover_the_shift_so_a_window_shorter_than_a_delivery_still_counts():
    # Ten minutes of orders: no order can be delivered inside the window itself.
    result = simulate(replace(SMALL, minutes=10, orders_per_minute=2, drain_minutes=90))
    assert result.delivered == result.placed > 0
    assert result.shift_s > result.config.minutes * 60
    rider_hours = result.config.riders * result.shift_s / 3600
    assert result.orders_per_rider_hour == pytest.approx(result.delivered / rider_hours)
    assert 0 < result.utilisation < 1 and 0 < result.idle_share < 1


def test_batch_beats_greedy_on_on_time_rate_and_mean_delivery_time():
    seeds = range(4)
    cfg = SimConfig(minutes=30, riders=40, orders_per_minute=5, city="small", drain_minutes=60)
    batch = [simulate(replace(cfg, seed=s)) for s in seeds]
    greedy = [simulate(replace(cfg, seed=s, policy="greedy")) for s in seeds]
    on_time = sum(r.on_time_rate for r in batch) / len(batch), sum(r.on_time_rate for r in greedy) / len(greedy)
    mean_s = sum(r.mean_delivery_s for r in batch) / len(batch), sum(r.mean_delivery_s for r in greedy) / len(greedy)
    assert on_time[0] > on_time[1], on_time
    assert mean_s[0] < mean_s[1], mean_s


def test_the_lunch_profile_peaks_mid_window_and_the_count_is_poisson():
    cfg = SimConfig(minutes=60, riders=120, seed=3)  # peak riders / 12 = 10 a minute
    assert cfg.rate_at(30 * 60) == pytest.approx(10 / 60)
    assert cfg.rate_at(0) == pytest.approx(0.4 * 10 / 60)
    expected = 10 * 60 * (0.4 + 0.6 * 2 / math.pi)
    placed = len(make_orders(cfg))
    assert abs(placed - expected) < 4 * math.sqrt(expected)
    flat = len(make_orders(replace(cfg, profile="flat", orders_per_minute=3)))
    assert abs(flat - 180) < 4 * math.sqrt(180)


def test_the_day_profile_has_a_lunch_and_a_dinner_peak_and_places_the_orders_asked_for():
    cfg = SimConfig(minutes=12 * 60, riders=50, profile="day", orders=3000, seed=4)  # 09:00-21:00
    at = {hour: cfg.rate_at((hour - 9) * 3600) for hour in (10, 12, 15, 18.25, 20.5)}
    assert at[12] > 3 * at[15] and at[18.25] > 3 * at[15]
    assert at[12] > 2 * at[10] and at[18.25] > 2 * at[20.5]
    assert cfg.peak_per_minute == pytest.approx(at[12] * 60, rel=0.01)
    placed = len(make_orders(cfg))
    assert abs(placed - 3000) < 4 * math.sqrt(3000)
    lunch = sum(1 for o in make_orders(cfg) if 2 * 3600 <= o.placed_at < 4 * 3600)   # 11:00-13:00
    afternoon = sum(1 for o in make_orders(cfg) if 5 * 3600 <= o.placed_at < 7 * 3600)  # 14:00-16:00
    assert lunch > 2.5 * afternoon


@pytest.mark.parametrize("bad", [dict(minutes=0), dict(riders=0), dict(tick_s=-1), dict(policy="random"),
                                 dict(profile="dinner"), dict(city="atlantis"), dict(orders_per_minute=-1),
                                 dict(orders=-5)])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        SimConfig(**bad)


def test_the_command_runs_both_policies_and_prints_the_table():
    out = StringIO()
    call_command("simulate", "--minutes", "10", "--riders", "20", "--orders-per-minute", "3",
                 "--city", "small", "--seed", "5", "--compare", "--drain-minutes", "20",
                 stdout=out, stderr=StringIO(), verbosity=0)
    text = out.getvalue()
    header = text.splitlines()[1].split()
    assert header == ["batch", "greedy"]
    for row in ("on-time rate", "mean delivery time", "p90 delivery time", "mean pickup wait",
                "rider utilisation", "orders per rider-hour", "unassigned at window end"):
        assert row in text
    again = StringIO()  # greedy ran in a second process above; here after batch, in this one
    call_command("simulate", "--minutes", "10", "--riders", "20", "--orders-per-minute", "3",
                 "--city", "small", "--seed", "5", "--compare", "--sequential", "--drain-minutes", "20",
                 stdout=again, stderr=StringIO(), verbosity=0)
    strip = [line for line in text.splitlines() if "wall time" not in line]
    assert strip == [line for line in again.getvalue().splitlines() if "wall time" not in line]


def test_the_command_shows_a_progress_bar(capsys):
    call_command("simulate", "--minutes", "5", "--riders", "10", "--city", "small",
                 "--drain-minutes", "0", stdout=StringIO())
    # Not a terminal: a plain line per tenth of the way, on stderr (like `linli seed`).
    err = capsys.readouterr().err
    assert "batch ticks [" in err and "20/20 100.0%" in err


def test_the_command_takes_orders_and_hours_for_a_day():
    out = StringIO()
    call_command("simulate", "--orders", "200", "--hours", "1.5", "--riders", "25", "--city", "small",
                 "--drain-minutes", "30", stdout=out, stderr=StringIO(), verbosity=0)
    text = out.getvalue()
    assert text.startswith("90 simulated minutes (day profile, 200 orders expected")
    placed = int(next(line for line in text.splitlines() if line.startswith("orders placed")).split()[-1])
    assert abs(placed - 200) < 4 * math.sqrt(200)


def test_a_bigger_box_carries_more_at_once():
    """--capacity is the rider's box: with one order per trip, fewer orders per rider-hour."""
    def per_rider_hour(capacity: str) -> float:
        out = StringIO()
        call_command("simulate", "--minutes", "30", "--riders", "15", "--orders-per-minute", "3", "--city", "small",
                     "--seed", "3", "--drain-minutes", "40", "--capacity", capacity, stdout=out, stderr=StringIO(),
                     verbosity=0)
        row = next(line for line in out.getvalue().splitlines() if line.startswith("orders per rider-hour"))
        return float(row.split()[-1])
    assert per_rider_hour("1") < per_rider_hour("4")


@pytest.mark.parametrize("args", [["--riders", "0"], ["--capacity", "0"], ["--minutes", "0"], ["--policy", "random"],
                                  ["--orders-per-minute", "-2"], ["--city", "atlantis"], ["--orders", "0"],
                                  ["--hours", "0"], ["--hours", "2", "--minutes", "30"],
                                  ["--orders", "10", "--orders-per-minute", "3"]])
def test_the_command_refuses_bad_options(args):
    with pytest.raises(CommandError):
        call_command("simulate", *args, stdout=StringIO(), stderr=StringIO())


# --- the city's riders' shifts, demand geography and repositioning ----------------------

DAY = SimConfig(minutes=12 * 60, riders=80, profile="day", orders=1500, city="small", seed=2)


def test_the_shift_mix_puts_exactly_the_riders_asked_for_on_realistic_shifts():
    for riders in (1, 7, 200, 3001):
        shifts = shifts_for(riders, random.Random(riders))
        assert len(shifts) == riders
        for spans in shifts:
            hours = sum(b - a for a, b in spans)
            assert 4 - 1e-9 <= hours <= 10 + 1e-9
            assert all(a < b for a, b in spans)
    shifts = shifts_for(1000, random.Random(0))
    def online(hour: float) -> int:
        return sum(any(a <= hour < b for a, b in spans) for spans in shifts)
    # Most riders at the lunch and dinner peaks, far fewer in the afternoon lull and the morning.
    assert online(12) > 0.85 * 1000 and online(18.25) > 0.75 * 1000
    assert online(15.5) < 0.4 * 1000 and 0.15 * 1000 < online(9.25) < 0.5 * 1000


def test_riders_take_orders_only_on_shift_and_come_online_near_a_store():
    riders = make_riders(DAY)
    assert len(riders) == DAY.riders and all(r.spans for r in riders)
    world_riders = {}

    class Spy(simulation._World):
        def dispatch(self, now, policy):
            for rider in self.riders:
                if rider.was_on:
                    assert rider.on_shift(now)
            took = super().dispatch(now, policy)
            for order in self.orders.values():
                if order.assigned_at == now:
                    assert self.by_id[order.rider].on_shift(now), (order.id, order.rider, now)
            world_riders.update(self.by_id)
            return took

    original = simulation._World
    simulation._World = Spy
    try:
        result = simulate(replace(DAY, drain_minutes=90))
    finally:
        simulation._World = original
    assert result.delivered > 0.95 * result.placed
    # Rider-hours are the shifts (and the routes finished after them), not 12 h each.
    assert result.rider_hours < 0.85 * DAY.riders * 12
    assert result.rider_hours > 0.5 * sum(sum(min(b, 21) - max(a, 9) for a, b in spans)
                                          for spans in shifts_for(DAY.riders, random.Random("shifts-2")))
    assert result.orders_per_rider_hour == pytest.approx(result.delivered / result.rider_hours)


def test_compound_demand_clusters_drop_offs_at_the_same_mean_distance():
    cfg = SimConfig(minutes=60, riders=100, profile="flat", orders_per_minute=60, seed=1)
    def stats(demand: str) -> tuple[float, int]:
        orders = make_orders(replace(cfg, demand=demand))
        mean = sum(_distance_m(o.pickup, o.dropoff) for o in orders) / len(orders)
        cells = Counter((round(o.dropoff[0] / 0.003), round(o.dropoff[1] / 0.003)) for o in orders)  # ~300 m
        return mean, sum(n for _cell, n in cells.most_common(50))
    uniform, compounds = stats("uniform"), stats("compounds")
    assert abs(compounds[0] - uniform[0]) < 0.1 * uniform[0]
    assert compounds[1] > 2 * uniform[1]   # the busiest 50 blocks take far more of the orders


def test_repositioning_sends_only_far_idle_riders_to_where_orders_appear():
    hot = offset(*CENTRE, 0, 0)
    pickups = [hot] * 20                                   # 20 orders in 10 min: 10 wanted in 5 min
    idle = [("near", *offset(*CENTRE, 300, 0)), ("far", *offset(*CENTRE, 2000, 0)),
            ("too far", *offset(*CENTRE, 6000, 0))]
    moves = reposition(idle, pickups, RepositionSettings())
    assert set(moves) == {"far"}
    assert _distance_m(moves["far"], hot) < 1
    assert reposition(idle, [], RepositionSettings()) == {}
    # A hot spot with enough idle riders nearby draws nobody.
    crowd = [(f"c{i}", *offset(*CENTRE, 100, i)) for i in range(10)]
    assert reposition([*crowd, ("far", *offset(*CENTRE, 2000, 0))], pickups, RepositionSettings()) == {}


def test_the_simulator_repositions_only_idle_riders_and_only_for_batch():
    cfg = SimConfig(minutes=40, riders=60, orders_per_minute=4, city="small", seed=3, drain_minutes=30)
    sent: list[tuple[str, int]] = []

    class Spy(simulation._World):
        def reposition(self, now):
            before = {r.id: r.target for r in self.riders}
            n = super().reposition(now)
            for r in self.riders:
                if r.target is not None and r.target != before[r.id]:
                    assert not r.route and r.busy_until is None and r.was_on
                    sent.append((r.id, int(now)))
            return n

    original = simulation._World
    simulation._World = Spy
    try:
        simulate(cfg)
        batch_sent = len(sent)
        simulate(replace(cfg, policy="greedy"))
        assert len(sent) == batch_sent
        simulate(replace(cfg, reposition=False))
        assert len(sent) == batch_sent
    finally:
        simulation._World = original
    assert batch_sent > 0


# --- the load-aware promise (`promise.py`) ---------------------------------------------

# Overloaded (20 riders for 6 orders a minute), with a 5-minute throughput window so the
# load-aware promise has a throughput to read within the short run, and a cap far enough
# that the waits differ.
LOADED = replace(SMALL, minutes=30, riders=20, orders_per_minute=6, throughput_window_s=300,
                 promise_settings=PromiseSettings(max_wait_s=6 * 3600))


def test_the_promise_of_an_order_depends_only_on_the_city_before_it_is_placed():
    tick = LOADED.tick_s
    placed = [o.placed_at for o in make_orders(LOADED)]
    # Cut between two orders of one tick, so the later orders of the tick must not count either.
    cut = next((a + b) / 2 for a, b in zip(placed, placed[1:]) if a > 17 * 60 and a // tick == b // tick)
    full = simulate(LOADED, orders=make_orders(LOADED))
    before = [o for o in make_orders(LOADED) if o.placed_at < cut]
    truncated = simulate(LOADED, orders=before)
    assert 0 < len(before) < full.placed
    assert {o.id: truncated.promised_at[o.id] for o in before} == {o.id: full.promised_at[o.id] for o in before}
    fixed = {o.id: o.fixed_promised_at for o in before}
    assert any(full.promised_at[i] > fixed[i] for i in fixed)   # the load did move promises before the cut


def test_under_load_promises_grow_never_shrink_and_fixed_keeps_the_old_promise():
    orders = make_orders(LOADED)
    fixed_at = {o.id: o.fixed_promised_at for o in orders}
    load = simulate(LOADED, orders=orders)
    assert all(load.promised_at[i] >= fixed_at[i] for i in fixed_at)
    assert load.promises_over_fixed > 0 and load.mean_promised_s > 0
    old = simulate(replace(LOADED, promise="fixed"))
    assert old.promised_at == fixed_at
    assert old.on_time_rate == old.on_time_fixed_rate
    assert old.promises_over_fixed == old.promises_capped == 0
    # The first window has no throughput to read: the fixed promise, also with load.
    first = [o.id for o in orders if o.placed_at < LOADED.throughput_window_s]
    assert first and all(load.promised_at[i] == fixed_at[i] for i in first)


def test_promises_that_hit_the_cap_are_counted():
    capped = simulate(replace(LOADED, promise_settings=PromiseSettings(max_wait_s=300)))
    assert capped.promises_capped > 0
    assert capped.promises_capped <= capped.promises_over_fixed
    assert all(p - f <= 300 + 1e-6 for p, f in
               ((capped.promised_at[o.id], o.fixed_promised_at) for o in make_orders(LOADED)))


@pytest.mark.parametrize("promise", ["load", "fixed"])
def test_the_command_prints_the_on_time_rate_against_both_promises(promise):
    out = StringIO()
    call_command("simulate", "--minutes", "10", "--riders", "20", "--orders-per-minute", "3",
                 "--city", "small", "--seed", "5", "--drain-minutes", "20", "--promise", promise,
                 stdout=out, stderr=StringIO(), verbosity=0)
    text = out.getvalue()
    assert f"{promise} promise" in text.splitlines()[0]
    rows = {line.rsplit("  ", 1)[0].strip(): line.split()[-2:] for line in text.splitlines()[2:]}
    for row in ("on-time rate", "on time vs fixed promise", "mean promised time",
                "mean promised time, peak", "promises at the cap"):
        assert row in rows
    assert rows["on-time rate"][1] == "%" and rows["on time vs fixed promise"][1] == "%"
