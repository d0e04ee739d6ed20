"""Reviews of what a consumer bought, their photos, the merchant's reply, helpful votes,
the moderation history, the rider's separate rating, the per-store rating sums, and
favourites (docs/reviews.md).

A review is about a *subject*: today a completed order; vouchers and bookings plug in
as further `Subject` kinds (`subject_kind` + `subject_key`, the subject's public id, is
unique: one review per subject). `store` is on every row (the distribution key).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.fields import PublicIdField
from linli.delivery.models import Rider
from linli.merchants.models import Product, Store
from linli.orders.models import Order


class Review(models.Model):
    class Subject(models.TextChoices):
        ORDER = "order"
        VOUCHER = "voucher"  # a group-buy voucher used at the store (marketing)
        BOOKING = "booking"  # a finished appointment or reservation (bookings registers it)

    class Status(models.TextChoices):
        PUBLISHED = "published"
        HELD = "held"  # waiting for an operator (moderation rules matched)
        HIDDEN = "hidden"  # removed by an operator, with a reason

    public_id = PublicIdField(prefix="rev")
    subject_kind = models.CharField(max_length=16, choices=Subject.choices)
    subject_key = models.CharField(max_length=40)  # the subject's public id (ord_, vch_, bkg_...)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    stars = models.PositiveSmallIntegerField()  # overall, 1..5
    taste = models.PositiveSmallIntegerField(null=True, blank=True)  # taste / quality
    packaging = models.PositiveSmallIntegerField(null=True, blank=True)
    delivery = models.PositiveSmallIntegerField(null=True, blank=True)  # delivery orders only
    text = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PUBLISHED)
    status_reason = models.CharField(max_length=200, blank=True)  # why held / hidden
    photo_count = models.PositiveSmallIntegerField(default=0)
    helpful_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "reviews_review"
        constraints = [
            models.UniqueConstraint(fields=["subject_kind", "subject_key"], name="review_once_per_subject"),
            models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="review_stars_1_5"),
        ]
        indexes = [
            models.Index(fields=["store", "status", "-created_at"], name="review_store_recent"),
            models.Index(fields=["store", "status", "-helpful_count"], name="review_store_helpful"),
            models.Index(fields=["author", "-created_at"], name="review_author_recent"),
            models.Index(fields=["status", "created_at"], name="review_status_queue"),
        ]

    def __str__(self) -> str:
        return self.public_id


class HeldReview(Review):
    """The operator's moderation queue (admin): reviews waiting for a decision."""

    class Meta:
        proxy = True
        verbose_name = _("held review")
        verbose_name_plural = _("moderation queue")


class ReviewPhoto(models.Model):
    """A photo, uploaded first (`review` empty, owned by `uploader`) and attached when the
    review is submitted. The bytes were decoded as an image before they were stored."""

    public_id = PublicIdField(prefix="rph")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="reviews/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    sort = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "reviews_photo"
        ordering = ["sort", "id"]


class ReviewReply(models.Model):
    """The merchant's one public answer."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="reply")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "reviews_reply"


class ReviewVote(models.Model):
    """"Helpful": one per user per review."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "reviews_vote"
        constraints = [models.UniqueConstraint(fields=["review", "user"], name="review_vote_once")]


class ReviewEvent(models.Model):
    """Every status change and reply: who (user and role), when, from what to what, why."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)  # submit, approve, hide, restore, reply
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_role = models.CharField(max_length=16)  # consumer, merchant, operator, system
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "reviews_event"
        ordering = ["id"]


class RiderRating(models.Model):
    """The consumer's rating of the rider of a delivery order: kept for the rider (their
    record and the operator's view), never shown on the store."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="rider_rating")
    rider = models.ForeignKey(Rider, on_delete=models.PROTECT, related_name="ratings")
    thumbs_up = models.BooleanField(null=True, blank=True)
    stars = models.PositiveSmallIntegerField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "reviews_rider_rating"
        indexes = [models.Index(fields=["rider", "created_at"], name="rider_rating_recent")]


class StoreRatingStats(models.Model):
    """Sum and count of the published scores of one store in one dimension, moved with F()
    in the transaction that publishes or hides a review (never recomputed by a scan)."""

    class Dimension(models.TextChoices):
        OVERALL = "overall"
        TASTE = "taste"
        PACKAGING = "packaging"
        DELIVERY = "delivery"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="rating_stats")
    dimension = models.CharField(max_length=16, choices=Dimension.choices)
    stars_sum = models.PositiveIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "reviews_store_stats"
        constraints = [models.UniqueConstraint(fields=["store", "dimension"], name="store_stats_once")]


class Favourite(models.Model):
    class Kind(models.TextChoices):
        STORE = "store"
        PRODUCT = "product"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")  # the product's store too
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "reviews_favourite"
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], condition=Q(kind="store"), name="favourite_store_once"),
            models.UniqueConstraint(fields=["user", "product"], condition=Q(kind="product"),
                                    name="favourite_product_once"),
        ]
        indexes = [models.Index(fields=["user", "kind", "-created_at"], name="favourite_user_recent")]
