"""The Bayesian average of a store's scores (pure Python, no Django).

    score = (C·m + Σ stars) / (C + n)

`m` is the prior mean, `C` the prior weight in reviews. Linli uses m = 4.0 fixed and
C = 20, the same prior as discovery's ranking (`discovery/ranking.py`), so the score on
the rating endpoint is the one ranking sorts by. A fixed m rather than the platform's
live mean: every store's score would otherwise move whenever anyone anywhere reviews,
and a new store's score would depend on a global aggregate. With C = 20 a store needs
about twenty reviews before its own mean outweighs the prior: three 5-star reviews give
4.13, not 5.0. docs/reviews.md explains the choice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from linli.discovery.ranking import (  # one prior: the score shown is the one ranked
    PRIOR_MEAN,
    PRIOR_WEIGHT,
)

__all__ = ["PRIOR_MEAN", "PRIOR_WEIGHT", "Tally", "bayesian", "mean", "tally_of"]


@dataclass(frozen=True)
class Tally:
    """The running sum and count of one store's scores in one dimension."""

    stars_sum: int = 0
    count: int = 0

    def add(self, stars: int) -> Tally:
        return Tally(self.stars_sum + stars, self.count + 1)

    def remove(self, stars: int) -> Tally:
        if self.count <= 0 or self.stars_sum < stars:
            raise ValueError("removing a score that was never added")
        return Tally(self.stars_sum - stars, self.count - 1)


def tally_of(stars: Iterable[int]) -> Tally:
    """The tally of a batch of scores (what the incremental one must always equal)."""
    values = list(stars)
    return Tally(sum(values), len(values))


def bayesian(tally: Tally, *, prior_mean: float = PRIOR_MEAN, prior_weight: float = PRIOR_WEIGHT) -> float:
    """The smoothed score; exactly `prior_mean` with no scores."""
    return (prior_weight * prior_mean + tally.stars_sum) / (prior_weight + tally.count)


def mean(tally: Tally) -> float | None:
    """The plain mean the store page shows next to the count; None with no scores."""
    return tally.stars_sum / tally.count if tally.count else None
