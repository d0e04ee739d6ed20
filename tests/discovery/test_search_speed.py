"""The speed-ups of search and nearby keep the answers: early stops that only skip work,
dishes fetched for the page's stores, and pages answered again from memory only while
nothing they depend on has changed."""

from __future__ import annotations

import math

import pytest

from linli.discovery.search import store_search
from linli.discovery.selectors import store_list_nearby
from linli.merchants.models import Product, Store
from tests.discovery.test_search import CENTRE, _at, _reference
from tests.fixtures import make_product, make_store

pytestmark = pytest.mark.django_db


def _pages(q: str, *, radius_m: int, limit: int) -> list[tuple[float, str]]:
    got, cursor = [], None
    while True:
        page = store_search(q=q, **_at(0), radius_m=radius_m, limit=limit, cursor=cursor)
        got += [(i.score, i.store.id) for i in page.items]
        cursor = page.next
        if not cursor:
            return got


def _circle(n: int, radius_m: float, name: str) -> list[Store]:
    return [make_store(name=f"{name}{i:02d}", **_at(radius_m * math.cos(i * 2.4), radius_m * math.sin(i * 2.4)))
            for i in range(n)]


def test_names_beyond_the_first_rings_settle_the_page_and_it_equals_the_reference():
    """Twelve stores named 牛肉面 between 1 and 2.5 km outrank a dozen nearer stores that only
    sell beef: the page is final once the name group is read, without the outer rings."""
    named = [make_store(name=f"老李牛肉面({i}号店)", **_at(1000 + 120 * i, 50 * i)) for i in range(12)]
    sellers = _circle(12, 250, "小吃店")
    for store in sellers:
        make_product(store, name="酱牛肉")
    make_product(named[7], name="红烧牛肉饭", price_fen=2800)
    stores = list(Store.objects.filter(pk__in=[s.pk for s in named + sellers]).select_related("category"))
    for q in ("牛肉", "niurou", "nr"):
        for limit in (5, 20):
            assert _pages(q, radius_m=3000, limit=limit) == _reference(q, stores, 3000), (q, limit)
    page = store_search(q="牛肉", **_at(0), radius_m=3000, limit=5)
    assert [i.score for i in page.items] == [3.5] * 5


def test_a_dish_still_shows_for_a_page_store_found_by_its_name():
    store = make_store(name="老李牛肉面", **_at(2200))
    _circle(3, 2500, "牛肉汤馆")
    dish = make_product(store, name="红烧牛肉面", price_fen=2800)
    make_product(store, name="可乐", price_fen=500)
    page = store_search(q="牛肉", **_at(0), radius_m=3000, limit=2)
    first = page.items[0]
    assert first.store.id == store.public_id and first.score == 3.5
    assert [(p.id, p.name, p.price_fen) for p in first.matched_products] == [
        (dish.public_id, "红烧牛肉面", 2800)]


def test_a_sparse_area_read_at_once_gives_the_reference_answer():
    stores = _circle(6, 2700, "宫保鸡丁专门店") + _circle(5, 1500, "川菜馆")
    for store in stores[6:]:
        make_product(store, name="宫保鸡丁")
    stores = list(Store.objects.filter(pk__in=[s.pk for s in stores]).select_related("category"))
    for q in ("宫保鸡丁", "gongbao", "鸡丁"):
        assert _pages(q, radius_m=3000, limit=3) == _reference(q, stores, 3000), q


def test_a_search_asked_again_is_answered_from_memory(django_assert_num_queries):
    store = make_store(name="喜茶(来福士店)", **_at(400))
    first = store_search(q="喜茶", **_at(0))
    with django_assert_num_queries(1):  # the newest (updated_at, id) of stores and products
        again = store_search(q="喜茶", **_at(0))
    assert again == first and again.items[0].store.id == store.public_id


def test_a_cached_search_is_not_served_after_the_store_is_paused_or_renamed():
    store = make_store(name="喜茶(来福士店)", **_at(400))
    assert store_search(q="喜茶", **_at(0)).items[0].store.is_open is True
    store.status = Store.Status.PAUSED
    store.save()
    assert store_search(q="喜茶", **_at(0)).items[0].store.is_open is False
    store.name = "奈雪的茶(来福士店)"
    store.save()
    assert store_search(q="喜茶", **_at(0)).items == []
    store.status = Store.Status.CLOSED
    store.save()
    assert store_search(q="奈雪", **_at(0)).items == []


def test_a_cached_search_is_not_served_after_a_dish_changes():
    store = make_store(name="老王家常菜", **_at(300))
    dish = make_product(store, name="水煮鱼")
    assert [p.name for p in store_search(q="水煮鱼", **_at(0)).items[0].matched_products] == ["水煮鱼"]
    Product.objects.filter(pk=dish.pk).update(name="酸菜鱼")  # no updated_at: invisible, as documented
    dish.refresh_from_db()
    dish.price_fen = 4200
    dish.save()
    assert store_search(q="水煮鱼", **_at(0)).items == []
    found = store_search(q="酸菜鱼", **_at(0)).items[0].matched_products
    assert [(p.name, p.price_fen) for p in found] == [("酸菜鱼", 4200)]


def test_a_nearby_page_asked_again_is_reused_until_a_store_changes(django_assert_max_num_queries):
    store = make_store(name="一号店", lat=CENTRE[0] + 0.001, lng=CENTRE[1])
    first, _ = store_list_nearby(lat=CENTRE[0], lng=CENTRE[1], radius_m=2000)
    with django_assert_max_num_queries(1):  # the refresh's look for changed rows
        again, _ = store_list_nearby(lat=CENTRE[0], lng=CENTRE[1], radius_m=2000)
    assert again == first and first[0].is_open is True
    store.status = Store.Status.PAUSED
    store.save()
    paused, _ = store_list_nearby(lat=CENTRE[0], lng=CENTRE[1], radius_m=2000)
    assert [s.id for s in paused] == [store.public_id] and paused[0].is_open is False
    store.status = Store.Status.CLOSED
    store.save()
    assert store_list_nearby(lat=CENTRE[0], lng=CENTRE[1], radius_m=2000)[0] == []


def test_the_nearby_answer_joined_from_cards_is_the_json_of_its_items():
    import json

    from linli.discovery.selectors import nearby_page_json

    make_store(name='"引号"店\\ 🍜', lat=CENTRE[0] + 0.001, lng=CENTRE[1], tags=["招牌", 'a"b'],
               address="南京东路 1 号")
    make_store(name="二号店", lat=CENTRE[0] + 0.002, lng=CENTRE[1], tags=[])
    for debug in (False, True):
        items, next_cursor = store_list_nearby(lat=CENTRE[0], lng=CENTRE[1], radius_m=2000, limit=1,
                                               sort="smart", debug=debug)
        assert items[0].card is not None and next_cursor
        expected = json.dumps({"items": [i.as_dict() for i in items], "next": next_cursor},
                              ensure_ascii=False)
        assert nearby_page_json(items, next_cursor) == expected
        assert json.loads(expected)["items"][0]["name"] == '"引号"店\\ 🍜'
    assert nearby_page_json([], None) == json.dumps({"items": [], "next": None})
