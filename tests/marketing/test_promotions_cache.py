"""A store's live promotions are cached (marketing.services.promotions_live): every way a
promotion changes shows in the very next order, and which promotions run is decided per
order from their times, not from when the list was cached."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linli.accounts.models import User
from linli.marketing.models import Promotion
from linli.marketing.services import promotions_live
from tests.fixtures import make_product, make_store, next_phone, token_api

from .helpers import make_promotion, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store(delivery_fee_fen=500, packaging_fee_fen=0)
    return store, make_product(store, name="宫保鸡丁", price_fen=2600, stock=50)


@pytest.fixture
def api():
    return token_api(User.objects.create_user(username=next_phone()))


def _discount_fen(answer) -> int:
    assert answer.status_code == 201, answer.content
    return -sum(line["amount_fen"] for line in answer.json()["price_lines"] if line["kind"] == "discount")


def test_the_list_is_read_once_then_served_from_the_cache(shop):
    store, _ = shop
    make_promotion(store)
    now = timezone.now()
    with CaptureQueriesContext(connection) as first:
        assert len(promotions_live(store, now)) == 1
    with CaptureQueriesContext(connection) as second:
        assert len(promotions_live(store, now + timedelta(seconds=1))) == 1
    assert len(first) == 1 and len(second) == 0, (len(first), len(second))


def test_a_promotion_created_paused_resumed_or_deleted_shows_in_the_next_order(shop, api):
    store, product = shop
    assert _discount_fen(place(api, store, product, quantity=2)) == 0  # the empty list is cached
    promotion = make_promotion(store)  # saved after the list was cached
    assert _discount_fen(place(api, store, product, quantity=2)) == 1000  # 52 yuan: 满50减10
    promotion.is_active = False
    promotion.save()
    assert _discount_fen(place(api, store, product, quantity=2)) == 0
    promotion.is_active = True
    promotion.save()
    assert _discount_fen(place(api, store, product, quantity=2)) == 1000
    promotion.delete()
    assert _discount_fen(place(api, store, product, quantity=2)) == 0


def test_another_stores_change_leaves_this_stores_list_cached(shop):
    store, _ = shop
    other = make_store()
    make_promotion(store)
    now = timezone.now()
    promotions_live(store, now)
    make_promotion(other)
    with CaptureQueriesContext(connection) as queries:
        assert len(promotions_live(store, now)) == 1
    assert len(queries) == 0


def test_running_is_decided_per_call_from_the_times(shop):
    store, _ = shop
    now = timezone.now()
    make_promotion(store, name="午市", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(minutes=30))
    make_promotion(store, name="晚市", kind="first_order", tiers=[], amount_fen=300,
                   starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3))
    assert [p.label for p in promotions_live(store, now)] == ["午市"]  # builds the list
    with CaptureQueriesContext(connection) as queries:
        assert [p.label for p in promotions_live(store, now + timedelta(minutes=45))] == []
        assert [p.label for p in promotions_live(store, now + timedelta(hours=2))] == ["晚市"]
    assert len(queries) == 0  # both answered from the list cached at `now`


def test_a_clock_before_the_cached_list_reads_the_database(shop):
    """The list holds what had not ended when it was built: an earlier clock (a replay, a
    test) may need a promotion that had ended by then."""
    store, _ = shop
    now = timezone.now()
    make_promotion(store, name="早市", starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1))
    assert promotions_live(store, now) == []
    earlier = promotions_live(store, now - timedelta(hours=2))
    assert [p.label for p in earlier] == ["早市"]


def test_an_update_that_bypasses_the_signals_is_bounded_by_the_lifetime(shop, settings):
    """A queryset .update() sends no signal: the cached list lives at most
    LINLI_PROMOTIONS_CACHE_SECONDS."""
    settings.LINLI_PROMOTIONS_CACHE_SECONDS = 1
    store, _ = shop
    promotion = make_promotion(store)
    assert len(promotions_live(store, timezone.now())) == 1
    Promotion.objects.filter(pk=promotion.pk).update(is_active=False)
    assert len(promotions_live(store, timezone.now())) == 1  # stale within the lifetime
    time.sleep(1.2)
    assert promotions_live(store, timezone.now()) == []
