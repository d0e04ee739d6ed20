"""The pure recommender (discovery/recommend.py): the model, the split, the metrics, the
serving blend and the diversity re-rank."""

from __future__ import annotations

from operator import attrgetter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.discovery.recommend import (
    Candidate,
    Interaction,
    ItemItemModel,
    Split,
    blend,
    confidence_matrix,
    diversify,
    evaluate,
    popularity_scorer,
    temporal_split,
)


def _toy() -> list[Interaction]:
    """Items 0-1 are bought together, 2-3 are bought together, 4 is popular with everyone."""
    rows, t = [], 0.0
    for user in range(40):
        pair = (0, 1) if user % 2 == 0 else (2, 3)
        for item in (*pair, 4):
            t += 1
            rows.append(Interaction(user=user, item=item, at=t))
    return rows


def test_item_item_finds_what_is_bought_together():
    matrix = confidence_matrix(_toy(), 40, 5)
    model = ItemItemModel.fit(matrix, neighbours=3, shrink=1.0)
    assert model.neighbours_of(0, 1)[0][0] == 1
    assert model.neighbours_of(3, 1)[0][0] == 2
    assert model.similarity[0, 0] == 0  # never one's own neighbour
    assert list(model.popularity) == [20, 20, 20, 20, 40]
    history = confidence_matrix([Interaction(0, 0, 1.0)], 1, 5)
    scores = model.scores(history)[0]
    assert scores[1] > scores[2] and scores[1] > scores[3]


def test_shrinkage_trusts_pairs_with_more_customers_in_common():
    rows = [Interaction(u, i, float(u)) for u in range(2) for i in (0, 1)]  # 2 users share 0-1
    rows += [Interaction(u, i, float(u)) for u in range(2, 22) for i in (2, 3)]  # 20 users share 2-3
    model = ItemItemModel.fit(confidence_matrix(rows, 22, 4), shrink=10.0)
    assert model.similarity[2, 3] > model.similarity[0, 1] > 0


@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 14), st.floats(0, 1e6)), min_size=1, max_size=200))
@settings(max_examples=60, deadline=None)
def test_the_split_holds_out_a_new_item_and_trains_only_on_the_past(rows):
    interactions = [Interaction(u, i, t) for u, i, t in rows]
    split = temporal_split(interactions)
    for user, item in split.held_out.items():
        mine = [r for r in split.train if r.user == user]
        assert item not in {r.item for r in mine}  # the held-out item is new to the user
        held_at = max(r.at for r in interactions if r.user == user and r.item == item
                      and all(o.at <= r.at for o in mine))
        assert all(r.at <= held_at for r in mine)
    assert len(split.train) + len(split.held_out) <= len(interactions)


def test_metrics_of_a_perfect_and_of_a_useless_scorer():
    split = Split(train=[Interaction(0, 0, 1.0), Interaction(1, 1, 1.0)], held_out={0: 5, 1: 7})

    def perfect(users, rows):
        out = np.zeros((len(users), 20))
        for r, u in enumerate(users):
            out[r, split.held_out[int(u)]] = 1.0
        return out

    def worst(users, rows):
        out = np.ones((len(users), 20))
        for r, u in enumerate(users):
            out[r, split.held_out[int(u)]] = -1.0
        return out

    best = evaluate(split, 2, 20, perfect)
    assert (best.hr_at_10, best.ndcg_at_10, best.users) == (1.0, 1.0, 2)
    assert evaluate(split, 2, 20, worst).hr_at_10 == 0.0
    assert 0 <= evaluate(split, 2, 20, popularity_scorer(split, 20)).hr_at_10 <= 1


candidates = st.lists(st.builds(
    Candidate, key=st.uuids().map(str), category=st.sampled_from(["hotpot", "noodles", "coffee", "bbq"]),
    cf=st.floats(0, 10), distance_m=st.floats(0, 8000), rating=st.floats(0, 5), popularity=st.floats(0, 5000),
    hour_share=st.floats(0, 1)), min_size=0, max_size=40, unique_by=attrgetter("key"))


@given(candidates)
@settings(max_examples=80, deadline=None)
def test_blend_keeps_every_candidate_best_first(cands):
    ranked = blend(cands)
    assert sorted(c.key for c, _ in ranked) == sorted(c.key for c in cands)
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(s >= 0 for s in scores)


@given(candidates, st.integers(1, 20))
@settings(max_examples=80, deadline=None)
def test_diversify_never_repeats_a_category_in_a_row_while_another_is_left(cands, limit):
    picked = diversify(blend(cands), limit)
    assert len(picked) == min(limit, len(cands))
    assert len({c.key for c in picked}) == len(picked)
    for i in range(1, len(picked)):
        if picked[i].category == picked[i - 1].category:
            rest = {c.category for c in cands} - {c.key for c in picked[:i]}
            left = [c for c in cands if c.key not in {p.key for p in picked[:i]}]
            assert all(c.category == picked[i - 1].category for c in left), rest


def test_nearer_wins_between_equal_matches_and_the_hour_counts():
    near = Candidate("a", "noodles", cf=1.0, distance_m=300, rating=4.5, popularity=100)
    far = Candidate("b", "noodles", cf=1.0, distance_m=6000, rating=4.5, popularity=100)
    assert [c.key for c, _ in blend([far, near])] == ["a", "b"]
    breakfast = Candidate("c", "breakfast", cf=1.0, distance_m=500, rating=4.5, popularity=100, hour_share=0.2)
    late = Candidate("d", "bbq", cf=1.0, distance_m=500, rating=4.5, popularity=100, hour_share=0.0)
    assert [c.key for c, _ in blend([late, breakfast])] == ["c", "d"]
