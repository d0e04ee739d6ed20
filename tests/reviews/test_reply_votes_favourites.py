"""The merchant's one reply, helpful votes, favourites, and the review list's filters."""

from __future__ import annotations

import pytest

from linli.merchants.models import Store
from linli.reviews import services
from linli.reviews.models import Favourite, ReviewReply, ReviewVote
from tests.fixtures import Api, make_product, make_staff, make_store, token_api

from .helpers import consumer, order_done, png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store()
    return store, make_product(store)


def review(shop, stars=5, buyer=None, **scores):
    store, product = shop
    buyer = buyer or consumer()
    order = order_done(store, product, buyer)
    return services.review_submit(user=buyer, order_id=order.public_id,
                                  scores=services.Scores(stars=stars, **scores)).review


def test_owner_or_manager_replies_once(shop):
    store, _ = shop
    r = review(shop)
    manager = make_staff(store, role="manager")
    api = token_api(manager)
    first = api.post(f"/reviews/{r.public_id}/reply", {"text": "谢谢您的好评！"})
    assert first.status_code == 201, first.content
    again = api.post(f"/reviews/{r.public_id}/reply", {"text": "再谢一次"})
    assert (again.status_code, again.json()["code"]) == (409, "already_replied")
    assert ReviewReply.objects.get().text == "谢谢您的好评！"
    listed = Api().get(f"/stores/{store.public_id}/reviews").json()["items"][0]
    assert listed["reply"]["text"] == "谢谢您的好评！"


def test_cashier_and_strangers_cannot_reply(shop):
    store, _ = shop
    r = review(shop)
    cashier = token_api(make_staff(store, role="cashier")).post(f"/reviews/{r.public_id}/reply", {"text": "谢谢"})
    assert (cashier.status_code, cashier.json()["code"]) == (403, "permission_denied")
    other_store = make_store(name="别家店")
    stranger = token_api(make_staff(other_store, role="owner")).post(f"/reviews/{r.public_id}/reply", {"text": "谢"})
    assert (stranger.status_code, stranger.json()["code"]) == (404, "review_not_found")
    empty = token_api(store.merchant.members.get(role="owner").user).post(f"/reviews/{r.public_id}/reply", {"text": "  "})
    assert (empty.status_code, empty.json()["code"]) == (422, "invalid_review_text")
    assert ReviewReply.objects.count() == 0


def test_helpful_vote_once_per_user_and_not_on_your_own(shop):
    buyer = consumer()
    r = review(shop, buyer=buyer)
    voter = token_api(consumer())
    assert voter.post(f"/reviews/{r.public_id}/helpful").json()["helpful_count"] == 1
    assert voter.post(f"/reviews/{r.public_id}/helpful").json()["helpful_count"] == 1
    assert ReviewVote.objects.count() == 1
    own = token_api(buyer).post(f"/reviews/{r.public_id}/helpful")
    assert (own.status_code, own.json()["code"]) == (409, "own_review_vote")
    gone = voter.client.delete(f"/api/v1/reviews/{r.public_id}/helpful",
                               headers={"Authorization": f"Bearer {voter.token}"})
    assert gone.json()["helpful_count"] == 0
    gone = voter.client.delete(f"/api/v1/reviews/{r.public_id}/helpful",
                               headers={"Authorization": f"Bearer {voter.token}"})
    assert gone.json()["helpful_count"] == 0
    missing = voter.post("/reviews/rev_nope/helpful")
    assert (missing.status_code, missing.json()["code"]) == (404, "review_not_found")


def test_list_sorts_and_filters(shop):
    store, _ = shop
    buyer = consumer()
    api = token_api(buyer)
    photo = api.client.post("/api/v1/reviews/photos", {"file": png_upload()},
                            headers={"Authorization": f"Bearer {api.token}"}).json()["id"]
    order = order_done(*shop, buyer)
    with_photo = services.review_submit(user=buyer, order_id=order.public_id, scores=services.Scores(stars=4),
                                        photo_ids=[photo]).review
    low = review(shop, stars=2, taste=1)
    liked = review(shop, stars=5, taste=5)
    for _ in range(2):
        services.review_vote(user=consumer(), review_id=liked.public_id)
    path = f"/stores/{store.public_id}/reviews"
    ids = lambda **q: [r["id"] for r in Api().get(path, q).json()["items"]]  # noqa: E731
    assert ids() == [liked.public_id, low.public_id, with_photo.public_id]
    assert ids(sort="helpful")[0] == liked.public_id
    assert ids(with_photos="true") == [with_photo.public_id]
    assert ids(low="true") == [low.public_id]
    assert ids(dimension="taste", low="true") == [low.public_id]
    assert ids(dimension="taste") == [liked.public_id, low.public_id]
    assert ids(limit=1, offset=1) == [low.public_id]
    assert Api().get(path, {"sort": "rude"}).status_code == 422
    assert Api().get("/stores/sto_nope/reviews").json()["code"] == "store_not_found"


def test_favourites_are_idempotent_and_show_current_state(shop):
    store, product = shop
    api = token_api(consumer())
    auth = {"Authorization": f"Bearer {api.token}"}
    put = lambda p: api.client.put(f"/api/v1{p}", headers=auth)  # noqa: E731
    delete = lambda p: api.client.delete(f"/api/v1{p}", headers=auth)  # noqa: E731
    assert put(f"/me/favourites/stores/{store.public_id}").json()["added"] is True
    assert put(f"/me/favourites/stores/{store.public_id}").json()["added"] is False
    assert put(f"/me/favourites/products/{product.public_id}").status_code == 200
    assert Favourite.objects.count() == 2
    Store.objects.filter(pk=store.pk).update(status=Store.Status.PAUSED)
    mine = api.get("/me/favourites").json()
    assert [s["store_id"] for s in mine["stores"]] == [store.public_id]
    assert mine["stores"][0]["status"] == "paused" and mine["stores"][0]["is_open"] is False
    assert mine["products"][0]["product_id"] == product.public_id
    assert delete(f"/me/favourites/stores/{store.public_id}").status_code == 204
    assert delete(f"/me/favourites/stores/{store.public_id}").status_code == 204
    assert api.get("/me/favourites").json()["stores"] == []
    missing = put("/me/favourites/products/prd_nope")
    assert (missing.status_code, missing.json()["code"]) == (404, "product_not_found")
    assert put("/me/favourites/stores/sto_nope").json()["code"] == "store_not_found"
    assert Favourite.objects.count() == 1
