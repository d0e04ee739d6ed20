"""Reviews of used group-buy vouchers, the operator's moderation API (/ops/reviews), and
the sweep of photos uploaded for reviews never submitted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from linli.accounts.models import User
from linli.reviews import services
from linli.reviews.models import Review, ReviewEvent, ReviewPhoto
from tests.fixtures import Api, make_product, make_store, next_phone, token_api
from tests.marketing.test_vouchers import bought, make_deal, owner_api, redeem

from .helpers import consumer, order_done, png_upload
from .test_ops_queue import held_review

pytestmark = pytest.mark.django_db


def _buyer() -> Api:
    phone = next_phone()
    return token_api(User.objects.create_user(username=phone, phone=phone))


def _operator() -> Api:
    return token_api(User.objects.create_user(f"ops-{next_phone()}", platform_role="operator"))


# --- vouchers -------------------------------------------------------------------------------

def test_a_used_voucher_is_reviewed_once_at_the_store_that_redeemed_it():
    store = make_store()
    api = _buyer()
    voucher = bought(api, make_deal(store))[0]
    early = api.post(f"/vouchers/{voucher['id']}/review", {"stars": 5})
    assert early.status_code == 409 and early.json()["code"] == "review_subject_not_finished"
    assert redeem(owner_api(store), store, voucher["code"]).status_code in (200, 201)

    answer = api.post(f"/vouchers/{voucher['id']}/review", {"stars": 4, "taste": 5, "text": "套餐分量足"})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["subject"], body["subject_id"], body["store_id"]) == ("voucher", voucher["id"], store.public_id)
    assert body["order_id"] is None and body["status"] == "published"
    again = api.post(f"/vouchers/{voucher['id']}/review", {"stars": 1})
    assert again.status_code == 409 and again.json()["code"] == "already_reviewed"
    store.refresh_from_db()
    assert store.rating_count == 1


def test_voucher_review_bad_inputs():
    store = make_store()
    api = _buyer()
    voucher = bought(api, make_deal(store))[0]
    redeem(owner_api(store), store, voucher["code"])
    stranger = _buyer().post(f"/vouchers/{voucher['id']}/review", {"stars": 5})
    assert stranger.status_code == 404 and stranger.json()["code"] == "review_subject_not_found"
    delivery = api.post(f"/vouchers/{voucher['id']}/review", {"stars": 5, "delivery": 5})
    assert delivery.status_code == 422 and delivery.json()["code"] == "dimension_not_applicable"
    rider = api.post(f"/vouchers/{voucher['id']}/review", {"stars": 5, "rider": {"thumbs_up": True}})
    assert rider.status_code == 422 and rider.json()["code"] == "dimension_not_applicable"
    assert not Review.objects.exists()


# --- the operator's moderation API ------------------------------------------------------------

def test_operator_lists_the_held_queue_and_approves_or_hides_with_a_reason():
    first, second = held_review(), held_review("加vx有惊喜")
    ops = _operator()
    queue = ops.get("/ops/reviews").json()
    assert [r["id"] for r in queue] == [first.public_id, second.public_id]
    assert queue[0]["status"] == "held" and "sensitive" in queue[0]["status_reason"]

    no_reason = ops.post(f"/ops/reviews/{first.public_id}/moderate", {"action": "hide"})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    approved = ops.post(f"/ops/reviews/{first.public_id}/moderate", {"action": "approve"})
    assert approved.status_code == 200 and approved.json()["status"] == "published"
    hidden = ops.post(f"/ops/reviews/{second.public_id}/moderate", {"action": "hide", "reason": "引流广告"})
    assert hidden.json()["status"] == "hidden"
    assert ops.get("/ops/reviews").json() == []
    assert [r["id"] for r in ops.get("/ops/reviews", {"status": "hidden"}).json()] == [second.public_id]
    event = ReviewEvent.objects.filter(review=second, action="hide").get()
    assert event.reason == "引流广告" and event.actor_role == "operator"
    twice = ops.post(f"/ops/reviews/{first.public_id}/moderate", {"action": "approve"})
    assert twice.status_code == 409


def test_the_moderation_api_is_for_operators_only():
    review = held_review()
    for api in (_buyer(), owner_api(review.store)):
        assert api.get("/ops/reviews").status_code == 403
        refused = api.post(f"/ops/reviews/{review.public_id}/moderate", {"action": "approve"})
        assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    review.refresh_from_db()
    assert review.status == "held"
    bad = _operator().post(f"/ops/reviews/{review.public_id}/moderate", {"action": "delete"})
    assert bad.status_code == 422


def test_a_page_offset_beyond_any_page_is_refused_not_a_server_error():
    held_review()
    ops = _operator()
    # found by the fuzzer on PostgreSQL: an offset past 2**63 overflowed bigint (a 500)
    for path in ("/ops/reviews", f"/stores/{Review.objects.get().store.public_id}/reviews"):
        answer = ops.get(f"{path}?offset=9563590293395074175792008134656")
        assert answer.status_code == 422, (path, answer.content)
        assert answer.json()["code"]
    assert ops.get("/ops/reviews?offset=100000").status_code == 200


# --- orphaned photos ---------------------------------------------------------------------------

def test_photos_of_reviews_never_submitted_are_swept_after_a_day(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    store = make_store()
    buyer = consumer()
    kept = services.review_photo_upload(user=buyer, upload=png_upload())
    order = order_done(store, make_product(store), buyer)
    services.review_submit(user=buyer, order_id=order.public_id, scores=services.Scores(stars=5),
                           photo_ids=[kept.public_id])
    young = services.review_photo_upload(user=buyer, upload=png_upload())
    old = services.review_photo_upload(user=buyer, upload=png_upload())
    ReviewPhoto.objects.filter(pk__in=[kept.pk, old.pk]).update(created_at=timezone.now() - timedelta(hours=30))
    old_name = old.image.name
    assert default_storage.exists(old_name)

    assert services.review_photos_sweep() == 1
    assert set(ReviewPhoto.objects.values_list("public_id", flat=True)) == {kept.public_id, young.public_id}
    assert not default_storage.exists(old_name)
    assert default_storage.exists(kept.image.name)
    assert services.review_photos_sweep() == 0
