"""Writing a review over the API: who may, what is checked, what is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from linli.merchants.models import Store
from linli.orders.models import Order
from linli.reviews.models import Review, ReviewEvent, ReviewPhoto, RiderRating, StoreRatingStats
from tests.fixtures import make_product, make_store, token_api

from .helpers import consumer, order_done, png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store()
    return store, make_product(store)


def upload(api, file):
    return api.client.post("/api/v1/reviews/photos", {"file": file},
                           headers={"Authorization": f"Bearer {api.token}"})


def nothing_written():
    assert Review.objects.count() == 0
    assert StoreRatingStats.objects.count() == 0


def test_buyer_reviews_a_completed_order_and_the_store_rating_moves(shop):
    store, product = shop
    buyer = consumer()
    order = order_done(store, product, buyer)
    api = token_api(buyer)
    photo = upload(api, png_upload())
    assert photo.status_code == 201, photo.content
    answer = api.post(f"/orders/{order.public_id}/review",
                      {"stars": 4, "taste": 5, "packaging": 3, "text": "宫保鸡丁很香", "photo_ids": [photo.json()["id"]]})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["status"] == "published" and body["order_id"] == order.public_id
    assert body["photos"][0]["id"] == photo.json()["id"] and body["author"] == "张**"
    store.refresh_from_db()
    assert (store.rating, store.rating_count) == (4, 1)
    rating = api.get(f"/stores/{store.public_id}/rating").json()
    dims = {d["dimension"]: d for d in rating["dimensions"]}
    assert dims["overall"]["count"] == 1 and dims["overall"]["score"] == pytest.approx((20 * 4 + 4) / 21, abs=0.01)
    assert dims["taste"]["average"] == 5 and dims["delivery"]["count"] == 0
    assert ReviewEvent.objects.get().actor == buyer
    mine = api.get("/me/reviews").json()["items"]
    assert [r["id"] for r in mine] == [body["id"]]


def test_store_rating_write_bumps_updated_at(shop):
    store, product = shop
    before = Store.objects.get(pk=store.pk).updated_at
    buyer = consumer()
    order = order_done(store, product, buyer)
    assert token_api(buyer).post(f"/orders/{order.public_id}/review", {"stars": 5}).status_code == 201
    assert Store.objects.get(pk=store.pk).updated_at > before


def test_delivery_order_rates_delivery_and_the_rider_apart(shop):
    store, product = shop
    buyer = consumer()
    order = order_done(store, product, buyer, fulfilment="delivery")
    answer = token_api(buyer).post(f"/orders/{order.public_id}/review", {
        "stars": 5, "delivery": 2, "rider": {"stars": 2, "tags": ["late"]}})
    assert answer.status_code == 201, answer.content
    rated = RiderRating.objects.get()
    assert rated.rider == order.delivery.rider and rated.tags == ["late"] and rated.stars == 2
    listed = token_api(buyer).get(f"/stores/{store.public_id}/reviews").json()["items"][0]
    assert "rider" not in listed and listed["delivery"] == 2


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"stars": 0}, 422, "invalid_stars"),
    ({"stars": 6}, 422, "invalid_stars"),
    ({"stars": 5, "taste": 9}, 422, "invalid_stars"),
    ({"stars": 5, "delivery": 4}, 422, "dimension_not_applicable"),
    ({"stars": 5, "rider": {"thumbs_up": True}}, 422, "no_rider_to_rate"),
    ({"stars": 5, "photo_ids": [f"rph_{i}" for i in range(10)]}, 422, "too_many_photos"),
    ({"stars": 5, "photo_ids": ["rph_nobody"]}, 422, "unknown_photo"),
    ({"stars": 5, "text": "好" * 501}, 422, "invalid_review_text"),
    ({"stars": "five"}, 422, "invalid_input"),
])
def test_bad_bodies_are_refused_with_a_code_and_nothing_is_written(shop, body, status, code):
    store, product = shop
    buyer = consumer()
    order = order_done(store, product, buyer)  # pickup: no delivery, no rider
    answer = token_api(buyer).post(f"/orders/{order.public_id}/review", body)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.content
    nothing_written()


def test_rider_rating_needs_a_thumb_or_stars_and_known_tags(shop):
    store, product = shop
    buyer = consumer()
    order = order_done(store, product, buyer, fulfilment="delivery")
    api = token_api(buyer)
    for rider in ({"tags": ["late"]}, {"thumbs_up": False, "tags": ["teleported"]}, {"stars": 7}):
        answer = api.post(f"/orders/{order.public_id}/review", {"stars": 3, "rider": rider})
        assert answer.status_code == 422 and answer.json()["code"] in ("invalid_rider_rating", "invalid_stars")
    nothing_written()


def test_someone_elses_order_looks_like_no_order(shop):
    store, product = shop
    order = order_done(store, product, consumer())
    answer = token_api(consumer()).post(f"/orders/{order.public_id}/review", {"stars": 5})
    assert (answer.status_code, answer.json()["code"]) == (404, "review_subject_not_found")
    nothing_written()


def test_unfinished_order_cannot_be_reviewed(shop):
    store, product = shop
    buyer = consumer()
    order = order_done(store, product, buyer, status=Order.Status.PAID)
    answer = token_api(buyer).post(f"/orders/{order.public_id}/review", {"stars": 5})
    assert (answer.status_code, answer.json()["code"]) == (409, "review_subject_not_finished")
    nothing_written()


def test_second_review_is_refused(shop):
    store, product = shop
    buyer = consumer()
    order = order_done(store, product, buyer)
    api = token_api(buyer)
    assert api.post(f"/orders/{order.public_id}/review", {"stars": 5}).status_code == 201
    again = api.post(f"/orders/{order.public_id}/review", {"stars": 1})
    assert (again.status_code, again.json()["code"]) == (409, "already_reviewed")
    assert Review.objects.get().stars == 5
    store.refresh_from_db()
    assert store.rating_count == 1


def test_review_after_the_window_is_refused(shop, settings):
    store, product = shop
    buyer = consumer()
    late = order_done(store, product, buyer, completed_at=timezone.now() - timedelta(days=15, minutes=1))
    answer = token_api(buyer).post(f"/orders/{late.public_id}/review", {"stars": 5})
    assert (answer.status_code, answer.json()["code"]) == (409, "review_window_closed")
    settings.LINLI_REVIEW_WINDOW_DAYS = 30
    assert token_api(buyer).post(f"/orders/{late.public_id}/review", {"stars": 5}).status_code == 201


def test_a_file_that_is_not_an_image_is_refused(shop):
    buyer = consumer()
    api = token_api(buyer)
    fake = SimpleUploadedFile("dish.png", b"GIF89a not really an image", content_type="image/png")
    answer = upload(api, fake)
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_image")
    assert ReviewPhoto.objects.count() == 0


def test_someone_elses_photo_cannot_be_attached(shop):
    store, product = shop
    other = token_api(consumer())
    photo_id = upload(other, png_upload()).json()["id"]
    buyer = consumer()
    order = order_done(store, product, buyer)
    answer = token_api(buyer).post(f"/orders/{order.public_id}/review", {"stars": 5, "photo_ids": [photo_id]})
    assert (answer.status_code, answer.json()["code"]) == (422, "unknown_photo")
    nothing_written()


def test_nine_photos_are_fine(shop):
    store, product = shop
    buyer = consumer()
    api = token_api(buyer)
    ids = [upload(api, png_upload()).json()["id"] for _ in range(9)]
    order = order_done(store, product, buyer)
    answer = api.post(f"/orders/{order.public_id}/review", {"stars": 5, "photo_ids": ids})
    assert answer.status_code == 201, answer.content
    assert [p["id"] for p in answer.json()["photos"]] == ids


def test_anonymous_cannot_review(shop):
    from tests.fixtures import Api

    store, product = shop
    order = order_done(store, product, consumer())
    assert Api().post(f"/orders/{order.public_id}/review", {"stars": 5}).status_code == 401
