"""Recommendations on the platform: nightly training from orders, "guess you like" for a
user or a visitor at a point, "also bought" on a store, and the pages that show them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from linli.discovery.models import RecommenderRun, StoreAlsoBought, StoreRecommendation
from linli.discovery.recommendations import recommendations_train
from linli.merchants.models import Store
from tests.fixtures import Api, make_product, make_store, token_api
from tests.reviews.helpers import consumer, order_done

pytestmark = pytest.mark.django_db

POINT = {"lat": 31.2304, "lng": 121.4737}


@pytest.fixture
def city():
    """Noodle fans order at A and B; coffee fans at C and D; everyone knows the big E."""
    names = {"A": ("面馆", "noodles"), "B": ("拉面", "noodles"), "C": ("咖啡", "coffee"),
             "D": ("茶饮", "drinks"), "E": ("大食堂", "canteen")}
    stores = {}
    for i, (key, (name, _cat)) in enumerate(names.items()):
        store = make_store(name=name, lat=31.2304 + i * 0.002, lng=121.4737)
        stores[key] = (store, make_product(store, stock=1000))
    fans = {"noodle": [consumer() for _ in range(6)], "coffee": [consumer() for _ in range(6)]}
    for user in fans["noodle"]:
        for key in ("A", "B", "E"):
            order_done(*stores[key], user)
    for user in fans["coffee"]:
        for key in ("C", "D", "E"):
            order_done(*stores[key], user)
    newcomer = consumer()
    order_done(*stores["A"], newcomer)  # has ordered only at A
    Store.objects.filter(pk=stores["E"][0].pk).update(sales_30d=900)
    return {k: v[0] for k, v in stores.items()}, newcomer


def test_training_writes_candidates_neighbours_and_a_run(city):
    stores, newcomer = city
    out = StringIO()
    call_command("recommend_train", stdout=out)
    assert "orders read" in out.getvalue() and "rows written" in out.getvalue()
    run = RecommenderRun.objects.get()
    assert (run.orders, run.users, run.stores) == (37, 13, 5)
    neighbours = list(StoreAlsoBought.objects.filter(store=stores["A"]).order_by("rank")
                      .values_list("other__name", flat=True))
    assert neighbours[0] == "拉面" and "咖啡" not in neighbours[:1]
    mine = list(StoreRecommendation.objects.filter(user=newcomer).order_by("rank").values_list("store__name", flat=True))
    assert mine[0] in ("拉面", "大食堂")
    recommendations_train()  # a second run replaces, never duplicates
    assert StoreRecommendation.objects.filter(user=newcomer).count() == len(mine)


def test_guess_you_like_is_personal_with_a_token_and_popular_without(city):
    stores, newcomer = city
    recommendations_train()
    personal = token_api(newcomer).get("/recommendations", POINT).json()
    assert personal, personal
    why = {r["name"]: r["why"] for r in personal}
    assert why["拉面"] == "for_you"
    assert personal.index(next(r for r in personal if r["name"] == "拉面")) < \
        personal.index(next(r for r in personal if r["name"] == "咖啡"))
    visitor = Api().get("/recommendations", POINT).json()
    assert {r["why"] for r in visitor} == {"popular_nearby"}
    assert visitor[0]["name"] == "大食堂"  # the district's most popular
    categories = [r["category"] for r in personal]
    assert all(a != b for a, b in zip(categories, categories[1:])) or len(set(categories)) == 1


def test_closed_and_far_stores_are_not_recommended(city):
    stores, newcomer = city
    recommendations_train()
    Store.objects.filter(pk=stores["B"].pk).update(status=Store.Status.PAUSED)
    names = {r["name"] for r in token_api(newcomer).get("/recommendations", POINT).json()}
    assert "拉面" not in names
    far = token_api(newcomer).get("/recommendations", {"lat": 39.9042, "lng": 116.4074}).json()
    assert far == []  # Beijing: nothing within reach


def test_also_bought_on_the_api_and_the_pages(city, client):
    stores, newcomer = city
    recommendations_train()
    answer = Api().get(f"/stores/{stores['C'].public_id}/also-bought").json()
    assert answer[0]["name"] == "茶饮" and answer[0]["why"] == "also_bought"
    page = client.get(f"/stores/{stores['C'].public_id}").content.decode()
    assert 'data-testid="also-bought"' in page and "茶饮" in page
    client.force_login(newcomer)
    home = client.get("/", POINT).content.decode()
    assert 'data-testid="guess"' in home and 'data-why="for_you"' in home


def test_bad_inputs_get_clear_errors(city):
    stores, _newcomer = city
    for params in ({"lat": 91, "lng": 121.47}, {"lat": 31.2}, {"lat": "x", "lng": 1}, {**POINT, "limit": 0}):
        answer = Api().get("/recommendations", params)
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_input", params
    half = Api().get(f"/stores/{stores['A'].public_id}/also-bought", {"lat": 31.2})
    assert half.status_code == 422
    assert Api().get("/stores/sto_nope/also-bought").status_code == 404
    assert Api(token="not-a-token").get("/recommendations", POINT).status_code == 401
