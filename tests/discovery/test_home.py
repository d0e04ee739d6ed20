"""GET /home: banners and hot stores by their time windows, categories, near-you list,
the per-city cache, and bad input."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from linli.discovery.home import home_feed
from linli.discovery.models import Banner, HotStore
from linli.merchants.models import StoreCategory
from tests.fixtures import Api, make_store

pytestmark = pytest.mark.django_db

CENTRE = (31.2304, 121.4737)


def _at(north_m: float) -> dict[str, float]:
    return {"lat": CENTRE[0] + math.degrees(north_m / 6_371_008.8), "lng": CENTRE[1]}


def _banner(title: str, *, starts: timedelta, ends: timedelta, city: str = "shanghai", **fields):
    now = timezone.now()
    return Banner.objects.create(city_code=city, title=title, starts_at=now + starts,
                                 ends_at=now + ends, **fields)


def _home(**params):
    answer = Api().get("/home", {"city": "shanghai", **params})
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_banners_running_now_in_sort_order():
    hour = timedelta(hours=1)
    second = _banner("双十二", starts=-hour, ends=hour, sort=2, link="/campaigns/1212")
    first = _banner("新店开业", starts=-hour, ends=hour, sort=1)
    _banner("已结束", starts=-2 * hour, ends=-hour)
    _banner("未开始", starts=hour, ends=2 * hour)
    _banner("已停用", starts=-hour, ends=hour, is_active=False)
    _banner("北京的", starts=-hour, ends=hour, city="beijing")
    banners = _home()["banners"]
    assert [b["id"] for b in banners] == [first.public_id, second.public_id]
    assert banners[1] == {"id": second.public_id, "title": "双十二", "image_url": None,
                          "link": "/campaigns/1212"}


def test_time_windows_are_read_at_the_given_moment():
    now = timezone.now()
    Banner.objects.create(city_code="shanghai", title="早餐", starts_at=now + timedelta(hours=1),
                          ends_at=now + timedelta(hours=3))
    assert home_feed(city_code="shanghai", now=now).banners == []
    later = home_feed(city_code="shanghai", now=now + timedelta(hours=2)).banners
    assert [b.title for b in later] == ["早餐"]
    assert home_feed(city_code="shanghai", now=now + timedelta(hours=3)).banners == []  # ends_at excluded


def test_categories_are_all_listed_in_order():
    StoreCategory.objects.create(slug="flowers", name_zh="鲜花", name_en="Flowers", sort=5)
    StoreCategory.objects.create(slug="drinks", name_zh="饮品", name_en="Drinks", sort=1)
    assert _home()["categories"] == [
        {"slug": "drinks", "name_zh": "饮品", "name_en": "Drinks"},
        {"slug": "flowers", "name_zh": "鲜花", "name_en": "Flowers"},
    ]


def test_hot_stores_featured_first_then_best_sellers_up_to_ten():
    sellers = [make_store(name=f"店{i:02d}", sales_30d=100 * i, **_at(50 * i)) for i in range(14)]
    make_store(name="关了的爆款", sales_30d=10**6, status="closed")
    make_store(name="杭州的爆款", sales_30d=10**6, city_code="hangzhou")
    hour = timedelta(hours=1)
    now = timezone.now()
    featured = sellers[0]
    HotStore.objects.create(city_code="shanghai", store=featured, sort=1, starts_at=now - hour,
                            ends_at=now + hour)
    HotStore.objects.create(city_code="shanghai", store=sellers[1], sort=2, starts_at=now + hour,
                            ends_at=now + 2 * hour)  # not yet
    hot = _home()["hot_stores"]
    assert len(hot) == 10
    assert hot[0]["id"] == featured.public_id and hot[0]["featured"] is True
    assert [h["name"] for h in hot[1:]] == [f"店{i:02d}" for i in range(13, 4, -1)]
    assert all(h["featured"] is False for h in hot[1:])
    assert set(hot[0]) == {"id", "name", "category", "rating", "sales_30d", "avg_price_fen",
                           "is_open", "featured"}


def test_near_you_is_the_ten_nearest_within_3_km():
    stores = [make_store(name=f"近{i:02d}", **_at(120 * (i + 1))) for i in range(12)]
    make_store(name="太远", **_at(3500))
    make_store(name="关店", status="closed", **_at(10))
    near = _home(lat=CENTRE[0], lng=CENTRE[1])["near_you"]
    assert [n["id"] for n in near] == [s.public_id for s in stores[:10]]
    assert [n["distance_m"] for n in near[:3]] == [120, 240, 360]


def test_near_you_widens_its_ring_in_a_sparse_area():
    far = make_store(name="郊区店", **_at(2800))
    near = _home(lat=CENTRE[0], lng=CENTRE[1])["near_you"]
    assert [n["id"] for n in near] == [far.public_id]


def test_near_you_needs_a_point():
    make_store(name="店")
    assert _home()["near_you"] == []


def test_city_parts_are_cached_for_a_minute_but_near_you_is_not():
    hour = timedelta(hours=1)
    _banner("第一", starts=-hour, ends=hour)
    assert [b["title"] for b in _home()["banners"]] == ["第一"]
    _banner("第二", starts=-hour, ends=hour)
    assert [b["title"] for b in _home()["banners"]] == ["第一"]  # cached
    store = make_store(name="新开的店")
    assert [n["id"] for n in _home(lat=CENTRE[0], lng=CENTRE[1])["near_you"]] == [store.public_id]


def test_open_state_is_worked_out_for_the_moment_asked():
    from linli.merchants.hours import every_day

    store = make_store(name="早餐店", sales_30d=999, hours=every_day(("06:00", "10:00")))
    morning = timezone.now().replace(hour=0, minute=30)  # 08:30 in Shanghai
    evening = morning + timedelta(hours=12)
    assert home_feed(city_code="shanghai", now=morning).hot_stores[0].is_open is True
    assert home_feed(city_code="shanghai", now=evening).hot_stores[0].is_open is False
    assert home_feed(city_code="shanghai", now=morning).hot_stores[0].id == store.public_id


@pytest.mark.parametrize("params", [
    {}, {"city": "Shanghai"}, {"city": "s"}, {"city": "shanghai-1"}, {"city": "a" * 17},
    {"city": "shanghai", "lat": 91, "lng": 121}, {"city": "shanghai", "lat": 31},
    {"city": "shanghai", "lng": 121},
])
def test_bad_input_is_422(params):
    answer = Api().get("/home", params)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_input"


def test_unknown_but_well_formed_city_is_an_empty_feed():
    body = _home(city="atlantis")
    assert body["banners"] == [] and body["hot_stores"] == []
