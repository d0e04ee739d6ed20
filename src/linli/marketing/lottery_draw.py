"""The lottery's draw (抽奖), pure: no Django, no I/O.

A pool is prizes with integer weights; the chance of prize i is `weight_i / total` where
`total` is the sum of every prize's weight (the "nothing" prizes, e.g. 谢谢参与, are prizes
with weight and no cost). A prize that is out of stock, or whose cost the remaining budget
cannot cover, is out of the draw: its slot of the wheel becomes "no prize" (`None`). So the
chance of every prize still in the draw stays what was announced, and nothing that cannot
be paid for is ever drawn.

The roll is an integer in [0, total), taken from a random source the caller owns; the same
pool and roll always give the same outcome (`pick`), which is how a draw is audited: the
draw row stores the pool as it was, the seed and the roll.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

MAX_TOTAL_WEIGHT = 1_000_000_000


@dataclass(frozen=True)
class PrizeOption:
    ref: str
    weight: int
    stock: int | None  # what is left; None = unlimited (a "nothing" prize, points without a cap)
    cost_fen: int  # what one award takes from the budget


@dataclass(frozen=True)
class Outcome:
    ref: str | None  # the prize drawn; None = no prize (the roll fell on a prize that is out)
    roll: int
    total: int


def weight_problems(options: Sequence[PrizeOption]) -> list[str]:
    """Why a pool cannot be drawn: `weight_negative`, `cost_negative`, `stock_negative`,
    `weights_empty` (every weight 0, or no prizes), `weights_too_large`."""
    problems = []
    if any(o.weight < 0 for o in options):
        problems.append("weight_negative")
    if any(o.cost_fen < 0 for o in options):
        problems.append("cost_negative")
    if any(o.stock is not None and o.stock < 0 for o in options):
        problems.append("stock_negative")
    total = sum(max(o.weight, 0) for o in options)
    if total <= 0:
        problems.append("weights_empty")
    elif total > MAX_TOTAL_WEIGHT:
        problems.append("weights_too_large")
    return problems


def in_draw(option: PrizeOption, budget_left_fen: int) -> bool:
    """A prize can be drawn: it has weight, stock left, and the budget covers its cost."""
    return (option.weight > 0 and (option.stock is None or option.stock > 0)
            and option.cost_fen <= budget_left_fen)


def total_weight(options: Sequence[PrizeOption]) -> int:
    return sum(o.weight for o in options if o.weight > 0)


def pick(options: Sequence[PrizeOption], *, budget_left_fen: int, roll: int) -> str | None:
    """The prize whose slot `roll` falls in (slots in the order given), or None when that
    prize is out of the draw."""
    if not 0 <= roll < max(total_weight(options), 1):
        raise ValueError(f"roll {roll} outside the wheel")
    upto = 0
    for option in options:
        if option.weight <= 0:
            continue
        upto += option.weight
        if roll < upto:
            return option.ref if in_draw(option, budget_left_fen) else None
    return None


def draw(options: Sequence[PrizeOption], *, budget_left_fen: int, rng: random.Random) -> Outcome:
    """One draw with the caller's random source (deterministic for a seeded one)."""
    problems = weight_problems(options)
    if problems:
        raise ValueError(problems[0])
    total = total_weight(options)
    roll = rng.randrange(total)
    return Outcome(pick(options, budget_left_fen=budget_left_fen, roll=roll), roll, total)


def probabilities(options: Sequence[PrizeOption], *, budget_left_fen: int) -> dict[str | None, float]:
    """The chance of each outcome now (None: no prize), for the page and the tests."""
    total = total_weight(options)
    chances: dict[str | None, float] = {None: 0.0}
    for option in options:
        if option.weight <= 0 or not total:
            continue
        key = option.ref if in_draw(option, budget_left_fen) else None
        chances[key] = chances.get(key, 0.0) + option.weight / total
    return chances
