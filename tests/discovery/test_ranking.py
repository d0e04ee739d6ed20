"""The smart ranking score and its explanation (pure module)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.discovery.ranking import bayes_rating, explain, smart_scores


def _score(d=500.0, r=4.5, n=100, s=100, o=True) -> float:
    return float(smart_scores(np.array([d]), np.array([r]), np.array([n]), np.array([s]), np.array([o]))[0])


def test_many_reviews_beat_a_few_perfect_ones():
    assert bayes_rating(np.array([5.0]), np.array([3]))[0] < bayes_rating(np.array([4.7]), np.array([2000]))[0]
    assert _score(r=5.0, n=3) < _score(r=4.7, n=2000)


def test_each_component_moves_the_score_the_right_way():
    assert _score(d=200) > _score(d=2000)
    assert _score(s=2000) > _score(s=10)
    assert _score(o=True) > _score(o=False)
    assert _score(r=4.8) > _score(r=3.9)


@given(d=st.floats(0, 20_000), r=st.floats(0, 5), n=st.integers(0, 100_000), s=st.integers(0, 10**6),
       o=st.booleans())
def test_score_is_bounded_and_explained_exactly(d, r, n, s, o):
    score = _score(d, r, n, s, o)
    assert 0.0 <= score <= 1.0 + 1e-12
    why = explain(distance_m=d, rating=r, rating_count=n, sales_30d=s, is_open=o)
    assert why.score == pytest.approx(score, abs=1e-12)
    parts = sum(w * c for w, c in zip(why.weights, (why.proximity, why.quality, why.popularity, why.open_now), strict=True))
    assert parts == pytest.approx(why.score, abs=1e-12)
