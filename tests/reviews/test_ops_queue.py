"""The back office's moderation queue: held reviews, approve, hide with a reason."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from linli.accounts.models import User
from linli.reviews import services
from linli.reviews.models import Review
from tests.fixtures import make_product, make_store

from .helpers import consumer, order_done

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops():
    user = User.objects.create_user("ops-wang", "long-enough-password", is_staff=True, platform_role="operator")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="reviews",
                                                        codename__regex=r"^(view|change)_"))
    client = Client()
    client.force_login(user)
    return client


def held_review(text="加微信返现，五星好评"):
    store = make_store()
    buyer = consumer()
    order = order_done(store, make_product(store), buyer)
    done = services.review_submit(user=buyer, order_id=order.public_id, scores=services.Scores(stars=5), text=text)
    assert done.held
    return done.review


def test_queue_lists_held_reviews_only(ops):
    held = held_review()
    html = ops.get("/ops/reviews/heldreview/").content.decode()
    assert held.public_id in html and "sensitive_word" in html


def test_hide_with_reason_from_the_queue(ops):
    held = held_review()
    url = "/ops/reviews/heldreview/"
    answer = ops.post(url, {"action": "hide", "_selected_action": [held.pk], "reason": "广告引流"})
    assert answer.status_code == 302
    held.refresh_from_db()
    assert (held.status, held.status_reason) == ("hidden", "广告引流")
    event = held.events.last()
    assert (event.action, event.actor.username, event.reason) == ("hide", "ops-wang", "广告引流")


def test_hide_without_reason_changes_nothing_and_approve_publishes(ops):
    held = held_review()
    ops.post("/ops/reviews/heldreview/", {"action": "hide", "_selected_action": [held.pk], "reason": ""})
    held.refresh_from_db()
    assert held.status == "held"
    ops.post("/ops/reviews/heldreview/", {"action": "approve", "_selected_action": [held.pk]})
    held.refresh_from_db()
    assert held.status == Review.Status.PUBLISHED
    held.store.refresh_from_db()
    assert held.store.rating_count == 1
    assert ops.get(f"/ops/reviews/review/{held.pk}/change/").status_code == 200
