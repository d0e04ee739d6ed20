"""Suspicious reviews are held with their reason; the operator approves, hides (with a
reason, audited) or restores, and the store's rating follows."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from linli.accounts.models import User
from linli.reviews import services
from linli.reviews.models import Review, ReviewEvent, StoreRatingStats
from linli.reviews.rating import tally_of
from tests.fixtures import make_product, make_store, token_api

from .helpers import consumer, order_done

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store()
    return store, make_product(store)


@pytest.fixture
def operator():
    return User.objects.create_user("ops-li", "long-enough-password", is_staff=True, platform_role="operator")


def submit(shop, text="", stars=5, buyer=None, **scores):
    store, product = shop
    buyer = buyer or consumer()
    order = order_done(store, product, buyer)
    return services.review_submit(user=buyer, order_id=order.public_id,
                                  scores=services.Scores(stars=stars, **scores), text=text)


def test_sensitive_word_holds_the_review_and_it_does_not_count(shop):
    store, _ = shop
    done = submit(shop, text="好吃！加 ＶＸ 领返现")
    assert done.held and done.review.status == Review.Status.HELD
    assert done.review.status_reason == "sensitive_word"
    store.refresh_from_db()
    assert store.rating_count == 0
    listed = token_api(consumer()).get(f"/stores/{store.public_id}/reviews").json()["items"]
    assert listed == []


def test_configured_word_list_is_used(shop, settings):
    settings.LINLI_REVIEW_SENSITIVE_WORDS = ["隔壁老李"]
    assert submit(shop, text="不如隔壁 老李 家").held
    assert not submit(shop, text="加微信").held


def test_same_text_by_the_same_user_is_held(shop):
    buyer = consumer()
    text = "这家店的菜很好吃，分量足，下次还来"
    assert not submit(shop, text=text, buyer=buyer).held
    second = submit(shop, text=text + "！", buyer=buyer)
    assert second.held and "repeated_text" in second.review.status_reason


def test_same_text_across_users_is_held(shop):
    text = "五星好评，老板人超好，大家快来买呀"
    assert not submit(shop, text=text).held
    assert submit(shop, text=text).held


def test_burst_of_reviews_from_new_accounts_is_held(shop, settings):
    settings.LINLI_REVIEW_BURST_PER_HOUR = 2
    newcomer = lambda: consumer(joined=timezone.now() - timedelta(days=1))  # noqa: E731
    assert not submit(shop, buyer=newcomer()).held
    assert not submit(shop, buyer=newcomer()).held
    third = submit(shop, buyer=newcomer())
    assert third.held and third.review.status_reason == "new_account_burst"
    # an established account is not caught by the burst rule
    assert not submit(shop, buyer=consumer(joined=timezone.now() - timedelta(days=300))).held


def test_operator_approves_a_held_review_and_it_counts(shop, operator):
    store, _ = shop
    review = submit(shop, text="加微信有惊喜", stars=3).review
    services.review_moderate(actor=operator, review_id=review.public_id, action="approve")
    store.refresh_from_db()
    assert (store.rating, store.rating_count) == (3, 1)
    event = ReviewEvent.objects.filter(review=review).last()
    assert (event.action, event.from_status, event.to_status, event.actor) == ("approve", "held", "published", operator)


def test_hiding_needs_a_reason_and_subtracts(shop, operator):
    store, _ = shop
    keep = submit(shop, stars=5).review
    gone = submit(shop, stars=1).review
    store.refresh_from_db()
    assert (store.rating, store.rating_count) == (3, 2)
    with pytest.raises(services.errors.ReasonRequired):
        services.review_moderate(actor=operator, review_id=gone.public_id, action="hide")
    services.review_moderate(actor=operator, review_id=gone.public_id, action="hide", reason="辱骂商家")
    store.refresh_from_db()
    assert (store.rating, store.rating_count) == (5, 1)
    gone.refresh_from_db()
    assert (gone.status, gone.status_reason) == ("hidden", "辱骂商家")
    event = gone.events.last()
    assert (event.actor, event.reason, event.actor_role) == (operator, "辱骂商家", "operator")
    assert keep.status == "published"


def test_only_operators_moderate_and_only_legal_steps(shop, operator):
    review = submit(shop).review
    with pytest.raises(services.PermissionDenied):
        services.review_moderate(actor=consumer(), review_id=review.public_id, action="hide", reason="x")
    with pytest.raises(services.IllegalTransition):
        services.review_moderate(actor=operator, review_id=review.public_id, action="approve")


def test_incremental_sums_equal_a_recount_after_random_publish_and_hide(shop, operator):
    """A seeded random walk of submit / hide / restore / approve: the sums kept with F()
    always equal the sums recomputed from the published reviews."""
    store, _ = shop
    rng = random.Random(20261125)
    reviews: list[Review] = []
    for _step in range(40):
        move = rng.random()
        if move < 0.45 or not reviews:
            scores = {"taste": rng.choice([None, 1, 2, 3, 4, 5]), "packaging": rng.choice([None, 3, 5])}
            text = "加微信" if rng.random() < 0.2 else ""
            reviews.append(submit(shop, text=text, stars=rng.randint(1, 5), **scores).review)
        else:
            review = rng.choice(reviews)
            review.refresh_from_db()
            action = {"published": "hide", "held": rng.choice(["approve", "hide"]), "hidden": "restore"}[review.status]
            services.review_moderate(actor=operator, review_id=review.public_id, action=action, reason="抽查")
    published = Review.objects.filter(store=store, status="published")
    stats = {s.dimension: (s.stars_sum, s.count) for s in StoreRatingStats.objects.filter(store=store)}
    for dimension, column in (("overall", "stars"), ("taste", "taste"), ("packaging", "packaging")):
        batch = tally_of(v for v in published.values_list(column, flat=True) if v is not None)
        assert stats.get(dimension, (0, 0)) == (batch.stars_sum, batch.count), dimension
    store.refresh_from_db()
    assert store.rating_count == published.count()
