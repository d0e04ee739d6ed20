"""Reads of reviews, ratings and favourites, each with the joins its caller shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.core.errors import PermissionDenied
from linli.merchants.models import Store
from linli.merchants.selectors import StoreNotFound, store_for_member, store_get, store_is_open
from linli.orders.models import Order

from .models import Favourite, Review, ReviewPhoto, ReviewVote, StoreRatingStats
from .rating import Tally, bayesian, mean
from .services import DIMENSIONS, is_operator, review_window_open, subject_get

SORTS = ("recent", "helpful")
SCORED = ("taste", "packaging", "delivery")
MAX_PAGE = 50


@dataclass(frozen=True)
class ReviewFilters:
    sort: str = "recent"
    with_photos: bool = False
    low: bool = False  # overall (or `dimension`) at most 2 stars
    dimension: str | None = None  # only reviews that rate this dimension
    limit: int = 20
    offset: int = 0


def _filtered(reviews: QuerySet[Review], f: ReviewFilters) -> QuerySet[Review]:
    if f.with_photos:
        reviews = reviews.filter(photo_count__gt=0)
    score = f.dimension if f.dimension in SCORED else "stars"
    if f.dimension in SCORED:
        reviews = reviews.filter(**{f"{f.dimension}__isnull": False})
    if f.low:
        reviews = reviews.filter(**{f"{score}__lte": 2})
    order = ("-helpful_count", "-created_at", "-id") if f.sort == "helpful" else ("-created_at", "-id")
    return reviews.order_by(*order)


def _shown(reviews: QuerySet[Review]) -> QuerySet[Review]:
    return reviews.select_related("author", "reply").prefetch_related(
        Prefetch("photos", queryset=ReviewPhoto.objects.order_by("sort", "id")))


def store_reviews(*, store_id: str, filters: ReviewFilters, viewer: User | None = None) -> tuple[Store, list[Review]]:
    """A store's published reviews, a page at a time; each with `voted` for the viewer."""
    store = store_get(public_id=store_id)
    limit = max(1, min(filters.limit, MAX_PAGE))
    offset = max(0, filters.offset)
    page = list(_shown(_filtered(Review.objects.filter(store=store, status=Review.Status.PUBLISHED), filters))
                [offset:offset + limit])
    voted: set[int] = set()
    if viewer is not None and viewer.is_authenticated and page:
        voted = set(ReviewVote.objects.filter(user=viewer, review__in=page).values_list("review_id", flat=True))
    for review in page:
        review.voted = review.pk in voted  # type: ignore[attr-defined]
    return store, page


@dataclass(frozen=True)
class DimensionRating:
    dimension: str
    score: float  # Bayesian (docs/reviews.md)
    average: float | None  # plain mean of published scores
    count: int


def store_rating(*, store: Store) -> list[DimensionRating]:
    """The Bayesian score, the plain mean and the count per dimension (overall first)."""
    rows = {r.dimension: r for r in StoreRatingStats.objects.filter(store=store)}
    out = []
    for dimension in DIMENSIONS:
        row = rows.get(dimension)
        tally = Tally(row.stars_sum, row.count) if row else Tally()
        average = mean(tally)
        out.append(DimensionRating(dimension=dimension, score=round(bayesian(tally), 2),
                                   average=round(average, 2) if average is not None else None, count=tally.count))
    return out


def reviews_of_user(*, user: User, limit: int = 50) -> list[Review]:
    """"My reviews": every status, newest first, with the store."""
    return list(_shown(Review.objects.filter(author=user).select_related("store")).order_by("-created_at", "-id")
                [:max(1, min(limit, 100))])


def reviews_of_store_for_merchant(*, user: User, store_id: str, filters: ReviewFilters,
                                  replied: bool | None = None) -> tuple[Store, list[Review]]:
    """The console's list: published and held reviews of a store the user works for."""
    store, _role = store_for_member(user=user, store_id=store_id)
    reviews = Review.objects.filter(store=store, status__in=(Review.Status.PUBLISHED, Review.Status.HELD))
    if replied is not None:
        reviews = reviews.filter(reply__isnull=not replied)
    limit = max(1, min(filters.limit, MAX_PAGE))
    return store, list(_shown(_filtered(reviews, filters))[filters.offset:filters.offset + limit])


@dataclass(frozen=True)
class OrderReviewState:
    """What the order page shows: the review if written, else whether one may be written."""

    review: Review | None
    can_review: bool


def order_review_state(*, user: User, order: Order) -> OrderReviewState:
    from django.utils import timezone

    from linli.core.errors import DomainError

    review = Review.objects.filter(subject_kind=Review.Subject.ORDER, subject_key=order.public_id).first()
    if review is not None or order.consumer_id != user.pk:
        return OrderReviewState(review=review, can_review=False)
    try:
        subject = subject_get(user=user, kind=Review.Subject.ORDER, key=order.public_id)
    except DomainError:
        return OrderReviewState(review=None, can_review=False)
    return OrderReviewState(review=None, can_review=review_window_open(subject, now=timezone.now()))


@dataclass(frozen=True)
class Favourites:
    stores: list[Favourite]
    products: list[Favourite]


def favourites_of(*, user: User) -> Favourites:
    """The user's favourite stores and products with their current state (open now,
    status, rating; product price and availability)."""
    rows = list(Favourite.objects.filter(user=user).select_related("store", "product").order_by("-created_at", "-id"))
    for row in rows:
        row.store_open = store_is_open(store=row.store)  # type: ignore[attr-defined]
    return Favourites(stores=[r for r in rows if r.kind == Favourite.Kind.STORE],
                      products=[r for r in rows if r.kind == Favourite.Kind.PRODUCT])


def is_favourite_store(*, user: Any, store: Store) -> bool:
    return bool(user.is_authenticated and Favourite.objects.filter(user=user, kind=Favourite.Kind.STORE,
                                                                   store=store).exists())


def author_label(user: User) -> str:
    """How a reviewer is shown publicly: the first character of their name, masked."""
    name = user.display_name or ""
    return f"{name[:1]}**" if name else str(_("Anonymous"))


__all__ = ["StoreNotFound", "ReviewFilters", "store_reviews", "store_rating", "reviews_of_user",
           "reviews_of_store_for_merchant", "order_review_state", "favourites_of", "is_favourite_store"]


def moderation_queue(*, actor: User, status: str, limit: int, offset: int) -> list[Review]:
    """The operator's queue: reviews in one moderation status, oldest first (a held review
    waits the longest at the top)."""
    if not is_operator(actor):
        raise PermissionDenied(surface="ops")
    reviews = (Review.objects.filter(status=status).select_related("store", "author", "reply")
               .prefetch_related("photos").order_by("created_at", "id"))
    return list(reviews[offset:offset + limit])
