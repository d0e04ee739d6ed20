"""Settlement at scale.

1. Pure: BENCH_ORDERS (1,000,000) synthetic orders over BENCH_MERCHANTS (10,000) merchants
   (random goods, delivery, discounts by funder, refunds of one in twenty) are split
   (`finance.commission.split_sale` / `split_refund`) and settled for one day
   (`finance.netting.settle_all`, T+1, 5 % reserve); it checks that every split balances
   and that per merchant payout + reserve + waiting = the sum of nets.
2. Database: BENCH_DB_MERCHANTS (300) merchants with BENCH_DB_ENTRIES (30,000) entries
   bulk-inserted (their money posted to the merchants' payables in one ledger
   transaction), then the real `settlement_run` (a batch, a ledger posting and a sandbox
   payout per merchant), checked with `ledger_verify`.
Prints time and peak memory of each (target for part 1: under 5 minutes, under 1 GB).
"""

from __future__ import annotations

import os
import random
import resource
import sys
import time
from datetime import date, timedelta

from _setup import ROOT, setup_django  # noqa: F401  (puts src on the path via the project root)

sys.path.insert(0, str(ROOT / "src"))

from linli.finance import commission, netting  # noqa: E402

ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
MERCHANTS = int(os.environ.get("BENCH_MERCHANTS", "10000"))
DB_MERCHANTS = int(os.environ.get("BENCH_DB_MERCHANTS", "300"))
DB_ENTRIES = int(os.environ.get("BENCH_DB_ENTRIES", "30000"))
DAY = date(2026, 11, 25)


def _orders(rng: random.Random, nets: dict[int, int], checks: list[bool]):  # type: ignore[no-untyped-def]
    """Yield (merchant, due_on, net) for each synthetic order and refund, streamed so a
    million orders never sit in memory at once; `nets` and `checks` collect the truth."""
    balanced = True
    for _ in range(ORDERS):
        merchant = rng.randrange(MERCHANTS)
        goods = rng.randrange(500, 30_000)
        delivery = rng.choice((0, 300, 500))
        platform = rng.randrange(0, goods // 10 + 1) if rng.random() < 0.3 else 0
        merchant_off = rng.randrange(0, goods // 5 + 1) if rng.random() < 0.4 else 0
        sale = commission.Sale(goods, delivery, platform, merchant_off, goods + delivery - platform - merchant_off,
                               True, 800, 100, 60)
        split = commission.split_sale(sale)
        balanced = balanced and split.balanced()
        day = DAY - timedelta(days=rng.randrange(0, 3))
        nets[merchant] = nets.get(merchant, 0) + split.net_fen
        yield merchant, netting.due_on(day, 1), split.net_fen
        if rng.random() < 0.05:  # a partial refund, taken back at once
            back = commission.split_refund(split, refunded_before_fen=0, refund_fen=rng.randrange(1, split.paid_fen + 1))
            balanced = balanced and back.balanced()
            nets[merchant] -= back.net_fen
            yield merchant, DAY, -back.net_fen
    checks.append(balanced)


def pure() -> bool:
    rng = random.Random(12)
    started = time.perf_counter()
    nets: dict[int, int] = {}
    checks: list[bool] = []
    batches, waiting = netting.settle_all(_orders(rng, nets, checks), day=DAY, reserve_bp=500)
    ok = all(checks) and bool(checks)
    for merchant, total in nets.items():
        batch = batches.get(merchant)
        settled = batch.total_fen if batch else 0
        ok = ok and settled + waiting.get(merchant, 0) == total and (batch is None or batch.balanced())
    done = time.perf_counter()
    print(f"pure: {ORDERS:,} orders, {MERCHANTS:,} merchants split and settled in {done - started:.1f} s "
          f"(CPU {time.process_time():.1f} s); {len(batches):,} batches, "
          f"payout ¥{sum(b.payout_fen for b in batches.values()) / 100:,.2f}; "
          f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
          f"checks {'ok' if ok else 'FAILED'}", flush=True)
    return ok


def database() -> bool:
    vendor = setup_django()
    from django.db import transaction
    from django.utils import timezone

    from linli.finance import postings, services
    from linli.finance.models import FinanceEntry, Payout
    from linli.merchants.models import Merchant
    from linli.payments import ledger
    from linli.payments.ledger import CLEARING, credit, debit

    rng = random.Random(7)
    started = time.perf_counter()
    merchants = Merchant.objects.bulk_create([Merchant(name=f"商户{i}") for i in range(DB_MERCHANTS)])
    merchants = list(Merchant.objects.order_by("pk"))
    now = timezone.now()
    rows, totals = [], {m.pk: 0 for m in merchants}
    for i in range(DB_ENTRIES):
        m = merchants[i % len(merchants)]
        net = rng.randrange(100, 20_000) if rng.random() > 0.05 else -rng.randrange(100, 2_000)
        totals[m.pk] += net
        day = DAY - timedelta(days=rng.randrange(1, 3))
        rows.append(FinanceEntry(key=f"bench:{i}", merchant=m, kind="sale", channel="delivery", ref=f"ord_b{i}",
                                 paid_fen=net, net_fen=net, occurred_at=now, day=day, due_on=day + timedelta(days=1)))
    with transaction.atomic():
        FinanceEntry.objects.bulk_create(rows, batch_size=2000)
        ledger.post(key="bench:seed", kind="bench", entries=[debit(CLEARING, sum(totals.values()))] + [
            credit(postings.payable(m), totals[m.pk]) for m in merchants])
    seeded = time.perf_counter()
    run = services.settlement_run(day=DAY)
    done = time.perf_counter()
    paid = Payout.objects.filter(status="paid").count()
    ok = ledger.ledger_verify() == [] and run.batches == paid == sum(1 for t in totals.values() if t > 0)
    print(f"database ({vendor}): {DB_ENTRIES:,} entries, {DB_MERCHANTS:,} merchants: seeded in {seeded - started:.1f} s; "
          f"settlement_run {done - seeded:.1f} s ({run.batches:,} batches, {paid:,} payouts paid, "
          f"{(done - seeded) / max(run.batches, 1) * 1000:.1f} ms per merchant); max RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; checks {'ok' if ok else 'FAILED'}")
    return ok


if __name__ == "__main__":
    good = pure()
    good = database() and good
    sys.exit(0 if good else 1)
