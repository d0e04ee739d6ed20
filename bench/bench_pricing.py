"""Pricing engine throughput (pure Python, no database)."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

from _setup import ROOT  # noqa: F401  (puts src on the path for an uninstalled checkout)

from linli.orders.pricing import (
    AMOUNT_OFF_ITEMS,
    PERCENT_OFF_ITEMS,
    CartLine,
    DiscountRule,
    FeeRules,
    price_cart,
)


def main() -> None:
    rnd = random.Random(7)
    carts = [
        [CartLine(f"prd_{i}", "菜", rnd.randint(100, 9900), rnd.randint(1, 5)) for i in range(rnd.randint(1, 12))]
        for _ in range(50_000)
    ]
    rules = FeeRules(packaging_fee_fen=100, min_order_fen=2000, night_surcharge_fen=300,
                     delivery_fee_tiers=((1000, 300), (3000, 500), (5000, 800)))
    discounts = [DiscountRule("prm_1", "85折", PERCENT_OFF_ITEMS, percent_off=15, cap_fen=1000),
                 DiscountRule("prm_2", "满30减5", AMOUNT_OFF_ITEMS, amount_fen=500, threshold_fen=3000)]
    at = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai: the surcharge applies
    started = time.perf_counter()
    totals = 0
    for cart in carts:
        try:
            totals += price_cart(cart, rules, delivery=True, at=at, distance_m=rnd.randint(0, 5000),
                                 discounts=discounts).total_fen
        except ValueError:
            pass
    elapsed = time.perf_counter() - started
    print(f"pricing: {len(carts):,} carts in {elapsed:.2f} s = {len(carts) / elapsed:,.0f} carts/s "
          f"({elapsed / len(carts) * 1e6:.1f} µs per cart)")


if __name__ == "__main__":
    main()
