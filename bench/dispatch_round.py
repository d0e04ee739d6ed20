"""One batch dispatch tick: 2,000 open orders, 1,000 riders (60 % already carrying one or
two orders), a synthetic 14 x 14 km city. Target (issue 7): <= 1 s. Pure, no database.

    .venv/bin/python bench/dispatch_round.py [--orders 2000] [--riders 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from linli.delivery.dispatch import dispatch_batch, dispatch_greedy  # noqa: E402
from linli.delivery.simcity import random_instance  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--riders", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    times, cpu, result = [], [], None
    for k in range(args.repeat):
        orders, riders = random_instance(orders=args.orders, riders=args.riders, seed=args.seed + k)
        started, cpu_started = time.perf_counter(), time.process_time()
        result = dispatch_batch(orders, riders, now=0.0)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    assert result is not None
    greedy = dispatch_greedy(orders, riders, now=0.0)
    n = len(result.assignments)
    print(f"dispatch tick: {args.orders} orders x {args.riders} riders, {args.repeat} instances")
    print(f"  time: median {statistics.median(times):.3f} s  min {min(times):.3f} s  max {max(times):.3f} s"
          f"  (target <= 1 s)")
    print(f"  CPU time: median {statistics.median(cpu):.3f} s (the wall time on a shared machine is more)")
    print(f"  last instance: {n} assigned, {len(result.unassigned)} left "
          f"({dict(Counter(result.unassigned.values()))}), rounds {result.stats['rounds']:.0f}, "
          f"insertions {result.stats['insertions']:.0f}, riders looked at {result.stats.get('riders_built', args.riders):.0f}")
    print(f"  mean added cost per assigned order: batch {result.total_added_s / max(1, n):.0f} s, "
          f"greedy nearest rider {greedy.total_added_s / max(1, len(greedy.assignments)):.0f} s "
          f"({len(greedy.assignments)} assigned, late on "
          f"{sum(a.late_s > 0 for a in greedy.assignments)}; batch late on "
          f"{sum(a.late_s > 0 for a in result.assignments)})")


if __name__ == "__main__":
    main()
