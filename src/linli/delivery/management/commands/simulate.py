"""`linli simulate`: run a synthetic city through the real dispatcher and print how it did
(pure simulation, no database; see `linli.delivery.simulation`)."""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.core.progress import Progress
from linli.delivery.simulation import (
    CITIES,
    DEMANDS,
    POLICIES,
    PROFILES,
    PROMISES,
    SHIFTS,
    SimConfig,
    SimResult,
    describe,
    results_table,
    simulate,
    tick_count,
)


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _not_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


class Command(BaseCommand):
    help = ("Simulate a city's delivery for N minutes through the dispatcher (no database) and "
            "print on-time rate, delivery times, rider utilisation and backlog.")

    def add_arguments(self, parser: CommandParser) -> None:
        window = parser.add_mutually_exclusive_group()
        window.add_argument("--minutes", type=_positive, default=None,
                            help="simulated minutes of orders (default 60)")
        window.add_argument("--hours", type=_positive, default=None,
                            help="simulated hours of orders (the day profile by default)")
        parser.add_argument("--riders", type=_count, default=200)
        parser.add_argument("--capacity", type=_count, default=3,
                            help="orders a rider carries at once (box size); at least 1")
        rate = parser.add_mutually_exclusive_group()
        rate.add_argument("--orders-per-minute", type=_not_negative, default=None,
                          help="flat profile: the rate; lunch/day profile: the peak (default riders / 12)")
        rate.add_argument("--orders", type=_count, default=None,
                          help="orders expected over the whole window, spread by the profile "
                               "(the day profile by default)")
        parser.add_argument("--profile", choices=PROFILES, default=None,
                            help="lunch (default): 40%% of the peak rate rising to the peak mid-window and "
                                 "back; day (default with --hours or --orders): from 09:00, a lunch peak "
                                 "around 12:00 and a dinner peak around 18:15; flat")
        parser.add_argument("--seed", type=int, default=0, help="same seed, same city and figures")
        parser.add_argument("--tick-seconds", type=_positive, default=15.0, help="dispatch every this often")
        parser.add_argument("--policy", choices=sorted(POLICIES), default="batch")
        parser.add_argument("--compare", action="store_true",
                            help="also run the other policy on the same orders and riders (in a "
                                 "second process alongside, when the machine has two cores or more)")
        parser.add_argument("--sequential", action="store_true",
                            help="with --compare: one policy after the other in this process")
        parser.add_argument("--city", choices=sorted(CITIES), default="medium",
                            help="small 7x7 km, medium 14x14 km, large 24x24 km")
        parser.add_argument("--demand", choices=DEMANDS, default="compounds",
                            help="where orders go: compounds (default; residential compounds and office "
                                 "towers, mostly near the store) or uniform (anywhere within 3.5 km)")
        parser.add_argument("--shifts", choices=SHIFTS, default=None,
                            help="day (default with the day profile): riders online on lunch/dinner "
                                 "shifts of 4-10 h, coming online near stores; all: online throughout")
        parser.add_argument("--promise", choices=PROMISES, default="load",
                            help="the consumer's promise: load (default; the fixed one + the wait for a "
                                 "rider the city's backlog implies when the order is placed, "
                                 "linli.delivery.promise) or fixed (ready + ride + 15 min)")
        parser.add_argument("--drain-minutes", type=_not_negative, default=60.0,
                            help="after the window, run on without new orders for up to this long")

    def handle(self, *args: Any, **options: Any) -> None:
        day = options["hours"] is not None or options["orders"] is not None
        minutes = options["hours"] * 60 if options["hours"] is not None else options["minutes"] or 60.0
        cfg = SimConfig(minutes=minutes, riders=options["riders"], orders=options["orders"],
                        orders_per_minute=options["orders_per_minute"],
                        profile=options["profile"] or ("day" if day else "lunch"),
                        seed=options["seed"], tick_s=options["tick_seconds"], policy=options["policy"],
                        city=options["city"], drain_minutes=options["drain_minutes"],
                        capacity=options["capacity"], demand=options["demand"], shifts=options["shifts"],
                        promise=options["promise"])
        policies = [cfg.policy]
        if options["compare"]:
            policies += [p for p in sorted(POLICIES) if p != cfg.policy]
        self.stdout.write(describe(cfg))
        # The other policy runs in a forked process beside this one (the simulation is pure
        # Python, no database): the two take the wall time of the slower, not the sum.
        alongside = (policies[1:] if len(policies) > 1 and not options["sequential"]
                     and (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()
                     else [])
        with contextlib.ExitStack() as stack:
            futures = []
            if alongside:
                pool = stack.enter_context(ProcessPoolExecutor(
                    max_workers=len(alongside), mp_context=multiprocessing.get_context("fork")))
                futures = [pool.submit(simulate, replace(cfg, policy=policy)) for policy in alongside]
            results = []
            for policy in policies:
                if policy in alongside:
                    continue
                results.append(self._run(replace(cfg, policy=policy), options["verbosity"]))
            for policy, future in zip(alongside, futures, strict=True):
                if options["verbosity"] > 0:
                    self.stderr.write(f"waiting for the {policy} run in its process ...")
                results.append(future.result())
        self.stdout.write(results_table(results))

    def _run(self, cfg: SimConfig, verbosity: int) -> SimResult:
        bar = Progress(tick_count(cfg), f"{cfg.policy} ticks") if verbosity > 0 else None

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.advance(done - bar.done)

        try:
            return simulate(cfg, progress=progress)
        finally:
            if bar is not None:
                bar.close()
