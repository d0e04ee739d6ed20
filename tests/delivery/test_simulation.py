"""`linli simulate`: the city simulator through the real dispatchers (pure, no database)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from linli.delivery.simulation import SimConfig, SimResult, make_orders, simulate

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
    again = StringIO()
    call_command("simulate", "--minutes", "10", "--riders", "20", "--orders-per-minute", "3",
                 "--city", "small", "--seed", "5", "--compare", "--drain-minutes", "20",
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
