"""Recommendations (issue 13): "guess you like" (猜你喜欢) and "people also bought", pure
(numpy/scipy, no Django) so they are trained, tested and evaluated alone.

The model is item-item collaborative filtering on implicit feedback (orders, not ratings):
- the user x item matrix holds a confidence per pair, 1 + log(number of orders), so a
  regular's tenth order does not drown everything else out;
- item similarity is cosine over those columns with a shrinkage term (`shrink`): two
  stores that share two customers are not "identical" just because both are tiny;
- each item keeps only its `neighbours` most similar items (a sparse matrix), which is
  what makes scoring a user one sparse row times a sparse matrix.
Why item-item and not ALS: with orders per user in the tens, neighbourhoods are as
accurate as factor models on data like ours, train in seconds with scipy alone (no
compiled extra dependency), and explain themselves ("because you ordered at X").

Serving blends the model's score with what it cannot know (`blend`): distance (people
order near where they are), the store's rating, its popularity, and the time of day
(the share of the store's orders in this hour), then re-ranks for diversity (`diversify`:
no category twice in a row while another is available, and a growing penalty for
repeats). New users get the district's popularity (cold start).

Offline evaluation (`evaluate`, bench/recsys.py): per-user temporal split: for each user
the last interaction with an item they had not used before is held out and everything
before it is training data; every method ranks all items the user has not used yet;
HR@10 = share of users whose held-out item is in the top 10, NDCG@10 = 1/log2(rank + 1)
averaged (0 when outside the top 10).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # scipy costs ~50 MB per process: imported where a model is trained
    from scipy import sparse

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Interaction:
    user: int  # dense index 0..n_users-1
    item: int  # dense index 0..n_items-1
    at: float  # any increasing time (epoch seconds)


def confidence_matrix(interactions: Iterable[Interaction], n_users: int, n_items: int) -> sparse.csr_matrix:
    """users x items, 1 + log(count) where a user used an item, else empty."""
    users, items = [], []
    for it in interactions:
        users.append(it.user)
        items.append(it.item)
    from scipy import sparse  # noqa: PLC0415 (see the top)
    counts = sparse.coo_matrix((np.ones(len(users), dtype=np.float32), (users, items)),
                               shape=(n_users, n_items)).tocsr()
    counts.sum_duplicates()
    counts.data = 1.0 + np.log(counts.data)
    return counts


@dataclass
class ItemItemModel:
    """Top-k cosine neighbours per item with shrinkage; `similarity[i, j]` = how much using
    i says about j."""

    similarity: sparse.csr_matrix
    popularity: np.ndarray  # users per item

    @classmethod
    def fit(cls, matrix: sparse.csr_matrix, *, neighbours: int = 50, shrink: float = 10.0) -> ItemItemModel:
        binary = matrix.copy()
        binary.data[:] = 1.0
        # Both products have the same pattern (confidences are positive): pairs of items
        # with at least one user in common; their data arrays line up once sorted.
        weighted = _off_diagonal((matrix.T @ matrix).tocsr())  # dot products of the columns
        shared = _off_diagonal((binary.T @ binary).tocsr())  # users in common
        if not (np.array_equal(weighted.indptr, shared.indptr) and np.array_equal(weighted.indices, shared.indices)):
            raise AssertionError("co-occurrence patterns differ")
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
        rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
        cosine = weighted.data / (norms[rows] * norms[weighted.indices] + 1e-9)
        cosine *= shared.data / (shared.data + shrink)  # few customers in common: trusted less
        from scipy import sparse  # noqa: PLC0415 (see the top)
        full = sparse.csr_matrix((cosine.astype(np.float32), weighted.indices, weighted.indptr),
                                 shape=weighted.shape)
        return cls(similarity=_top_k_per_row(full, neighbours),
                   popularity=np.asarray(binary.sum(axis=0)).ravel().astype(np.float32))

    def scores(self, history: sparse.csr_matrix) -> np.ndarray:
        """One score per item for each user row of `history` (users x items)."""
        return np.asarray((history @ self.similarity).todense(), dtype=np.float32)

    def neighbours_of(self, item: int, k: int = 10) -> list[tuple[int, float]]:
        row = self.similarity.getrow(item)
        order = np.argsort(-row.data)[:k]
        return [(int(row.indices[i]), float(row.data[i])) for i in order]


def _off_diagonal(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    coo = matrix.tocoo()
    keep = coo.row != coo.col
    from scipy import sparse  # noqa: PLC0415 (see the top)
    out = sparse.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=matrix.shape)
    out.sum_duplicates()
    out.sort_indices()
    return out


def _top_k_per_row(matrix: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    indptr, indices, data = [0], [], []
    for r in range(matrix.shape[0]):
        start, end = matrix.indptr[r], matrix.indptr[r + 1]
        row_data, row_idx = matrix.data[start:end], matrix.indices[start:end]
        if len(row_data) > k:
            keep = np.argpartition(-row_data, k)[:k]
            row_data, row_idx = row_data[keep], row_idx[keep]
        indices.extend(row_idx.tolist())
        data.extend(row_data.tolist())
        indptr.append(len(indices))
    from scipy import sparse  # noqa: PLC0415 (see the top)
    return sparse.csr_matrix((np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32),
                              np.asarray(indptr)), shape=matrix.shape)


# --- geography -----------------------------------------------------------------------------

def distances_m(lat: float, lng: float, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
    """Great-circle distance from one point to many (haversine), metres."""
    p1, p2 = math.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lngs) - math.radians(lng)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def distance_decay(distance_m: np.ndarray, scale_m: float = 2000.0) -> np.ndarray:
    """1 at the door, 1/e at `scale_m`: how much nearer stores are preferred."""
    return np.exp(-np.asarray(distance_m) / scale_m)


# --- serving: blend and diversify ----------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    key: str
    category: str
    cf: float  # the model's score (0 when it has none: cold start)
    distance_m: float
    rating: float  # 0..5
    popularity: float  # e.g. orders in the last 30 days
    hour_share: float = 1 / 24  # the store's share of orders in the current hour


@dataclass(frozen=True)
class Weights:
    cf: float = 1.0
    popularity: float = 0.35
    rating: float = 0.15
    distance_scale_m: float = 2000.0
    time_of_day: float = 0.5  # 0 = ignore the hour


def blend(candidates: Sequence[Candidate], weights: Weights = Weights()) -> list[tuple[Candidate, float]]:
    """Each candidate with its final score, best first. Scores are normalised per list
    (the model's by its maximum, popularity by log), multiplied by the distance decay and
    the time-of-day factor, so a great match across the city loses to a good one nearby."""
    if not candidates:
        return []
    cf = np.asarray([c.cf for c in candidates], dtype=np.float64)
    pop = np.log1p(np.asarray([c.popularity for c in candidates], dtype=np.float64))
    rating = np.asarray([c.rating for c in candidates], dtype=np.float64) / 5.0
    cf_n = cf / cf.max() if cf.max() > 0 else cf
    pop_n = pop / pop.max() if pop.max() > 0 else pop
    base = weights.cf * cf_n + weights.popularity * pop_n + weights.rating * rating
    near = distance_decay(np.asarray([c.distance_m for c in candidates]), weights.distance_scale_m)
    hour = np.asarray([c.hour_share for c in candidates], dtype=np.float64) * 24.0  # 1 = average hour
    tod = np.clip(1.0 + weights.time_of_day * (hour - 1.0), 0.5, 2.0)
    final = base * near * tod
    order = np.argsort(-final, kind="stable")
    return [(candidates[i], float(final[i])) for i in order]


def diversify(ranked: Sequence[tuple[Candidate, float]], limit: int, *, repeat_penalty: float = 0.6
              ) -> list[Candidate]:
    """Greedy re-rank: each pick is the best remaining score after a penalty of
    `repeat_penalty` per earlier pick of its category, never the previous pick's category
    while another category remains: no five hot-pot restaurants in a row."""
    remaining = list(ranked)
    picked: list[Candidate] = []
    seen: dict[str, int] = {}
    while remaining and len(picked) < limit:
        last = picked[-1].category if picked else None
        best_i, best = -1, -math.inf
        other_exists = any(c.category != last for c, _ in remaining)
        for i, (cand, score) in enumerate(remaining):
            if other_exists and cand.category == last:
                continue
            adjusted = score * (repeat_penalty ** seen.get(cand.category, 0))
            if adjusted > best:
                best_i, best = i, adjusted
        cand, _score = remaining.pop(best_i)
        picked.append(cand)
        seen[cand.category] = seen.get(cand.category, 0) + 1
    return picked


# --- offline evaluation ---------------------------------------------------------------------

@dataclass(frozen=True)
class Split:
    train: list[Interaction]
    held_out: dict[int, int]  # user -> the item to find


def temporal_split(interactions: Sequence[Interaction]) -> Split:
    """Per user: hold out the last interaction with an item new to them; train on all the
    user's interactions strictly before it (later ones are dropped: no peeking)."""
    by_user: dict[int, list[Interaction]] = {}
    for it in interactions:
        by_user.setdefault(it.user, []).append(it)
    train: list[Interaction] = []
    held: dict[int, int] = {}
    for user, rows in by_user.items():
        rows.sort(key=lambda r: r.at)
        first_seen: dict[int, int] = {}
        for i, row in enumerate(rows):
            first_seen.setdefault(row.item, i)
        candidates = [i for i in first_seen.values() if i > 0]
        if not candidates:
            train.extend(rows)
            continue
        cut = max(candidates)
        held[user] = rows[cut].item
        train.extend(rows[:cut])
    return Split(train=train, held_out=held)


@dataclass(frozen=True)
class Metrics:
    hr_at_10: float
    ndcg_at_10: float
    users: int


Scorer = Callable[[np.ndarray, "sparse.csr_matrix"], np.ndarray]  # (user ids, their history rows) -> scores


def evaluate(split: Split, n_users: int, n_items: int, scorer: Scorer, *, k: int = 10,
             batch: int = 2048) -> Metrics:
    """HR@k and NDCG@k of `scorer` over the held-out users, ranking every item the user has
    not used in training."""
    history = confidence_matrix(split.train, n_users, n_items)
    users = np.asarray(sorted(split.held_out), dtype=np.int64)
    hits, gains = 0, 0.0
    for start in range(0, len(users), batch):
        chunk = users[start:start + batch]
        rows = history[chunk]
        scores = np.array(scorer(chunk, rows), dtype=np.float64, copy=True)
        seen_r, seen_c = rows.nonzero()
        scores[seen_r, seen_c] = -np.inf
        for r, user in enumerate(chunk):
            target = split.held_out[int(user)]
            top = np.argpartition(-scores[r], k)[:k]
            top = top[np.argsort(-scores[r][top], kind="stable")]
            where = np.nonzero(top == target)[0]
            if len(where):
                hits += 1
                gains += 1.0 / math.log2(int(where[0]) + 2)
    n = max(len(users), 1)
    return Metrics(hr_at_10=hits / n, ndcg_at_10=gains / n, users=len(users))


def popularity_scorer(split: Split, n_items: int) -> Scorer:
    pop = np.bincount([it.item for it in split.train], minlength=n_items).astype(np.float64)

    def score(users: np.ndarray, rows: sparse.csr_matrix) -> np.ndarray:
        return np.tile(pop, (len(users), 1))
    return score


def user_locations(split: Split, item_lat: np.ndarray, item_lng: np.ndarray, n_users: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Where each user is, as the mean position of the items of their training history
    (the platform knows the address; a data set may know only the items)."""
    lat_sum, lng_sum, count = np.zeros(n_users), np.zeros(n_users), np.zeros(n_users)
    for it in split.train:
        lat_sum[it.user] += item_lat[it.item]
        lng_sum[it.user] += item_lng[it.item]
        count[it.user] += 1
    count[count == 0] = 1
    return lat_sum / count, lng_sum / count


def popularity_by_distance_scorer(split: Split, item_lat: np.ndarray, item_lng: np.ndarray, n_users: int,
                                  *, scale_m: float = 2000.0) -> Scorer:
    pop = np.log1p(np.bincount([it.item for it in split.train], minlength=len(item_lat)).astype(np.float64))
    u_lat, u_lng = user_locations(split, item_lat, item_lng, n_users)

    def score(users: np.ndarray, rows: sparse.csr_matrix) -> np.ndarray:
        out = np.empty((len(users), len(item_lat)))
        for r, user in enumerate(users):
            out[r] = pop * distance_decay(distances_m(u_lat[user], u_lng[user], item_lat, item_lng), scale_m)
        return out
    return score


def model_scorer(model: ItemItemModel, *, item_lat: np.ndarray | None = None, item_lng: np.ndarray | None = None,
                 split: Split | None = None, n_users: int = 0, popularity_weight: float = 0.05,
                 scale_m: float = 2000.0) -> Scorer:
    """The item-item score, blended as served: plus a little log-popularity (so users with
    a thin history still get a sensible order) and, where locations exist, times the
    distance decay."""
    pop = np.log1p(model.popularity.astype(np.float64))
    pop = pop / pop.max() if pop.max() > 0 else pop
    located = item_lat is not None and item_lng is not None and split is not None
    if located:
        u_lat, u_lng = user_locations(split, item_lat, item_lng, n_users)  # type: ignore[arg-type]

    def score(users: np.ndarray, rows: sparse.csr_matrix) -> np.ndarray:
        cf = model.scores(rows).astype(np.float64)
        peak = cf.max(axis=1, keepdims=True)
        peak[peak == 0] = 1.0
        out = cf / peak + popularity_weight * pop
        if located:
            for r, user in enumerate(users):
                out[r] *= distance_decay(distances_m(u_lat[user], u_lng[user], item_lat, item_lng),  # type: ignore[arg-type]
                                         scale_m)
        return out
    return score
