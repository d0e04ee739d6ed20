"""The ledger invariant under any sequence of stock operations (hypothesis stateful):
after every step, for every product, `sum(delta) == StockItem.quantity`,
`sum(reserved_delta) == StockItem.reserved == units in held reservations`, no count is
negative, and units on the shelf equal what was stocked minus what was sold for good.
Runs on SQLite and on PostgreSQL alike (whichever DATABASE_URL names)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from linli.inventory.models import StockItem, StockReservation
from linli.inventory.selectors import stock_ledger_audit
from linli.inventory.services import (
    StockInsufficient,
    stock_commit,
    stock_daily_reset,
    stock_daily_set,
    stock_release,
    stock_reserve,
    stock_restock,
    stock_set,
)
from tests.fixtures import make_product, make_store

pytestmark = pytest.mark.django_db

_refs = itertools.count()


class StockLedger(RuleBasedStateMachine):
    """A model of three products side by side with the real services."""

    @initialize()
    def setup(self) -> None:
        self.store = make_store(name=f"账本{next(_refs)}")
        self.products = [make_product(self.store, name=f"菜{i}", stock=start)
                         for i, start in enumerate((5, 0, 20))]
        self.available = {p.pk: q for p, q in zip(self.products, (5, 0, 20), strict=True)}
        self.held: dict[str, dict[int, int]] = {}  # reference -> product -> units
        self.sold: dict[str, dict[int, int]] = {}
        self.clock = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)

    @rule(data=st.data(), size=st.integers(1, 3))
    def reserve(self, data: st.DataObject, size: int) -> None:
        picks = data.draw(st.lists(st.tuples(st.sampled_from(range(3)), st.integers(1, 6)),
                                   min_size=1, max_size=size))
        lines = [(self.products[i], q) for i, q in picks]
        wanted: dict[int, int] = {}
        for product, q in lines:
            wanted[product.pk] = wanted.get(product.pk, 0) + q
        reference = f"ord_h{next(_refs)}"
        fits = all(self.available[pid] >= q for pid, q in wanted.items())
        try:
            stock_reserve(store_id=self.store.pk, lines=lines, reference=reference, actor=None)
        except StockInsufficient:
            assert not fits
            return
        assert fits
        for pid, q in wanted.items():
            self.available[pid] -= q
        self.held[reference] = wanted

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def commit(self, data: st.DataObject) -> None:
        reference = data.draw(st.sampled_from(sorted(self.held)))
        assert stock_commit(reference=reference) == len(self.held[reference])
        self.sold[reference] = self.held.pop(reference)

    @precondition(lambda self: self.held or self.sold)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        reference = data.draw(st.sampled_from(sorted(self.held) + sorted(self.sold)))
        units = self.held.pop(reference, None) or self.sold.pop(reference)
        assert stock_release(reference=reference) == len(units)
        for pid, q in units.items():
            self.available[pid] += q
        assert stock_release(reference=reference) == 0  # a second cancellation: nothing

    @rule(i=st.integers(0, 2), quantity=st.integers(0, 30))
    def stocktake(self, i: int, quantity: int) -> None:
        stock_set(product=self.products[i], quantity=quantity)
        self.available[self.products[i].pk] = quantity

    @rule(i=st.integers(0, 2), quantity=st.integers(1, 10))
    def restock(self, i: int, quantity: int) -> None:
        stock_restock(product=self.products[i], quantity=quantity)
        self.available[self.products[i].pk] += quantity

    @rule(i=st.integers(0, 2), daily=st.integers(0, 15))
    def daily_count(self, i: int, daily: int) -> None:
        product = self.products[i]
        stock_daily_set(product=product, daily_quantity=daily, now=self.clock)
        self.available[product.pk] = max(0, daily - self._held_of(product.pk))

    @rule()
    def next_day(self) -> None:
        self.clock += timedelta(days=1)
        stock_daily_reset(now=self.clock)
        for item in StockItem.objects.filter(product__in=self.products, daily_quantity__isnull=False):
            self.available[item.product_id] = max(0, item.daily_quantity - self._held_of(item.product_id))

    def _held_of(self, pid: int) -> int:
        return sum(units.get(pid, 0) for units in self.held.values())

    @invariant()
    def ledger_matches_the_counts(self) -> None:
        if not hasattr(self, "products"):
            return
        audits = stock_ledger_audit([p.pk for p in self.products])
        for p in self.products:
            audit = audits[p.pk]
            assert audit.balanced, audit
            assert audit.quantity == self.available[p.pk] >= 0
            assert audit.reserved == self._held_of(p.pk)
        assert StockReservation.objects.filter(
            product__in=self.products, status="held").count() == sum(len(u) for u in self.held.values())


def test_the_ledger_always_sums_to_the_cached_counts():
    run_state_machine_as_test(StockLedger, settings=settings(
        max_examples=20, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)))
