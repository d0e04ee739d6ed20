"""The pure lottery draw: never a prize out of stock or over the budget, deterministic for
a seeded source, frequencies as announced, and any draw replayable from its roll."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.marketing.lottery_draw import (
    PrizeOption,
    draw,
    pick,
    probabilities,
    total_weight,
    weight_problems,
)


# Named functions, not lambdas: Hypothesis describes a filtered strategy while drawing, and
# describing a lambda means parsing its source, which once failed inside `ast` under CI's
# load (SystemError, then "inconsistent data generation"). A named function is its name.
def _prize_ref(u) -> str:
    return f"prz_{u.hex[:8]}"


def _ref_of(p: PrizeOption) -> str:
    return p.ref


def _has_weight(pool: list[PrizeOption]) -> bool:
    return total_weight(pool) > 0


prize = st.builds(PrizeOption, ref=st.uuids().map(_prize_ref),
                  weight=st.integers(0, 1000), stock=st.none() | st.integers(0, 5), cost_fen=st.integers(0, 2000))
pools = st.lists(prize, min_size=1, max_size=8, unique_by=_ref_of).filter(_has_weight)


@settings(max_examples=200, deadline=None)
@given(pool=pools, budget=st.integers(0, 5000), seed=st.integers(0, 2**32), draws=st.integers(1, 60))
def test_draws_never_exceed_stock_or_budget(pool, budget, seed, draws):
    """Many draws against a pool, taking stock and budget as the service does: never below 0."""
    rng = random.Random(seed)
    stock = {p.ref: p.stock for p in pool}
    left = budget
    for _ in range(draws):
        options = [PrizeOption(p.ref, p.weight, stock[p.ref], p.cost_fen) for p in pool]
        outcome = draw(options, budget_left_fen=left, rng=rng)
        if outcome.ref is None:
            continue
        won = next(p for p in options if p.ref == outcome.ref)
        assert won.stock is None or won.stock > 0
        assert won.cost_fen <= left
        left -= won.cost_fen
        if won.stock is not None:
            stock[won.ref] = won.stock - 1
    assert left >= 0 and all(s is None or s >= 0 for s in stock.values())


@given(pool=pools, budget=st.integers(0, 5000), seed=st.integers(0, 2**32))
def test_the_same_seed_gives_the_same_draw_and_the_roll_replays_it(pool, budget, seed):
    first = draw(pool, budget_left_fen=budget, rng=random.Random(seed))
    assert draw(pool, budget_left_fen=budget, rng=random.Random(seed)) == first
    assert pick(pool, budget_left_fen=budget, roll=first.roll) == first.ref


def test_frequencies_match_the_announced_chances():
    pool = [PrizeOption("a", 10, None, 0), PrizeOption("b", 30, None, 0), PrizeOption("none", 60, None, 0)]
    rng = random.Random(7)
    n = 20000
    seen = Counter(draw(pool, budget_left_fen=0, rng=rng).ref for _ in range(n))
    for ref, chance in probabilities(pool, budget_left_fen=0).items():
        assert abs(seen[ref] / n - chance) < 0.015, (ref, seen[ref] / n, chance)


def test_a_prize_out_of_stock_or_over_budget_turns_its_slot_into_no_prize():
    pool = [PrizeOption("big", 50, 0, 100), PrizeOption("dear", 25, None, 900), PrizeOption("small", 25, 3, 100)]
    chances = probabilities(pool, budget_left_fen=500)
    assert chances == {None: 0.75, "small": 0.25}  # the others keep their announced chances
    assert pick(pool, budget_left_fen=500, roll=0) is None  # the out-of-stock slot
    assert pick(pool, budget_left_fen=500, roll=99) == "small"


@pytest.mark.parametrize(("pool", "problem"), [
    ([], "weights_empty"),
    ([PrizeOption("a", 0, None, 0)], "weights_empty"),
    ([PrizeOption("a", -1, None, 0), PrizeOption("b", 5, None, 0)], "weight_negative"),
    ([PrizeOption("a", 1, None, -5)], "cost_negative"),
    ([PrizeOption("a", 1, -1, 0)], "stock_negative"),
])
def test_bad_pools_are_named(pool, problem):
    assert problem in weight_problems(pool)
    if problem == "weights_empty":
        with pytest.raises(ValueError):
            draw(pool, budget_left_fen=0, rng=random.Random(1))
