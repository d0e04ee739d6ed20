"""Nearby at production grade: filters, sort orders, cursors in every order, the
operator debug field, and agreement with a brute-force reference on random points."""

from __future__ import annotations

import random

import pytest

from linli.accounts.models import PlatformRole, User
from linli.discovery.selectors import store_list_nearby, store_list_nearby_brute_force
from linli.merchants.hours import every_day
from linli.merchants.models import Store, StoreCategory
from tests.fixtures import Api, make_store, token_api

pytestmark = pytest.mark.django_db

C = (31.2304, 121.4737)


def _get(params, api=None):
    return (api or Api()).get("/stores/nearby", {"lat": C[0], "lng": C[1], **params})


@pytest.fixture
def street():
    """Five stores north of the centre, 200 m apart, with distinct ratings, sales and prices."""
    drinks = StoreCategory.objects.create(slug="drinks", name_zh="饮品", name_en="Drinks")
    specs = [  # (rating, rating_count, sales, price, category, hours, status)
        (4.9, 10, 50, 3000, None, None, "open"),
        (4.2, 900, 2500, 8000, drinks, None, "open"),
        (4.7, 3000, 800, 5000, None, every_day(("03:00", "03:01")), "open"),  # closed now (almost always)
        (3.8, 40, 10, 2000, drinks, None, "paused"),
        (4.5, 500, 1200, 12000, None, None, "open"),
    ]
    stores = []
    for i, (r, n, sales, price, cat, hours, status) in enumerate(specs):
        extra = {"category": cat} if cat else {}
        stores.append(make_store(name=f"街{i}", lat=C[0] + 0.0018 * (i + 1), lng=C[1], rating=r, rating_count=n,
                                 sales_30d=sales, avg_price_fen=price, hours=hours, status=status,
                                 delivery_radius_m=650 - 60 * i, **extra))
    return stores


def ids(answer):
    assert answer.status_code == 200, answer.content
    return [item["id"] for item in answer.json()["items"]]


def test_sort_orders(street):
    s = [x.public_id for x in street]
    assert ids(_get({"sort": "distance"})) == s
    assert ids(_get({"sort": "rating"})) == [s[0], s[2], s[4], s[1], s[3]]
    assert ids(_get({"sort": "sales"})) == [s[1], s[4], s[2], s[0], s[3]]
    smart = ids(_get({"sort": "smart"}))
    assert sorted(smart) == sorted(s) and smart.index(s[3]) > smart.index(s[0])  # paused sinks


def test_filters(street):
    s = [x.public_id for x in street]
    assert ids(_get({"category": "drinks"})) == [s[1], s[3]]
    assert ids(_get({"open_now": True})) == [s[0], s[1], s[4]]
    assert ids(_get({"min_rating": 4.5})) == [s[0], s[2], s[4]]
    assert ids(_get({"price_min_fen": 3000, "price_max_fen": 8000})) == [s[0], s[1], s[2]]
    # Store i is 200·(i+1) m away and delivers up to 650 - 60·i m: only 0 and 1 reach us.
    assert ids(_get({"delivers_to_me": True})) == [s[0], s[1]]
    items = _get({}).json()["items"]
    assert [i["is_open"] for i in items] == [True, True, False, False, True]
    assert items[1]["rating_count"] == 900 and items[1]["sales_30d"] == 2500


@pytest.mark.parametrize("sort", ["distance", "rating", "sales", "smart"])
def test_cursor_pages_equal_the_full_list_in_every_order(street, sort):
    full = ids(_get({"sort": sort, "limit": 100}))
    seen, cursor = [], None
    while True:
        params = {"sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = _get(params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == full


@pytest.mark.parametrize(("params", "code"), [
    ({"category": "teleport"}, "unknown_category"),
    ({"sort": "random"}, "invalid_input"),
    ({"radius_m": 20_001}, "invalid_input"),
    ({"min_rating": 6}, "invalid_input"),
    ({"price_min_fen": 5000, "price_max_fen": 100}, "invalid_input"),
    ({"price_min_fen": -1}, "invalid_input"),
])
def test_bad_filters_are_422(street, params, code):
    answer = _get(params)
    assert answer.status_code == 422 and answer.json()["code"] == code


def test_debug_explanations_are_for_operators_only(street):
    assert _get({"sort": "smart", "debug": True}).status_code == 401
    consumer = token_api(User.objects.create_user("+8613800138000", phone="+8613800138000"))
    assert _get({"sort": "smart", "debug": True}, consumer).status_code == 403
    operator = token_api(User.objects.create_user("ops", platform_role=PlatformRole.OPERATOR))
    items = _get({"sort": "smart", "debug": True}, operator).json()["items"]
    scores = [i["debug"]["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    assert set(items[0]["debug"]) >= {"proximity", "quality", "bayes_rating", "popularity", "open_now"}
    assert _get({"sort": "smart"}).json()["items"][0]["debug"] is None


def test_changes_show_up_and_closed_stores_leave(street):
    s = street
    assert len(ids(_get({}))) == 5
    s[0].status = Store.Status.CLOSED
    s[0].save()
    s[1].lat, s[1].lng = 31.30, 121.60  # moved across town
    s[1].save()
    s[2].rating = 1.0
    s[2].save()
    answer = ids(_get({"sort": "rating"}))
    assert answer == [s[4].public_id, s[3].public_id, s[2].public_id]


def test_matches_brute_force_on_random_points():
    rnd = random.Random(5)
    for i in range(300):
        make_store(name=f"随机{i}", lat=C[0] + rnd.uniform(-0.05, 0.05), lng=C[1] + rnd.uniform(-0.05, 0.05))
    for _ in range(25):
        lat, lng = C[0] + rnd.uniform(-0.05, 0.05), C[1] + rnd.uniform(-0.05, 0.05)
        radius = rnd.choice([300, 800, 1500, 3000, 6000])
        expected = store_list_nearby_brute_force(lat=lat, lng=lng, radius_m=radius)
        got, cursor = [], None
        while True:
            items, cursor = store_list_nearby(lat=lat, lng=lng, radius_m=radius, cursor=cursor, limit=50)
            got += [(i.id, i.distance_m) for i in items]
            if not cursor:
                break
        assert [g[0] for g in got] == [e[0] for e in expected]
        assert [g[1] for g in got] == [round(e[1]) for e in expected]


def test_nearby_answer_matches_its_documented_schema(street):
    from linli.discovery.api import NearbyOut

    body = _get({"sort": "smart", "limit": 3}).json()
    assert NearbyOut.model_validate(body).model_dump(mode="json") == body


def test_delivers_to_me_respects_fee_tiers_and_zones():
    near = make_store(name="阶梯店", lat=C[0] + 0.009, lng=C[1], delivery_radius_m=5000,
                      delivery_fee_tiers=[{"max_m": 500, "fee_fen": 300}])  # ~1 km away, tiers end at 500 m
    zoned = make_store(name="围栏店", lat=C[0] + 0.0045, lng=C[1], delivery_radius_m=100,
                       delivery_zone=[[C[0] - 0.01, C[1] - 0.01], [C[0] - 0.01, C[1] + 0.01],
                                      [C[0] + 0.01, C[1] + 0.01], [C[0] + 0.01, C[1] - 0.01]])
    items = {i["id"]: i["delivers_to_me"] for i in _get({}).json()["items"]}
    assert items == {near.public_id: False, zoned.public_id: True}
