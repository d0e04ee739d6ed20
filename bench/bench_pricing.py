"""Pricing engine throughput (pure Python, no database)."""

from __future__ import annotations

import random
import time

from _setup import ROOT  # noqa: F401  (puts src on the path for an uninstalled checkout)

from linli.orders.pricing import CartLine, FeeRules, price_cart


def main() -> None:
    rnd = random.Random(7)
    carts = [
        [CartLine(f"prd_{i}", "菜", rnd.randint(100, 9900), rnd.randint(1, 5)) for i in range(rnd.randint(1, 12))]
        for _ in range(50_000)
    ]
    rules = FeeRules(packaging_fee_fen=100, delivery_fee_fen=500, min_order_fen=2000)
    started = time.perf_counter()
    totals = 0
    for cart in carts:
        try:
            totals += price_cart(cart, rules, delivery=True).total_fen
        except ValueError:
            pass
    elapsed = time.perf_counter() - started
    print(f"pricing: {len(carts):,} carts in {elapsed:.2f} s = {len(carts) / elapsed:,.0f} carts/s "
          f"({elapsed / len(carts) * 1e6:.1f} µs per cart)")


if __name__ == "__main__":
    main()
