"""The Bayesian average (pure): bounded, monotone, the prior with no reviews, and the
incremental tally always equal to the batch one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.reviews.rating import PRIOR_MEAN, Tally, bayesian, mean, tally_of

stars = st.integers(min_value=1, max_value=5)


def test_no_reviews_is_the_prior():
    assert bayesian(Tally()) == PRIOR_MEAN
    assert mean(Tally()) is None


def test_three_fives_rank_below_many_high_scores():
    assert bayesian(tally_of([5, 5, 5])) == pytest.approx(4.130, abs=1e-3)
    assert bayesian(tally_of([5] * 90 + [4] * 10)) > bayesian(tally_of([5, 5, 5]))


@given(st.lists(stars, max_size=300))
def test_within_one_to_five(scores):
    assert 1.0 <= bayesian(tally_of(scores)) <= 5.0


@given(st.lists(stars, min_size=1, max_size=100), st.integers(min_value=0, max_value=99))
def test_monotone_in_stars(scores, index):
    i = index % len(scores)
    if scores[i] == 5:
        return
    better = [*scores]
    better[i] += 1
    assert bayesian(tally_of(better)) > bayesian(tally_of(scores))


@given(st.lists(st.tuples(st.booleans(), stars), max_size=200))
def test_incremental_equals_batch(steps):
    """Adding and removing scores one at a time ends where counting the survivors does."""
    tally = Tally()
    kept: list[int] = []
    for remove, value in steps:
        if remove and kept:
            gone = kept.pop(0)
            tally = tally.remove(gone)
        else:
            kept.append(value)
            tally = tally.add(value)
    assert tally == tally_of(kept)
    assert bayesian(tally) == bayesian(tally_of(kept))


def test_removing_what_was_never_added_is_refused():
    with pytest.raises(ValueError):
        Tally().remove(3)
