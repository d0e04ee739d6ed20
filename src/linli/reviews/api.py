"""Reviews, ratings and favourites over /api/v1 (docs/reviews.md). Parse, call one service or
selector, shape the answer.

Photos go up first, one per request (`POST /reviews/photos`, multipart, field `file`): a
phone uploads each while the buyer types and retries only the one that failed; the review
is then one small JSON body naming the photos by id (`photo_ids`)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from linli.core.auth import jwt_auth
from linli.core.ratelimit import limit
from linli.merchants.selectors import store_get

from . import selectors, services
from .errors import DimensionNotApplicable
from .models import Favourite, Review

router = Router(tags=["reviews and favourites"])


class ReviewPhotoOut(Schema):
    id: str
    url: str
    width: int
    height: int


class RiderIn(Schema):
    thumbs_up: bool | None = Field(None, description="thumb up (true) or down (false); or give stars")
    stars: int | None = Field(None, description="1-5")
    tags: list[str] = Field(default_factory=list, description=f"any of {', '.join(services.RIDER_TAGS)}")


class ReviewIn(Schema):
    stars: int = Field(description="overall, 1-5")
    taste: int | None = Field(None, description="taste / quality, 1-5")
    packaging: int | None = Field(None, description="1-5")
    delivery: int | None = Field(None, description="1-5, delivery orders only")
    text: str = Field("", description="at most 500 characters")
    photo_ids: list[str] = Field(default_factory=list, description="ids from POST /reviews/photos, at most 9")
    rider: RiderIn | None = Field(None, description="the rider of a delivery order, rated apart (never public)")


class ReplyOut(Schema):
    text: str
    created_at: str


class ReviewOut(Schema):
    id: str
    store_id: str
    order_id: str | None
    subject: str = Field("order", description="order, voucher or booking")
    subject_id: str = Field("", description="the reviewed order, voucher or booking")
    author: str
    stars: int
    taste: int | None
    packaging: int | None
    delivery: int | None
    text: str
    photos: list[ReviewPhotoOut]
    helpful_count: int
    status: str = Field(description="published, held (waiting for moderation) or hidden")
    reply: ReplyOut | None
    created_at: str


class ReviewListOut(Schema):
    items: list[ReviewOut]
    next_offset: int | None


class DimensionOut(Schema):
    dimension: str
    score: float = Field(description="Bayesian average, prior mean 4.0 weight 20 (docs/reviews.md)")
    average: float | None = Field(description="plain mean of published scores")
    count: int


class RatingOut(Schema):
    store_id: str
    rating: float = Field(description="headline: the plain mean, one decimal (as on Store)")
    rating_count: int
    dimensions: list[DimensionOut]


class HelpfulOut(Schema):
    id: str
    helpful_count: int


class ReplyIn(Schema):
    text: str


class FavouriteStoreOut(Schema):
    store_id: str
    name: str
    status: str
    is_open: bool
    rating: float
    rating_count: int
    added_at: str


class FavouriteProductOut(Schema):
    product_id: str
    name: str
    price_fen: int
    is_available: bool
    is_sold_out: bool
    store_id: str
    store_name: str
    store_status: str
    added_at: str


class FavouritesOut(Schema):
    stores: list[FavouriteStoreOut]
    products: list[FavouriteProductOut]


class FavouriteOut(Schema):
    kind: str
    id: str
    added: bool = Field(description="false when it already was a favourite")


class ReviewListQuery(Schema):
    sort: Literal["recent", "helpful"] = "recent"
    with_photos: bool = False
    low: bool = Field(False, description="only scores of 2 stars or less (overall, or `dimension`)")
    dimension: Literal["taste", "packaging", "delivery"] | None = Field(
        None, description="only reviews that rate this dimension")
    limit: int = Field(20, ge=1, le=50)
    offset: int = Field(0, ge=0, le=100_000)  # deeper is not a page anyone reads (and 2**63 is a 500)


def photo_out(photo: Any) -> dict[str, Any]:
    return {"id": photo.public_id, "url": photo.image.url, "width": photo.width, "height": photo.height}


def review_out(review: Review) -> dict[str, Any]:
    reply = getattr(review, "reply", None)
    return {
        "id": review.public_id, "store_id": review.store.public_id,
        "order_id": review.subject_key if review.subject_kind == Review.Subject.ORDER else None,
        "subject": review.subject_kind, "subject_id": review.subject_key,
        "author": selectors.author_label(review.author), "stars": review.stars, "taste": review.taste,
        "packaging": review.packaging, "delivery": review.delivery, "text": review.text,
        "photos": [photo_out(p) for p in review.photos.all()], "helpful_count": review.helpful_count,
        "status": review.status, "created_at": review.created_at.isoformat(),
        "reply": {"text": reply.text, "created_at": reply.created_at.isoformat()} if reply else None,
    }


def _filters(q: ReviewListQuery) -> selectors.ReviewFilters:
    return selectors.ReviewFilters(sort=q.sort, with_photos=q.with_photos, low=q.low, dimension=q.dimension,
                                   limit=q.limit, offset=q.offset)


@router.post("/reviews/photos", response={201: ReviewPhotoOut}, auth=jwt_auth,
             summary="Upload one review photo (multipart field `file`; JPEG, PNG or WebP, ≤ 5 MB)")
def photo_upload(request: HttpRequest, file: File[UploadedFile]) -> Status[dict[str, Any]]:
    photo = services.review_photo_upload(user=request.auth, upload=file)  # type: ignore[attr-defined]
    return Status(201, photo_out(photo))


@router.post("/orders/{order_id}/review", response={201: ReviewOut}, auth=jwt_auth,
             summary="Review my completed order (once, within the window)")
def review_submit(request: HttpRequest, order_id: str, payload: ReviewIn) -> Status[dict[str, Any]]:
    limit("review_submit", request.auth.public_id)  # type: ignore[attr-defined]  # abuse: 429 above the budget
    rider = (services.RiderInput(thumbs_up=payload.rider.thumbs_up, stars=payload.rider.stars,
                                 tags=tuple(payload.rider.tags)) if payload.rider else None)
    done = services.review_submit(
        user=request.auth, order_id=order_id,  # type: ignore[attr-defined]
        scores=services.Scores(stars=payload.stars, taste=payload.taste, packaging=payload.packaging,
                               delivery=payload.delivery),
        text=payload.text, photo_ids=payload.photo_ids, rider=rider)
    return Status(201, review_out(done.review))


@router.post("/vouchers/{voucher_id}/review", response={201: ReviewOut}, auth=jwt_auth,
             summary="Review my group-buy voucher once it has been used at the store")
def voucher_review_submit(request: HttpRequest, voucher_id: str, payload: ReviewIn) -> Status[dict[str, Any]]:
    return Status(201, review_out(_subject_review(request, Review.Subject.VOUCHER, voucher_id, payload)))


@router.post("/bookings/{booking_id}/review", response={201: ReviewOut}, auth=jwt_auth,
             summary="Review my completed appointment (once, within the window)")
def booking_review_submit(request: HttpRequest, booking_id: str, payload: ReviewIn) -> Status[dict[str, Any]]:
    return Status(201, review_out(_subject_review(request, Review.Subject.BOOKING, booking_id, payload)))


def _subject_review(request: HttpRequest, kind: str, key: str, payload: ReviewIn) -> Review:
    limit("review_submit", request.auth.public_id)  # type: ignore[attr-defined]
    if payload.rider is not None:
        raise DimensionNotApplicable(field="rider")
    return services.review_submit_subject(
        user=request.auth, kind=kind, key=key,  # type: ignore[arg-type]
        scores=services.Scores(stars=payload.stars, taste=payload.taste, packaging=payload.packaging,
                               delivery=payload.delivery),
        text=payload.text, photo_ids=payload.photo_ids).review


# --- the operator's moderation queue (the same actions as /ops/ admin) --------------------

class ModerateIn(Schema):
    action: Literal["approve", "hide", "restore"]
    reason: str = Field("", max_length=200, description="required to hide")


class ReviewQueueQuery(Schema):
    status: Literal["held", "hidden", "published"] = "held"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)  # deeper is not a page anyone reads (and 2**63 is a 500)


class QueueItemOut(ReviewOut):
    status_reason: str
    author_id: str


@router.get("/ops/reviews", response=list[QueueItemOut], auth=jwt_auth,
            summary="Operator: reviews by moderation status, oldest first (held = the queue)")
def moderation_queue(request: HttpRequest, q: Query[ReviewQueueQuery]) -> list[dict[str, Any]]:
    page = selectors.moderation_queue(actor=request.auth, status=q.status,  # type: ignore[arg-type]
                                      limit=q.limit, offset=q.offset)
    return [{**review_out(r), "status_reason": r.status_reason, "author_id": r.author.public_id}
            for r in page]


@router.post("/ops/reviews/{review_id}/moderate", response=ReviewOut, auth=jwt_auth,
             summary="Operator: approve a held review, hide one (reason required), or restore it")
def moderate(request: HttpRequest, review_id: str, payload: ModerateIn) -> dict[str, Any]:
    review = services.review_moderate(actor=request.auth, review_id=review_id,  # type: ignore[arg-type]
                                      action=payload.action, reason=payload.reason)
    return review_out(review)


@router.get("/stores/{store_id}/reviews", response=ReviewListOut, summary="A store's published reviews")
def store_reviews(request: HttpRequest, store_id: str, q: Query[ReviewListQuery]) -> dict[str, Any]:
    _store, page = selectors.store_reviews(store_id=store_id, filters=_filters(q))
    return {"items": [review_out(r) for r in page],
            "next_offset": q.offset + len(page) if len(page) == q.limit else None}


@router.get("/stores/{store_id}/rating", response=RatingOut, summary="A store's rating per dimension")
def store_rating(request: HttpRequest, store_id: str) -> dict[str, Any]:
    store = store_get(public_id=store_id)
    return {"store_id": store.public_id, "rating": float(store.rating), "rating_count": store.rating_count,
            "dimensions": [d.__dict__ for d in selectors.store_rating(store=store)]}


@router.post("/reviews/{review_id}/helpful", response=HelpfulOut, auth=jwt_auth,
             summary="Mark a review helpful (once per user; not my own)")
def helpful_add(request: HttpRequest, review_id: str) -> dict[str, Any]:
    review = services.review_vote(user=request.auth, review_id=review_id)  # type: ignore[attr-defined]
    return {"id": review.public_id, "helpful_count": review.helpful_count}


@router.delete("/reviews/{review_id}/helpful", response=HelpfulOut, auth=jwt_auth,
               summary="Take my helpful vote back")
def helpful_remove(request: HttpRequest, review_id: str) -> dict[str, Any]:
    review = services.review_unvote(user=request.auth, review_id=review_id)  # type: ignore[attr-defined]
    return {"id": review.public_id, "helpful_count": review.helpful_count}


@router.post("/reviews/{review_id}/reply", response={201: ReplyOut}, auth=jwt_auth,
             summary="The store's one reply (owner or manager of the review's store)")
def reply(request: HttpRequest, review_id: str, payload: ReplyIn) -> Status[dict[str, Any]]:
    done = services.review_reply(actor=request.auth, review_id=review_id, text=payload.text)  # type: ignore[attr-defined]
    return Status(201, {"text": done.text, "created_at": done.created_at.isoformat()})


@router.get("/me/reviews", response=ReviewListOut, auth=jwt_auth, summary="My reviews, every status")
def my_reviews(request: HttpRequest) -> dict[str, Any]:
    return {"items": [review_out(r) for r in selectors.reviews_of_user(user=request.auth)],  # type: ignore[attr-defined]
            "next_offset": None}


def _favourite(request: HttpRequest, kind: str, target_id: str) -> dict[str, Any]:
    added = services.favourite_add(user=request.auth, kind=kind, target_id=target_id)  # type: ignore[attr-defined]
    return {"kind": kind, "id": target_id, "added": added}


@router.put("/me/favourites/stores/{store_id}", response=FavouriteOut, auth=jwt_auth,
            summary="Add a store to my favourites (idempotent)")
def favourite_store_put(request: HttpRequest, store_id: str) -> dict[str, Any]:
    return _favourite(request, Favourite.Kind.STORE, store_id)


@router.delete("/me/favourites/stores/{store_id}", response={204: None}, auth=jwt_auth,
               summary="Remove a store from my favourites (idempotent)")
def favourite_store_delete(request: HttpRequest, store_id: str) -> Status[None]:
    services.favourite_remove(user=request.auth, kind=Favourite.Kind.STORE, target_id=store_id)  # type: ignore[attr-defined]
    return Status(204, None)


@router.put("/me/favourites/products/{product_id}", response=FavouriteOut, auth=jwt_auth,
            summary="Add a product to my favourites (idempotent)")
def favourite_product_put(request: HttpRequest, product_id: str) -> dict[str, Any]:
    return _favourite(request, Favourite.Kind.PRODUCT, product_id)


@router.delete("/me/favourites/products/{product_id}", response={204: None}, auth=jwt_auth,
               summary="Remove a product from my favourites (idempotent)")
def favourite_product_delete(request: HttpRequest, product_id: str) -> Status[None]:
    services.favourite_remove(user=request.auth, kind=Favourite.Kind.PRODUCT, target_id=product_id)  # type: ignore[attr-defined]
    return Status(204, None)


@router.get("/me/favourites", response=FavouritesOut, auth=jwt_auth,
            summary="My favourite stores and products, with their current state")
def my_favourites(request: HttpRequest) -> dict[str, Any]:
    mine = selectors.favourites_of(user=request.auth)  # type: ignore[attr-defined]
    return {
        "stores": [{"store_id": f.store.public_id, "name": f.store.name, "status": f.store.status,
                    "is_open": f.store_open, "rating": float(f.store.rating),  # type: ignore[attr-defined]
                    "rating_count": f.store.rating_count, "added_at": f.created_at.isoformat()}
                   for f in mine.stores],
        "products": [{"product_id": f.product.public_id, "name": f.product.name,  # type: ignore[union-attr]
                      "price_fen": f.product.price_fen, "is_available": f.product.is_available,  # type: ignore[union-attr]
                      "is_sold_out": f.product.is_sold_out, "store_id": f.store.public_id,  # type: ignore[union-attr]
                      "store_name": f.store.name, "store_status": f.store.status,
                      "added_at": f.created_at.isoformat()} for f in mine.products],
    }
