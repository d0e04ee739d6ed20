"""Simultaneous writes on PostgreSQL: real clients on their own connections."""

from __future__ import annotations

from collections import Counter

import pytest

from linli.reviews.models import Review, StoreRatingStats
from tests.fixtures import make_product, make_store, token_api
from tests.threads import run_concurrently

from .helpers import consumer, order_done


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_make_one_review():
    store = make_store()
    product = make_product(store)
    buyer = consumer()
    order = order_done(store, product, buyer)
    api = token_api(buyer)
    answers = run_concurrently([
        lambda stars=stars: api.post(f"/orders/{order.public_id}/review", {"stars": stars}) for stars in (5, 1)
    ])
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 1}, [a.content for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"already_reviewed"}
    assert Review.objects.filter(subject_key=order.public_id).count() == 1
    overall = StoreRatingStats.objects.get(store=store, dimension="overall")
    assert overall.count == 1 and overall.stars_sum == Review.objects.get().stars
    store.refresh_from_db()
    assert store.rating_count == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reviews_of_one_store_at_once_are_all_counted():
    store = make_store()
    product = make_product(store)
    buyers = [consumer() for _ in range(6)]
    orders = [order_done(store, product, b) for b in buyers]
    answers = run_concurrently([
        lambda b=b, o=o, n=n: token_api(b).post(f"/orders/{o.public_id}/review", {"stars": 1 + n % 5, "taste": 4})
        for n, (b, o) in enumerate(zip(buyers, orders, strict=True))
    ])
    assert [a.status_code for a in answers] == [201] * 6, [a.content for a in answers]
    overall = StoreRatingStats.objects.get(store=store, dimension="overall")
    assert (overall.count, overall.stars_sum) == (6, sum(1 + n % 5 for n in range(6)))
    store.refresh_from_db()
    assert store.rating_count == 6
