"""GET /stores/nearby: nearest first, radius and category filters, stable cursor pages."""

from __future__ import annotations

import json
import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from linli.discovery.geo import bounding_box, haversine_m
from linli.discovery.selectors import store_page_json
from linli.merchants.models import Store, StoreCategory
from tests.fixtures import Api, make_store

pytestmark = pytest.mark.django_db

CENTRE = (31.2304, 121.4737)


def _ring(n: int, step_m: float = 150.0):
    """n stores on a spiral leaving the centre, each farther than the last."""
    stores = []
    for i in range(n):
        d = (i + 1) * step_m
        bearing = i * 0.9
        lat = CENTRE[0] + math.degrees(d * math.cos(bearing) / 6_371_008.8)
        lng = CENTRE[1] + math.degrees(d * math.sin(bearing) / (6_371_008.8 * math.cos(math.radians(CENTRE[0]))))
        stores.append(make_store(name=f"店{i:02d}", lat=lat, lng=lng))
    return stores


def test_nearest_first_with_distances_and_radius():
    stores = _ring(8)
    answer = Api().get("/stores/nearby", {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 700})
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert [i["id"] for i in items] == [s.public_id for s in stores[:4]]
    assert [i["distance_m"] for i in items] == [150, 300, 450, 600]
    assert answer.json()["next"] is None
    assert set(items[0]) >= {"id", "name", "distance_m", "is_open", "delivery_fee_fen"}


def test_cursor_pages_cover_everything_once_in_order():
    stores = _ring(25, step_m=100)
    seen, cursor = [], None
    while True:
        params = {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 5000, "limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = Api().get("/stores/nearby", params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == [s.public_id for s in stores]


@pytest.mark.parametrize("sort", ["distance", "smart"])
def test_a_page_asked_again_is_answered_from_the_page_cache_exactly_as_computed(sort):
    """The cache keeps each page as index positions, distances and flags; the answer rebuilt
    from it (items and the next cursor) is the computed one."""
    from linli.discovery.selectors import _holder

    _ring(12, step_m=100)
    params = {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 5000, "limit": 5, "sort": sort}
    first = Api().get("/stores/nearby", params)
    assert first.status_code == 200 and len(first.json()["items"]) == 5 and first.json()["next"]
    assert len(_holder.pages) == 1
    (compact, _next), = _holder.pages.values()
    assert compact.shape == (5, 3)
    again = Api().get("/stores/nearby", params)
    assert again.content == first.content
    following = Api().get("/stores/nearby", {**params, "cursor": first.json()["next"]})
    _holder.pages.clear()  # the same two pages computed afresh
    assert Api().get("/stores/nearby", params).content == first.content
    assert Api().get("/stores/nearby", {**params, "cursor": first.json()["next"]}).content == following.content


def test_category_filter():
    _ring(3)
    flowers = StoreCategory.objects.create(slug="flowers", name_zh="鲜花", name_en="Flowers")
    florist = make_store(name="花点时间", lat=CENTRE[0] + 0.001, lng=CENTRE[1], category=flowers)
    items = Api().get("/stores/nearby", {"lat": CENTRE[0], "lng": CENTRE[1], "category": "flowers"}).json()["items"]
    assert [i["id"] for i in items] == [florist.public_id]


def test_closed_stores_are_not_listed_and_paused_ones_show_closed():
    make_store(name="已关店", status="closed")
    paused = make_store(name="忙碌中", status="paused")
    items = Api().get("/stores/nearby", {"lat": CENTRE[0], "lng": CENTRE[1]}).json()["items"]
    assert [(i["id"], i["is_open"]) for i in items] == [(paused.public_id, False)]


@pytest.mark.parametrize("params", [
    {"lat": 91, "lng": 121}, {"lat": 31, "lng": 181}, {"lat": "x", "lng": 121},
    {"lng": 121}, {"lat": 31, "lng": 121, "radius_m": 0}, {"lat": 31, "lng": 121, "radius_m": 10**7},
    {"lat": 31, "lng": 121, "limit": 0}, {"lat": 31, "lng": 121, "limit": 1000},
])
def test_bad_query_is_422(params):
    answer = Api().get("/stores/nearby", params)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_input"


def test_garbage_cursor_is_422():
    answer = Api().get("/stores/nearby", {"lat": 31, "lng": 121, "cursor": "!!not-a-cursor"})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_cursor"


def test_store_detail_and_menu_404_for_unknown_store():
    for path in ("/stores/sto_missing", "/stores/sto_missing/menu"):
        answer = Api().get(path)
        assert answer.status_code == 404 and answer.json()["code"] == "store_not_found"


@hsettings(max_examples=200, deadline=None)
@given(lat=st.floats(-80, 80), lng=st.floats(-170, 170), radius=st.floats(10, 50_000),
       bearing=st.floats(0, 2 * math.pi), frac=st.floats(0, 0.999))
def test_bounding_box_contains_every_point_within_the_radius(lat, lng, radius, bearing, frac):
    d = radius * frac
    plat = lat + math.degrees(d * math.cos(bearing) / 6_371_008.8)
    plng = lng + math.degrees(d * math.sin(bearing) / (6_371_008.8 * math.cos(math.radians(plat))))
    if haversine_m(lat, lng, plat, plng) > radius:
        return  # the projection overshot; only points truly inside matter
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius)
    assert min_lat <= plat <= max_lat and min_lng <= plng <= max_lng


def test_store_detail_shows_the_profile():
    store = make_store(name="老王家常菜", tags=["老字号"], rating_count=12, avg_price_fen=4500,
                       special_hours={"2026-10-01": []},
                       delivery_fee_tiers=[{"max_m": 1000, "fee_fen": 300}, {"max_m": 3000, "fee_fen": 600}])
    body = Api().get(f"/stores/{store.public_id}").json()
    assert body["id"] == store.public_id and body["tags"] == ["老字号"]
    assert body["special_hours"] == {"2026-10-01": []} and body["photos"] == []
    assert body["delivery_fee_tiers"][1] == {"max_m": 3000, "fee_fen": 600}
    assert (body["rating_count"], body["avg_price_fen"], body["delivery_zone"]) == (12, 4500, None)


def test_the_store_page_is_what_the_schema_says():
    from linli.discovery.api import StoreOut

    store = make_store(name="老王家常菜", tags=["老字号"])
    for _ in range(2):  # built, then from the cache
        body = Api().get(f"/stores/{store.public_id}").json()
        assert StoreOut.model_validate(body).model_dump(mode="json") == body


def test_the_store_page_is_cached_until_the_store_changes(settings, django_assert_num_queries):
    """Cached under the store's updated_at as the nearby index read it: no query while
    the store is unchanged, the change shown once the index has read it."""
    from linli.merchants.store_profile import store_pause, store_profile_update

    store = make_store(name="老王家常菜")
    owner = store.merchant.members.get(role="owner").user
    assert Api().get(f"/stores/{store.public_id}").json()["name"] == "老王家常菜"  # the index reads it
    settings.LINLI_NEARBY_REFRESH_SECONDS = 3600  # from now on the index reads changes only when told
    with django_assert_num_queries(0):
        assert Api().get(f"/stores/{store.public_id}").json()["name"] == "老王家常菜"
    store_profile_update(actor=owner, store_id=store.public_id, changes={"name": "老王私房菜"})
    assert Api().get(f"/stores/{store.public_id}").json()["name"] == "老王家常菜"  # index not read yet
    settings.LINLI_NEARBY_REFRESH_SECONDS = 0
    page = Api().get(f"/stores/{store.public_id}").json()
    assert (page["name"], page["status"], page["is_open"]) == ("老王私房菜", "open", True)
    store_pause(actor=owner, store_id=store.public_id)
    page = Api().get(f"/stores/{store.public_id}").json()
    assert (page["status"], page["is_open"]) == ("paused", False)


def test_is_open_on_a_cached_store_page_follows_the_clock():
    hours = [[["09:00", "21:00"]]] * 7
    store = make_store(hours=hours)
    shanghai = ZoneInfo("Asia/Shanghai")
    assert json.loads(store_page_json(store.public_id, at=datetime(2026, 3, 2, 12, tzinfo=shanghai)))["is_open"]
    assert not json.loads(store_page_json(store.public_id, at=datetime(2026, 3, 2, 23, tzinfo=shanghai)))["is_open"]


def test_a_closed_store_has_no_page():
    store = make_store()
    assert Api().get(f"/stores/{store.public_id}").status_code == 200
    Store.objects.filter(pk=store.pk).update(status=Store.Status.CLOSED, updated_at=timezone.now())
    answer = Api().get(f"/stores/{store.public_id}")
    assert (answer.status_code, answer.json()["code"]) == (404, "store_not_found")
