"""Review use cases: upload a photo, submit a review (with the rider's rating), moderate it,
reply, vote helpful, and favourites (docs/reviews.md).

Each is one transaction. The per-store rating sums move with F() in the same transaction
as the status change that adds or removes a review's scores (`_stats_move`), and the
store's headline rating is written through `merchants.services.store_rating_set`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from linli.accounts.models import User
from linli.accounts.models import is_platform_staff as is_operator  # the one definition
from linli.core.errors import IllegalTransition, PermissionDenied
from linli.core.statemachine import StateMachine, T
from linli.merchants import roles
from linli.merchants.catalog import CatalogProductNotFound
from linli.merchants.models import Product, Store
from linli.merchants.selectors import StoreNotFound, merchant_role_for_store, role_require
from linli.merchants.services import store_rating_set
from linli.merchants.uploads import image_check
from linli.orders.models import Order

from . import errors, moderation
from .models import (
    Favourite,
    Review,
    ReviewEvent,
    ReviewPhoto,
    ReviewReply,
    ReviewVote,
    RiderRating,
    StoreRatingStats,
)
from .rating import Tally, mean

MAX_PHOTOS = 9
MAX_TEXT = 500
RIDER_TAGS = ("on_time", "friendly", "careful", "fast", "late", "rude", "spilled", "no_call")
DIMENSIONS = ("overall", "taste", "packaging", "delivery")  # also the fixed lock order of the stats rows

S = Review.Status
MODERATION = StateMachine([
    T(S.HELD, S.PUBLISHED, "approve", "operator"),
    T(S.HELD, S.HIDDEN, "hide", "operator"),
    T(S.PUBLISHED, S.HIDDEN, "hide", "operator"),
    T(S.HIDDEN, S.PUBLISHED, "restore", "operator"),
])


# --- the reviewable subject ----------------------------------------------------------------

@dataclass(frozen=True)
class Subject:
    """What is reviewed, whatever its kind: who bought it, at which store, when it was
    finished (the window counts from then), whether it was delivered and by whom."""

    kind: str
    key: str
    store: Store
    buyer_id: int
    finished_at: datetime | None
    delivered: bool
    rider_id: int | None
    order: Order | None = None


def _order_subject(*, user: User, key: str) -> Subject:
    order = (Order.objects.select_related("store", "delivery").filter(public_id=key, consumer=user).first()
             if "\x00" not in key else None)
    if order is None:
        raise errors.ReviewSubjectNotFound(order_id=key)
    if order.status != Order.Status.COMPLETED:
        raise errors.SubjectNotFinished(order_id=key, status=order.status)
    task = getattr(order, "delivery", None)
    delivered = order.fulfilment == Order.Fulfilment.DELIVERY
    return Subject(kind=Review.Subject.ORDER, key=order.public_id, store=order.store, buyer_id=order.consumer_id,
                   finished_at=order.completed_at or order.updated_at, delivered=delivered,
                   rider_id=task.rider_id if (delivered and task is not None) else None, order=order)


def _voucher_subject(*, user: User, key: str) -> Subject:
    """A group-buy voucher of mine, reviewable from its first use at the store (核销), at the
    store that redeemed it; the window counts from that use."""
    from linli.marketing.voucher_models import Voucher

    voucher = (Voucher.objects.filter(public_id=key, owner=user).first() if "\x00" not in key else None)
    if voucher is None:
        raise errors.ReviewSubjectNotFound(voucher_id=key)
    first_use = voucher.redemptions.select_related("store").order_by("redeemed_at").first()
    if first_use is None:
        raise errors.VoucherNotUsed(voucher_id=key, status=voucher.status)
    return Subject(kind=Review.Subject.VOUCHER, key=voucher.public_id, store=first_use.store,
                   buyer_id=voucher.owner_id, finished_at=first_use.redeemed_at, delivered=False,
                   rider_id=None)


# Each kind's resolver: (user, key) -> Subject, raising the errors above. Bookings registers
# its own from its AppConfig.ready (reviews never imports it).
SUBJECT_KINDS: dict[str, Callable[..., Subject]] = {Review.Subject.ORDER: _order_subject,
                                                    Review.Subject.VOUCHER: _voucher_subject}


def subject_get(*, user: User, kind: str, key: str) -> Subject:
    resolver = SUBJECT_KINDS.get(kind)
    if resolver is None:
        raise errors.ReviewSubjectNotFound(kind=kind)
    return resolver(user=user, key=key)


def review_window_open(subject: Subject, *, now: datetime) -> bool:
    finished = subject.finished_at or now
    return now <= finished + timedelta(days=settings.LINLI_REVIEW_WINDOW_DAYS)


# --- photos -----------------------------------------------------------------------------------

def review_photo_upload(*, user: User, upload: UploadedFile) -> ReviewPhoto:
    """Store one photo for a review the user is writing. The bytes must decode as a JPEG,
    PNG or WebP image (merchants' upload check); the client's file name is not kept."""
    checked = image_check(upload=upload)
    photo = ReviewPhoto(uploader=user, width=checked.width, height=checked.height)
    photo.image.save(checked.storage_name("rph"), checked.file(), save=False)
    photo.save()
    return photo


def review_photos_sweep(*, now: datetime | None = None) -> int:
    """Delete photos uploaded for a review that was never submitted (the buyer gave up), once
    they are older than LINLI_REVIEW_PHOTO_ORPHAN_HOURS: the rows and the stored files. A
    photo is attached inside the review's transaction, so one being attached right now is
    either still unattached and young, or attached and skipped by the conditional delete."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.LINLI_REVIEW_PHOTO_ORPHAN_HOURS)
    removed = 0
    for photo in ReviewPhoto.objects.filter(review__isnull=True, created_at__lt=cutoff).order_by("id")[:1000]:
        deleted, _kinds = ReviewPhoto.objects.filter(pk=photo.pk, review__isnull=True).delete()
        if deleted:
            photo.image.delete(save=False)
            removed += 1
    return removed


# --- submit -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scores:
    stars: int
    taste: int | None = None
    packaging: int | None = None
    delivery: int | None = None


@dataclass(frozen=True)
class RiderInput:
    thumbs_up: bool | None = None
    stars: int | None = None
    tags: Sequence[str] = field(default_factory=tuple)


def _star_check(value: object, name: str, *, required: bool) -> None:
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise errors.InvalidStars(field=name, value=value)


def _scores_check(scores: Scores, subject: Subject) -> None:
    _star_check(scores.stars, "stars", required=True)
    for name in ("taste", "packaging", "delivery"):
        _star_check(getattr(scores, name), name, required=False)
    if scores.delivery is not None and not subject.delivered:
        raise errors.DimensionNotApplicable(field="delivery")


def _rider_check(rider: RiderInput, subject: Subject) -> None:
    if subject.rider_id is None:
        raise errors.NoRiderToRate()
    if rider.thumbs_up is None and rider.stars is None:
        raise errors.InvalidRiderRating(field="rider")
    if rider.stars is not None:
        _star_check(rider.stars, "rider.stars", required=True)
    unknown = [t for t in rider.tags if t not in RIDER_TAGS]
    if unknown or len(set(rider.tags)) != len(rider.tags):
        raise errors.InvalidRiderRating(field="rider.tags", known=list(RIDER_TAGS))


def _photos_take(*, user: User, photo_ids: Sequence[str]) -> list[ReviewPhoto]:
    if len(photo_ids) > MAX_PHOTOS:
        raise errors.TooManyPhotos(count=len(photo_ids), max=MAX_PHOTOS)
    if len(set(photo_ids)) != len(photo_ids):
        raise errors.UnknownPhoto(reason="duplicate")
    photos = {p.public_id: p for p in ReviewPhoto.objects.select_for_update().filter(
        public_id__in=list(photo_ids), uploader=user, review__isnull=True)}
    missing = [pid for pid in photo_ids if pid not in photos]
    if missing:
        raise errors.UnknownPhoto(photo_ids=missing)
    return [photos[pid] for pid in photo_ids]


def _rules() -> moderation.Rules:
    return moderation.Rules(words=tuple(settings.LINLI_REVIEW_SENSITIVE_WORDS),
                            new_account_days=settings.LINLI_REVIEW_NEW_ACCOUNT_DAYS,
                            burst_limit=settings.LINLI_REVIEW_BURST_PER_HOUR)


def _verdict(*, user: User, store: Store, text: str, now: datetime) -> moderation.Verdict:
    """The moderation rules on what the database knows: the author's last 20 texts, others'
    texts of the last 24 h (at most 200), and new accounts' reviews of the store this hour."""
    rules = _rules()
    long_enough = text and len(moderation.normalise(text)) >= moderation.MIN_REPEAT_LENGTH
    own = list(Review.objects.filter(author=user).exclude(text="").order_by("-id")
               .values_list("text", flat=True)[:20]) if long_enough else []
    others = list(Review.objects.filter(created_at__gte=now - timedelta(hours=24)).exclude(author=user)
                  .exclude(text="").order_by("-id").values_list("text", flat=True)[:200]) if long_enough else []
    new_since = now - timedelta(days=rules.new_account_days)
    burst = Review.objects.filter(store=store, created_at__gte=now - timedelta(hours=1),
                                  author__date_joined__gte=new_since).count()
    age_days = (now - user.date_joined).total_seconds() / 86400
    return moderation.review_verdict(moderation.Submission(
        text=text, own_recent_texts=own, others_recent_texts=others, account_age_days=age_days,
        new_account_reviews_last_hour=burst), rules)


@dataclass(frozen=True)
class Submitted:
    review: Review
    held: bool


def review_submit(*, user: User, order_id: str, scores: Scores, text: str = "",
                  photo_ids: Sequence[str] = (), rider: RiderInput | None = None,
                  now: datetime | None = None) -> Submitted:
    """The buyer's one review of a completed order within the window. Suspicious reviews
    (moderation rules) are held for an operator instead of published; only published
    reviews count in the store's rating."""
    return _submit(user=user, kind=Review.Subject.ORDER, key=order_id, scores=scores, text=text,
                   photo_ids=photo_ids, rider=rider, now=now)


def review_submit_subject(*, user: User, kind: str, key: str, scores: Scores, text: str = "",
                          photo_ids: Sequence[str] = (), now: datetime | None = None) -> Submitted:
    """A review of a used voucher or a finished booking: the same rules as an order's,
    without the delivery score or the rider."""
    return _submit(user=user, kind=kind, key=key, scores=scores, text=text, photo_ids=photo_ids,
                   rider=None, now=now)


def _submit(*, user: User, kind: str, key: str, scores: Scores, text: str, photo_ids: Sequence[str],
            rider: RiderInput | None, now: datetime | None) -> Submitted:
    now = now or timezone.now()
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise errors.InvalidReviewText(field="text", max_length=MAX_TEXT)
    subject = subject_get(user=user, kind=kind, key=key)
    _scores_check(scores, subject)
    if rider is not None:
        _rider_check(rider, subject)
    if not review_window_open(subject, now=now):
        raise errors.ReviewWindowClosed(days=settings.LINLI_REVIEW_WINDOW_DAYS)
    if Review.objects.filter(subject_kind=subject.kind, subject_key=subject.key).exists():
        raise errors.AlreadyReviewed(order_id=subject.key)
    with transaction.atomic():
        photos = _photos_take(user=user, photo_ids=photo_ids)
        verdict = _verdict(user=user, store=subject.store, text=text, now=now)
        status = S.HELD if verdict.hold else S.PUBLISHED
        try:
            with transaction.atomic():  # the unique subject decides between simultaneous submissions
                review = Review.objects.create(
                    subject_kind=subject.kind, subject_key=subject.key, order=subject.order, store=subject.store,
                    author=user, stars=scores.stars, taste=scores.taste, packaging=scores.packaging,
                    delivery=scores.delivery, text=text, status=status,
                    status_reason=",".join(verdict.reasons), photo_count=len(photos))
        except IntegrityError:
            raise errors.AlreadyReviewed(order_id=subject.key) from None
        for sort, photo in enumerate(photos):
            photo.review, photo.sort = review, sort
            photo.save(update_fields=["review", "sort"])
        if rider is not None and subject.rider_id is not None:
            RiderRating.objects.create(review=review, rider_id=subject.rider_id, thumbs_up=rider.thumbs_up,
                                       stars=rider.stars, tags=list(rider.tags))
        ReviewEvent.objects.create(review=review, action="submit", to_status=status, actor=user,
                                   actor_role="consumer", reason=review.status_reason)
        if status == S.PUBLISHED:
            _stats_move(review, +1)
    return Submitted(review=review, held=verdict.hold)


# --- the store's rating sums ---------------------------------------------------------------------

def _scores_of(review: Review) -> dict[str, int]:
    values = {"overall": review.stars, "taste": review.taste, "packaging": review.packaging,
              "delivery": review.delivery}
    return {d: v for d, v in values.items() if v is not None}


def _stats_move(review: Review, sign: int) -> None:
    """Add (+1) or subtract (-1) the review's scores to its store's sums, in the caller's
    transaction, rows in a fixed order; then write the store's headline rating."""
    scores = _scores_of(review)
    StoreRatingStats.objects.bulk_create(
        [StoreRatingStats(store_id=review.store_id, dimension=d) for d in DIMENSIONS if d in scores],
        ignore_conflicts=True)
    for dimension in DIMENSIONS:
        if dimension in scores:
            StoreRatingStats.objects.filter(store_id=review.store_id, dimension=dimension).update(
                stars_sum=F("stars_sum") + sign * scores[dimension], count=F("count") + sign,
                updated_at=timezone.now())
    overall = StoreRatingStats.objects.get(store_id=review.store_id, dimension="overall")
    average = mean(Tally(overall.stars_sum, overall.count))
    headline = Decimal(str(average)).quantize(Decimal("0.1"), ROUND_HALF_UP) if average is not None else Decimal("0")
    store_rating_set(review.store_id, headline, overall.count)


# --- moderation (operator) -----------------------------------------------------------------------

def review_moderate(*, actor: User, review_id: str, action: str, reason: str = "") -> Review:
    """approve (held → published), hide (published/held → hidden, with a reason), restore
    (hidden → published). Counted scores follow: hiding a published review subtracts."""
    if not is_operator(actor):
        raise PermissionDenied(surface="ops")
    reason = (reason or "").strip()[:200]
    if action == "hide" and not reason:
        raise errors.ReasonRequired(field="reason")
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(public_id=review_id).first()
        if review is None:
            raise errors.ReviewNotFound(review_id=review_id)
        step = MODERATION.find(action=action, source=review.status)
        if step is None:
            raise IllegalTransition(action=action, status=review.status)
        before = review.status
        review.status = step.target
        review.status_reason = reason if step.target == S.HIDDEN else ""
        review.save(update_fields=["status", "status_reason", "updated_at"])
        ReviewEvent.objects.create(review=review, action=action, from_status=before, to_status=review.status,
                                   actor=actor, actor_role="operator", reason=reason)
        counted_before, counted_after = before == S.PUBLISHED, review.status == S.PUBLISHED
        if counted_before != counted_after:
            _stats_move(review, +1 if counted_after else -1)
    return review


# --- merchant reply ------------------------------------------------------------------------------

def review_reply(*, actor: User, review_id: str, text: str) -> ReviewReply:
    """The store's one public answer, by its owner or a manager (`store.edit`)."""
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise errors.InvalidReviewText(field="text", max_length=MAX_TEXT)
    with transaction.atomic():
        review = (Review.objects.select_for_update().select_related("store")
                  .filter(public_id=review_id, status__in=(S.PUBLISHED, S.HELD)).first()
                  if "\x00" not in review_id else None)
        if review is None:
            raise errors.ReviewNotFound(review_id=review_id)
        try:
            role = merchant_role_for_store(user=actor, store=review.store)
        except PermissionDenied:
            raise errors.ReviewNotFound(review_id=review_id) from None
        role_require(role=role, permission=roles.STORE_EDIT)
        if ReviewReply.objects.filter(review=review).exists():
            raise errors.AlreadyReplied(review_id=review_id)
        reply = ReviewReply.objects.create(review=review, author=actor, text=text)
        ReviewEvent.objects.create(review=review, action="reply", from_status=review.status,
                                   to_status=review.status, actor=actor, actor_role="merchant")
    return reply


# --- helpful votes -------------------------------------------------------------------------------

def _published(review_id: str) -> Review:
    review = (Review.objects.filter(public_id=review_id, status=S.PUBLISHED).first()
              if "\x00" not in review_id else None)
    if review is None:
        raise errors.ReviewNotFound(review_id=review_id)
    return review


def review_vote(*, user: User, review_id: str) -> Review:
    """Mark helpful; a second vote by the same user changes nothing."""
    review = _published(review_id)
    if review.author_id == user.pk:
        raise errors.OwnReviewVote()
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReviewVote.objects.create(review=review, user=user)
        except IntegrityError:
            pass
        else:
            Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") + 1)
    review.refresh_from_db(fields=["helpful_count"])
    return review


def review_unvote(*, user: User, review_id: str) -> Review:
    review = _published(review_id)
    with transaction.atomic():
        removed, _ = ReviewVote.objects.filter(review=review, user=user).delete()
        if removed:
            Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") - 1)
    review.refresh_from_db(fields=["helpful_count"])
    return review


# --- favourites ----------------------------------------------------------------------------------

def _favourite_target(kind: str, target_id: str) -> tuple[Store, Product | None]:
    if "\x00" in target_id:
        target_id = ""
    if kind == Favourite.Kind.STORE:
        store = Store.objects.filter(public_id=target_id).exclude(status=Store.Status.CLOSED).first()
        if store is None:
            raise StoreNotFound(store_id=target_id)
        return store, None
    product = Product.objects.select_related("store").filter(public_id=target_id).first()
    if product is None:
        raise CatalogProductNotFound(product_id=target_id)
    return product.store, product


def favourite_add(*, user: User, kind: str, target_id: str) -> bool:
    """Idempotent: True when it was added now, False when it was already there."""
    store, product = _favourite_target(kind, target_id)
    try:
        with transaction.atomic():
            Favourite.objects.create(user=user, kind=kind, store=store, product=product)
    except IntegrityError:
        return False
    return True


def favourite_remove(*, user: User, kind: str, target_id: str) -> bool:
    """Idempotent: True when something was removed."""
    lookup = {"store__public_id": target_id} if kind == Favourite.Kind.STORE else {"product__public_id": target_id}
    removed, _ = Favourite.objects.filter(user=user, kind=kind, **lookup).delete()
    return bool(removed)
