"""The local gazetteer: typed Chinese address text to a point, a point to the nearest
known district and road. Pure (built from the seed's city data and store addresses)
and through the API, where the stores in the database feed it."""

from __future__ import annotations

import pytest

from linli.accounts.geocode import Gazetteer, KnownAddress, normalise
from linli.core.seed.cities import CITIES, SHANGHAI
from linli.discovery.geo import haversine_m
from tests.fixtures import Api, make_store

STORES = [
    KnownAddress("shanghai", "黄浦区南京东路 1 号", 31.2350, 121.4800),
    KnownAddress("shanghai", "黄浦区南京东路 300 号", 31.2370, 121.4830),
    KnownAddress("shanghai", "徐汇区漕溪北路 88 号", 31.1900, 121.4370),
    KnownAddress("beijing", "朝阳区建国路 77 号", 39.9080, 116.4600),
]


@pytest.fixture(scope="module")
def places():
    return Gazetteer(CITIES.values(), STORES)


@pytest.mark.parametrize("district", SHANGHAI.districts, ids=lambda d: d.name)
def test_every_seeded_district_is_found_by_its_name(places, district):
    match = places.geocode(f"上海市{district.name}")
    assert match.level == "district" and match.district == district.name
    assert (match.lat, match.lng) == (district.lat, district.lng)


def test_every_city_of_the_seed_is_found_and_its_landmark_too(places):
    for city in CITIES.values():
        assert places.geocode(city.name).city == city.slug
        landmark = places.geocode(city.centre_name)
        assert landmark.level == "landmark" and (landmark.lat, landmark.lng) == (city.centre_lat, city.centre_lng)


def test_an_exact_store_address_gives_that_point_whatever_the_spacing_and_width(places):
    for text in ("黄浦区南京东路 300 号", "黄浦区南京东路300号", "上海市黄浦区南京东路３００号", "黄浦区 南京东路 300号 5楼 502室"):
        match = places.geocode(text)
        assert match.level == "address", text
        assert (match.lat, match.lng) == (31.2370, 121.4830)


def test_a_known_road_with_another_number_is_the_middle_of_its_stores(places):
    match = places.geocode("南京东路 999 号")
    assert match.level == "road" and match.road == "南京东路" and match.district == "黄浦区"
    assert match.lat == pytest.approx((31.2350 + 31.2370) / 2)


def test_a_main_road_without_stores_and_a_neighbourhood_fall_back_to_their_district(places):
    road = places.geocode("淮海中路")
    assert road.level == "district" and road.district == "黄浦区" and road.road == "淮海中路"
    area = places.geocode("五角场万达广场")
    assert area.level == "area" and area.district == "杨浦区"


def test_the_city_in_the_text_or_a_nearby_point_decides_between_same_names(places):
    beijing = places.geocode("北京朝阳区")
    assert beijing.city == "beijing"
    near_shenzhen = places.geocode("人民路", near=(22.65, 114.03))
    assert near_shenzhen.city == "shenzhen"


@pytest.mark.parametrize("text", ["", "   ", "火星基地", "somewhere", "12345"])
def test_unknown_text_is_none_not_a_guess(places, text):
    assert places.geocode(text) is None


def test_reverse_names_the_nearest_known_road_or_else_the_district(places):
    near_store = places.reverse(31.2352, 121.4803)
    assert near_store.district == "黄浦区" and near_store.road == "南京东路"
    assert near_store.label == "黄浦区南京东路附近" and near_store.distance_m < 50
    xuhui = SHANGHAI.districts[1]
    open_field = places.reverse(xuhui.lat - 0.02, xuhui.lng)  # over 2 km from any known store
    assert open_field.road == "" and open_field.district == "徐汇区"
    assert places.reverse(0.0, 0.0) is None  # nowhere near a city we serve


def test_geocode_then_reverse_agree_on_the_district(places):
    for district in SHANGHAI.districts:
        match = places.geocode(district.name)
        assert places.reverse(match.lat, match.lng).district == district.name


def test_normalise():
    assert normalise(" 南京东路　１２ 号 ") == "南京东路12号"


@pytest.mark.django_db
def test_the_api_geocodes_store_addresses_from_the_database():
    store = make_store(name="街角咖啡", address="静安区愚园路 168 号", lat=31.2230, lng=121.4400)
    api = Api()
    match = api.get("/geocode", {"q": "静安区愚园路168号"})
    assert match.status_code == 200, match.content
    assert match.json()["level"] == "address"
    assert haversine_m(match.json()["lat"], match.json()["lng"], store.lat, store.lng) < 1
    reverse = api.get("/geocode/reverse", {"lat": 31.2231, "lng": 121.4401})
    assert reverse.json()["road"] == "愚园路" and reverse.json()["district"] == "静安区"
    missing = api.get("/geocode", {"q": "火星基地"})
    assert missing.status_code == 422 and missing.json()["code"] == "address_not_located"
    assert api.get("/geocode/reverse", {"lat": 91, "lng": 0}).status_code == 422
