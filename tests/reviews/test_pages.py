"""The review pages, fetched as a phone would (Django test client, phone user agent): write a
review from the order page, the store's reviews tab and favourite toggle, /me/favourites,
and the merchant console's /m/reviews with the one reply."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from linli.reviews import services
from linli.reviews.models import Favourite, Review, ReviewReply, RiderRating
from tests.fixtures import make_product, make_staff, make_store

from .helpers import consumer, order_done, png_upload

pytestmark = pytest.mark.django_db

PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def phone(user) -> Client:
    client = Client(HTTP_USER_AGENT=PHONE_UA)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def page(client: Client, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, answer.content[:500]
    html = answer.content.decode()
    assert 'name="viewport"' in html and "width=device-width" in html
    return html


@pytest.fixture
def shop():
    store = make_store()
    return store, make_product(store)


def test_write_a_review_from_the_order_page(shop):
    store, product = shop
    buyer = consumer()
    order = order_done(store, product, buyer, fulfilment="delivery")
    client = phone(buyer)
    html = page(client, f"/orders/{order.public_id}")
    assert 'data-testid="write-review"' in html and f"/orders/{order.public_id}/review/new" in html
    form = page(client, f"/orders/{order.public_id}/review/new")
    assert 'data-testid="stars-delivery"' in form and 'data-testid="rate-rider"' in form
    answer = client.post(f"/orders/{order.public_id}/review/new", {
        "stars": "4", "taste": "5", "delivery": "3", "text": "很好吃", "photos": [png_upload(), png_upload()],
        "rider_thumb": "up", "rider_tags": ["on_time"]})
    assert answer.status_code == 302 and answer["Location"] == f"/orders/{order.public_id}"
    review = Review.objects.get()
    assert (review.stars, review.taste, review.delivery, review.photo_count) == (4, 5, 3, 2)
    assert RiderRating.objects.get().thumbs_up is True
    after = page(client, f"/orders/{order.public_id}")
    assert 'data-testid="order-review"' in after and 'data-testid="write-review"' not in after


def test_write_form_shows_the_error_and_writes_nothing(shop):
    store, product = shop
    buyer = consumer()
    order = order_done(store, product, buyer)
    client = phone(buyer)
    form = page(client, f"/orders/{order.public_id}/review/new")
    assert 'data-testid="stars-delivery"' not in form  # a pickup order has no delivery score
    answer = client.post(f"/orders/{order.public_id}/review/new", {"stars": "", "text": "没打分"})
    assert answer.status_code == 422 and 'data-code="invalid_stars"' in answer.content.decode()
    fake = client.post(f"/orders/{order.public_id}/review/new",
                       {"stars": "5", "photos": [png_upload(), SimpleUploadedFile("x.jpg", b"not an image")]})
    assert fake.status_code == 422 and 'data-code="invalid_image"' in fake.content.decode()
    assert Review.objects.count() == 0
    other = page(phone(consumer()), f"/orders/{order.public_id}/review/new", status=404)
    assert "review_subject_not_found" in other


def test_store_reviews_tab_lists_filters_and_votes(shop):
    store, product = shop
    writer = consumer(name="李四")
    order = order_done(store, product, writer)
    review = services.review_submit(user=writer, order_id=order.public_id, scores=services.Scores(stars=2),
                                    text="汤有点凉").review
    reader = phone(consumer())
    html = page(reader, f"/stores/{store.public_id}?tab=reviews")
    assert "汤有点凉" in html and "李**" in html and 'data-testid="review-filters"' in html
    assert "汤有点凉" in page(reader, f"/stores/{store.public_id}?tab=reviews&low=1")
    assert 'data-testid="no-reviews"' in page(reader, f"/stores/{store.public_id}?tab=reviews&with_photos=1")
    voted = reader.post(f"/reviews/{review.public_id}/helpful",
                        {"next": f"/stores/{store.public_id}?tab=reviews"})
    assert voted.status_code == 302
    review.refresh_from_db()
    assert review.helpful_count == 1
    anonymous = Client(HTTP_USER_AGENT=PHONE_UA)
    assert "汤有点凉" in page(anonymous, f"/stores/{store.public_id}?tab=reviews")


def test_favourite_toggle_and_my_favourites(shop):
    store, _ = shop
    user = consumer()
    client = phone(user)
    html = page(client, f"/stores/{store.public_id}")
    assert 'data-testid="favourite"' in html and 'aria-pressed="false"' in html
    assert client.post(f"/stores/{store.public_id}/favourite", {"on": "1"}).status_code == 302
    assert client.post(f"/stores/{store.public_id}/favourite", {"on": "1"}).status_code == 302
    assert Favourite.objects.filter(user=user).count() == 1
    assert 'aria-pressed="true"' in page(client, f"/stores/{store.public_id}")
    mine = page(client, "/me/favourites")
    assert store.name in mine and 'data-testid="favourite-store"' in mine
    client.post(f"/stores/{store.public_id}/favourite", {"on": "0", "next": "/me/favourites"})
    assert Favourite.objects.filter(user=user).count() == 0
    assert Client().get("/me/favourites").status_code == 302  # log in first


def test_merchant_console_lists_and_replies_once(shop):
    store, product = shop
    buyer = consumer()
    order = order_done(store, product, buyer)
    review = services.review_submit(user=buyer, order_id=order.public_id, scores=services.Scores(stars=1),
                                    text="等了很久").review
    manager = phone(make_staff(store, role="manager"))
    html = page(manager, "/m/reviews")
    assert "等了很久" in html and 'data-testid="reply"' in html
    assert "等了很久" in page(manager, "/m/reviews?low=1&unreplied=1")
    answer = manager.post(f"/m/reviews/{review.public_id}/reply", {"text": "抱歉，我们会改进"})
    assert answer.status_code == 302
    again = manager.post(f"/m/reviews/{review.public_id}/reply", {"text": "再说一次"})
    assert again.status_code == 409 and 'data-code="already_replied"' in again.content.decode()
    assert ReviewReply.objects.get().text == "抱歉，我们会改进"
    html = page(manager, "/m/reviews")
    assert 'data-testid="review-reply"' in html and 'data-testid="reply"' not in html
    assert 'data-testid="no-reviews"' in page(manager, "/m/reviews?unreplied=1")
    cashier = phone(make_staff(store, role="cashier"))
    assert 'data-testid="reply"' not in page(cashier, "/m/reviews")
    assert 'data-testid="review-reply"' in page(cashier, "/m/reviews")
