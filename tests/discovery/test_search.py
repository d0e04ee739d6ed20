"""GET /search: Chinese, pinyin, initials and typo-tolerant Latin over store names, tags,
categories and dishes; radius and category filters; freshness; bad input."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from linli.discovery.search import store_search
from linli.discovery.search_index import SearchDoc, search_index_rebuild, search_index_refresh
from linli.merchants.models import Product, Store, StoreCategory
from tests.fixtures import Api, make_product, make_store

pytestmark = pytest.mark.django_db

CENTRE = (31.2304, 121.4737)


def _at(north_m: float, east_m: float = 0.0) -> dict[str, float]:
    lat = CENTRE[0] + math.degrees(north_m / 6_371_008.8)
    lng = CENTRE[1] + math.degrees(east_m / (6_371_008.8 * math.cos(math.radians(CENTRE[0]))))
    return {"lat": lat, "lng": lng}


def _search(q: str, **params):
    answer = Api().get("/search", {"q": q, "lat": CENTRE[0], "lng": CENTRE[1], **params})
    assert answer.status_code == 200, answer.content
    return answer.json()


def _names(body) -> list[str]:
    return [item["store"]["name"] for item in body["items"]]


@pytest.fixture
def city():
    """A few real-looking stores around People's Square with their menus."""
    fast_food = StoreCategory.objects.create(slug="fastfood", name_zh="快餐", name_en="Fast food")
    mcd = make_store(name="麦当劳(人民广场店)", category=fast_food, tags=["汉堡", "24小时"], **_at(300))
    kfc = make_store(name="肯德基(南京东路店)", category=fast_food, tags=["炸鸡"], **_at(600))
    wang = make_store(name="老王家常菜", tags=["家常菜", "老字号"], **_at(900))
    sichuan = make_store(name="蜀香川菜馆", **_at(1500))
    far = make_store(name="麦当劳(虹桥店)", category=fast_food, **_at(9000))
    make_product(mcd, name="巨无霸", price_fen=2600)
    make_product(mcd, name="麦辣鸡腿堡", price_fen=2200)
    make_product(kfc, name="香辣鸡腿堡", price_fen=2100)
    make_product(kfc, name="吮指原味鸡", price_fen=1200)
    make_product(wang, name="宫保鸡丁", price_fen=3200)
    make_product(wang, name="鱼香肉丝", price_fen=2800)
    make_product(sichuan, name="宫保鸡丁", price_fen=3600)
    make_product(sichuan, name="水煮鱼", price_fen=6800)
    make_product(far, name="巨无霸", price_fen=2600)
    return {"mcd": mcd, "kfc": kfc, "wang": wang, "sichuan": sichuan, "far": far}


def test_chinese_store_name(city):
    body = _search("麦当劳")
    assert _names(body) == ["麦当劳(人民广场店)"]
    item = body["items"][0]
    assert item["store"]["id"] == city["mcd"].public_id
    assert item["store"]["distance_m"] == 300 and item["store"]["is_open"] is True
    assert item["score"] == 3.5 and body["corrected_query"] is None


@pytest.mark.parametrize("q", ["宫保鸡丁", "mdl", "nonexistent"])
def test_the_answer_is_what_the_schema_says(city, q):
    """The endpoint writes its JSON itself (encoded once per cached page): it must be exactly
    what the documented response schema gives, served from the page cache or not."""
    from linli.discovery.api_search import SearchOut

    for _ in range(2):  # computed, then from the page cache
        body = _search(q, limit=1)
        assert SearchOut.model_validate(body).model_dump(mode="json") == body


def test_a_page_from_the_cache_is_the_page_computed(city):
    """The page cache keeps a page's JSON text only; the page rebuilt from it (what the
    consumer H5 renders) equals the one computed, and its JSON is the text kept."""
    from linli.discovery.search import _pages, store_search

    _pages.pages.clear()
    computed = store_search(q="鸡", lat=CENTRE[0], lng=CENTRE[1], radius_m=3000, limit=2)
    assert computed.items
    (expires, text), = _pages.pages.values()
    assert isinstance(text, str) and text == computed.as_json
    again = store_search(q="鸡", lat=CENTRE[0], lng=CENTRE[1], radius_m=3000, limit=2)
    assert again is not computed and again == computed and again.as_json is text


def test_chinese_dish_finds_stores_selling_it_nearest_first(city):
    body = _search("宫保鸡丁")
    assert _names(body) == ["老王家常菜", "蜀香川菜馆"]
    assert body["items"][0]["matched_products"] == [
        {"id": Product.objects.get(store=city["wang"], name="宫保鸡丁").public_id,
         "name": "宫保鸡丁", "price_fen": 3200}]


def test_part_of_a_dish_name_finds_it(city):
    assert _names(_search("鸡丁")) == ["老王家常菜", "蜀香川菜馆"]
    assert _names(_search("鸡腿堡")) == ["麦当劳(人民广场店)", "肯德基(南京东路店)"]


@pytest.mark.parametrize("q", ["maidanglao", "MaiDangLao", "mdl", "MDL", "maidang", "ｍａｉｄａｎｇｌａｏ"])
def test_pinyin_initials_and_case_find_the_store(city, q):
    assert _names(_search(q)) == ["麦当劳(人民广场店)"]


def test_full_pinyin_of_a_dish(city):
    assert _names(_search("gongbaojiding")) == ["老王家常菜", "蜀香川菜馆"]


def test_typo_in_latin_is_corrected_and_said(city):
    body = _search("maidanglo")
    assert _names(body) == ["麦当劳(人民广场店)"]
    assert body["corrected_query"] == "maidanglao"


def test_pinyin_typed_in_syllables_is_joined(city):
    body = _search("mai dang lao")
    assert _names(body) == ["麦当劳(人民广场店)"]
    assert body["corrected_query"] == "maidanglao"


def test_short_or_far_typos_are_not_corrected(city):
    assert _search("mdx")["items"] == []  # three letters: too short to guess
    body = _search("maixxxglao")  # three edits away
    assert body["items"] == [] and body["corrected_query"] is None


def test_store_name_beats_tag_beats_product_then_distance(city):
    # 汉堡 is a tag of the McDonald's; the KFC sells a 鸡腿堡 but no 汉堡; a store named 汉堡 wins.
    burger = make_store(name="汉堡王", **_at(2000))
    body = _search("汉堡")
    assert _names(body) == ["汉堡王", "麦当劳(人民广场店)"]
    assert [i["score"] for i in body["items"]] == [3.5, 2.5]
    assert burger.public_id == body["items"][0]["store"]["id"]


def test_exact_token_beats_prefix_then_distance(city):
    nearer = make_store(name="麦当劳叔叔", **_at(100))
    # "maidanglao" is a whole token of both names, so the nearer one comes first ...
    body = _search("maidanglao")
    assert [i["store"]["id"] for i in body["items"]] == [nearer.public_id, city["mcd"].public_id]
    assert [i["score"] for i in body["items"]] == [3.5, 3.5]
    # ... "maidanglaoshu" only begins a token of 麦当劳叔叔 (maidanglaoshushu): prefix, 3.0.
    body = _search("maidanglaoshu")
    assert [(i["store"]["id"], i["score"]) for i in body["items"]] == [(nearer.public_id, 3.0)]
    # An exact product match outranks a prefix one, whatever the distance.
    far = make_store(name="咖啡店", **_at(4000))
    make_product(far, name="Latte")
    make_product(city["mcd"], name="Lattemacchiato")
    body = _search("latte", radius_m=5000)
    assert [(i["store"]["name"], i["score"]) for i in body["items"]] == [
        ("咖啡店", 1.5), ("麦当劳(人民广场店)", 1.0)]


def test_category_name_matches(city):
    body = _search("快餐")
    assert _names(body) == ["麦当劳(人民广场店)", "肯德基(南京东路店)"]
    assert {i["score"] for i in body["items"]} == {2.5}


def test_radius_filter(city):
    assert _names(_search("巨无霸", radius_m=5000)) == ["麦当劳(人民广场店)"]
    assert _names(_search("巨无霸", radius_m=10_000)) == ["麦当劳(人民广场店)", "麦当劳(虹桥店)"]
    assert _names(_search("巨无霸", radius_m=200)) == []


def test_large_radius_uses_the_coarse_grid_and_finds_the_same(city):
    near = _search("麦当劳", radius_m=50_000)
    assert _names(near) == ["麦当劳(人民广场店)", "麦当劳(虹桥店)"]


def test_category_filter(city):
    # 鸡 is in the KFC's tag 炸鸡 (a tag match); the McDonald's only sells 麦辣鸡腿堡.
    body = _search("鸡", category="fastfood")
    assert _names(body) == ["肯德基(南京东路店)", "麦当劳(人民广场店)"]
    assert [i["score"] for i in body["items"]] == [2.5, 1.5]
    answer = Api().get("/search", {"q": "鸡", "lat": CENTRE[0], "lng": CENTRE[1], "category": "nope"})
    assert answer.status_code == 422 and answer.json()["code"] == "unknown_category"


def test_result_cards_from_the_nearby_index_equal_the_database(city):
    """A page's stores come from the nearby index, those it does not hold yet from the
    database: both give the same card (open, paused, closed by the hours alike)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from linli.discovery.search import _cards_from_database
    from linli.discovery.selectors import store_cards

    city["wang"].status = Store.Status.PAUSED
    city["wang"].save()
    city["kfc"].opening_hours = [[["09:00", "10:00"]]] * 7
    city["kfc"].save()
    pks = [s.pk for s in city.values()]
    for at in (datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
               datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        from_index = store_cards(pks, at=at)
        assert set(from_index) == set(pks)
        assert from_index == _cards_from_database(pks, at)
    assert from_index[city["wang"].pk].is_open is False and from_index[city["kfc"].pk].is_open is False


def test_a_store_the_nearby_index_has_not_read_yet_is_found_from_the_database(city, settings):
    assert _names(_search("麦当劳")) == ["麦当劳(人民广场店)"]  # the index has read the city
    settings.LINLI_NEARBY_REFRESH_SECONDS = 3600
    new = make_store(name="麦当劳(福州路店)", tags=["汉堡"], **_at(200))
    body = _search("麦当劳")
    assert _names(body) == ["麦当劳(福州路店)", "麦当劳(人民广场店)"]
    assert body["items"][0]["store"] == {"id": new.public_id, "name": "麦当劳(福州路店)", "category": new.category.slug,
                                         "distance_m": 200, "rating": 0.0, "is_open": True}


def test_closed_store_is_not_found_and_paused_shows_closed(city):
    store_search(q="麦当劳", **_at(0))  # indexed
    city["mcd"].status = Store.Status.CLOSED
    city["mcd"].save()
    assert _names(_search("麦当劳")) == []
    city["wang"].status = Store.Status.PAUSED
    city["wang"].save()
    body = _search("老王")
    assert _names(body) == ["老王家常菜"] and body["items"][0]["store"]["is_open"] is False


def test_unavailable_product_is_not_found(city):
    assert "麦当劳(人民广场店)" in _names(_search("巨无霸"))
    product = Product.objects.get(store=city["mcd"], name="巨无霸")
    product.is_available = False
    product.save()
    assert _names(_search("巨无霸")) == []


def test_renamed_product_is_found_by_its_new_name_on_the_next_search(city):
    assert _names(_search("水煮鱼")) == ["蜀香川菜馆"]
    product = Product.objects.get(name="水煮鱼")
    product.name = "酸菜鱼"
    product.save()
    assert _names(_search("酸菜鱼")) == ["蜀香川菜馆"]
    assert _names(_search("水煮鱼")) == []


def test_moved_store_takes_its_products_along(city):
    assert "蜀香川菜馆" in _names(_search("水煮鱼"))
    city["sichuan"].lat, city["sichuan"].lng = _at(20_000)["lat"], _at(20_000)["lng"]
    city["sichuan"].save()
    assert _names(_search("水煮鱼")) == []
    assert _names(_search("水煮鱼", radius_m=25_000)) == ["蜀香川菜馆"]


def test_bulk_update_needs_a_rebuild(city):
    assert _names(_search("水煮鱼")) == ["蜀香川菜馆"]
    Product.objects.filter(name="水煮鱼").update(name="毛血旺")  # bypasses updated_at
    assert _names(_search("毛血旺")) == []
    search_index_rebuild()
    assert _names(_search("毛血旺")) == ["蜀香川菜馆"]


def test_new_store_is_found_without_a_rebuild(city):
    _search("喜茶")
    make_store(name="喜茶(来福士店)", **_at(50))
    assert _names(_search("喜茶")) == ["喜茶(来福士店)"]
    assert _names(_search("xicha")) == ["喜茶(来福士店)"]


def test_with_a_worker_searches_leave_indexing_to_the_beat_task(city, settings):
    """LINLI_SEARCH_INLINE_REFRESH off (a Celery worker runs the beat): a new store is
    findable once the periodic task has indexed it, and the search itself writes nothing."""
    from linli.discovery.tasks import search_index_refresh_task

    settings.LINLI_SEARCH_INLINE_REFRESH = False
    search_index_refresh()
    make_store(name="喜茶(来福士店)", **_at(50))
    assert _names(_search("喜茶")) == []
    assert not SearchDoc.objects.filter(name="喜茶(来福士店)").exists()
    assert search_index_refresh_task() > 0
    assert _names(_search("喜茶")) == ["喜茶(来福士店)"]
    assert _names(_search("xicha")) == ["喜茶(来福士店)"]


def test_a_web_worker_that_does_not_index_loads_no_segmenter_or_dictionaries():
    """Issue 15's memory budget: jieba (~65 MB), pypinyin (~57 MB), scipy (~50 MB) and
    openpyxl stay out of a process that serves the API and parses search queries."""
    probe = (
        "import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'linli.settings');"
        "import django; django.setup(); import linli.urls;"
        "from linli.discovery import search, text;"
        "assert text.query_terms('麦当劳 mdl') and search._Query.__name__;"
        "print(sorted(m for m in ('jieba', 'pypinyin', 'scipy', 'openpyxl') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, "LINLI_LOG_LEVEL": "WARNING"})
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.postgres
def test_a_refresh_leaves_no_pending_gin_entries_for_searches_to_scan(city):
    """New documents wait in the GIN index's pending list, which every search scans in
    full: a refresh that wrote documents merges it (on a 315-store city: 29 -> 7 ms)."""
    from django.db import connection

    search_index_refresh()
    make_store(name="喜茶(来福士店)", **_at(50))
    assert search_index_refresh() > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('discovery_search_doc_fts')")
        assert cursor.fetchone()[0] == 0  # pages still pending: none
    assert _names(_search("喜茶")) == ["喜茶(来福士店)"]


def test_refresh_is_a_no_op_when_nothing_changed(city, django_assert_max_num_queries):
    search_index_refresh()
    with django_assert_max_num_queries(1):
        assert search_index_refresh() == 0


def test_cursor_pages_cover_every_store_once_in_order():
    stores = [make_store(name=f"兰州拉面{i:02d}号店", **_at(100 * (i + 1), 37 * i)) for i in range(23)]
    seen, cursor = [], None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        body = _search("兰州拉面", **params)
        seen += [i["store"]["id"] for i in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert seen == [s.public_id for s in stores]


def test_at_most_three_matched_products_exact_first(city):
    for name in ("鸡米花", "鸡块", "鸡翅", "炸鸡"):
        make_product(city["kfc"], name=name)
    body = _search("鸡", category="fastfood")
    kfc = next(i for i in body["items"] if i["store"]["name"].startswith("肯德基"))
    assert len(kfc["matched_products"]) == 3


@pytest.mark.parametrize(("q", "code"), [
    ("", "query_empty"), ("   ", "query_empty"), ("麦" * 51, "query_too_long"),
    ("x" * 500, "query_too_long"),
])
def test_bad_query_text(q, code):
    answer = Api().get("/search", {"q": q, "lat": CENTRE[0], "lng": CENTRE[1]})
    assert answer.status_code == 422 and answer.json()["code"] == code


def test_missing_query_is_query_empty():
    answer = Api().get("/search", {"lat": CENTRE[0], "lng": CENTRE[1]})
    assert answer.status_code == 422 and answer.json()["code"] == "query_empty"


@pytest.mark.parametrize("params", [
    {"lat": 91, "lng": 121}, {"lat": 31, "lng": 181}, {"lat": "x", "lng": 121}, {"lng": 121},
    {"lat": 31, "lng": 121, "radius_m": 0}, {"lat": 31, "lng": 121, "radius_m": 50_001},
    {"lat": 31, "lng": 121, "limit": 0}, {"lat": 31, "lng": 121, "limit": 51},
])
def test_bad_coordinates_radius_and_limit(params):
    answer = Api().get("/search", {"q": "面", **params})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_input"


def test_garbage_cursor(city):
    for cursor in ("!!not-a-cursor", "WzEsMiwic3RvX25vcGUiXQ"):  # the second: a store that is not there
        answer = Api().get("/search", {"q": "面", "lat": CENTRE[0], "lng": CENTRE[1], "cursor": cursor})
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_cursor"


def test_punctuation_only_finds_nothing(city):
    assert _search("！？…")["items"] == []


def test_seeded_city_is_searchable_without_a_rebuild():
    call_command("seed", merchants=30, users=1, riders=1, seed=1, verbosity=0)
    store = Store.objects.filter(name__contains="(").order_by("pk").first()
    product = Product.objects.filter(store=store).order_by("pk").first()
    near = {"lat": store.lat, "lng": store.lng, "radius_m": 100}
    found = store_search(q=product.name, **near)
    assert store.public_id in [i.store.id for i in found.items]
    brand = store.name.split("(")[0]
    assert store.public_id in [i.store.id for i in store_search(q=brand, **near).items]
    assert SearchDoc.objects.filter(kind="product").count() == Product.objects.count()


def test_reindex_command_and_periodic_task(city):
    from io import StringIO

    from linli.discovery.tasks import search_index_refresh_task

    out = StringIO()
    call_command("search_reindex", stdout=out, verbosity=0)
    assert "Indexed 14 documents (all cities)" in out.getvalue()  # 5 stores + 9 products
    call_command("search_reindex", "--city", "beijing", stdout=out, verbosity=0)
    assert "Indexed 0 documents (city beijing)" in out.getvalue()
    assert _names(_search("巨无霸")) == ["麦当劳(人民广场店)"]  # the city survives a rebuild
    product = Product.objects.get(name="巨无霸", store=city["mcd"])
    product.name = "双层吉士堡"
    product.save()
    assert search_index_refresh_task() == 1
    assert _names(_search("吉士堡")) == ["麦当劳(人民广场店)"]


def test_operators_manage_banners_and_hot_stores_in_the_back_office(client, city):
    from linli.accounts.models import User

    admin = User.objects.create_superuser(username="ops-admin", password="x-secret-42")
    client.force_login(admin)
    for path in ("/ops/discovery/banner/", "/ops/discovery/banner/add/",
                 "/ops/discovery/hotstore/", "/ops/discovery/hotstore/add/"):
        assert client.get(path).status_code == 200, path


def _reference(q: str, stores, radius_m: float) -> list[tuple[float, str]]:
    """The answer worked out the slow way: every store, every document, no index, no rings."""
    from linli.discovery.geo import haversine_m
    from linli.discovery.text import index_tokens, query_terms

    docs = []  # (store, kind, name tokens, other tokens)
    for store in stores:
        extra = [*store.tags, store.category.name_zh, store.category.name_en, store.category.slug]
        docs.append((store, "store", set(index_tokens(store.name)),
                     {t for e in extra for t in index_tokens(e)}))
        for product in store.products.filter(is_available=True):
            docs.append((store, "product", set(index_tokens(product.name)), set()))
    vocabulary = {t for _, _, name, other in docs for t in name | other if t.isascii()}
    terms = query_terms(q)
    alternatives = [[t.token, *sorted((w for w in vocabulary if w.startswith(t.token) and w != t.token),
                                      key=lambda w: (len(w), w))[:16]] if t.prefix else [t.token]
                    for t in terms]

    def found(pool):
        return all(any(a in pool for a in alts) for alts in alternatives)

    def exact(pool):
        return all(t.token in pool for t in terms)

    best: dict[int, float] = {}
    for store, kind, name, other in docs:
        if kind == "store":
            pool, base = (name, 3.0) if found(name) else (name | other, 2.0)
            score = base + 0.5 * exact(pool) if found(name | other) else 0
        else:
            score = (1.0 + 0.5 * exact(name)) if found(name) else 0
        if score:
            best[store.pk] = max(best.get(store.pk, 0), score)
    by_pk = {s.pk: s for s in stores}
    rows = []
    for pk, score in best.items():
        s = by_pk[pk]
        d = round(haversine_m(CENTRE[0], CENTRE[1], s.lat, s.lng), 3)
        if d <= radius_m:
            rows.append((-score, d, pk))
    return [(-neg, by_pk[pk].public_id) for neg, _, pk in sorted(rows)]


def test_ranking_equals_a_brute_force_reference_page_by_page():
    """Rings, early stops and cursors must give exactly the full sort's answer."""
    import random

    rnd = random.Random(7)
    brands = ["老王", "兰州", "喜茶", "肯德基", "麦当劳", "蜀香", "一点点"]
    kinds = ["家常菜", "拉面", "奶茶", "炸鸡", "汉堡", "川菜"]
    dishes = ["宫保鸡丁", "牛肉拉面", "珍珠奶茶", "香辣鸡腿堡", "麻婆豆腐", "米饭", "可乐", "鸡米花"]
    tags = [["招牌"], ["老字号"], ["汉堡"], [], [], ["24小时", "奶茶"]]
    stores = []
    for i in range(70):  # dense in the middle, so the small rings can settle a page early
        r = 1500 * rnd.random() ** 0.7 if i < 60 else 1500 + 1400 * rnd.random()
        theta = rnd.random() * 6.283
        store = make_store(name=f"{rnd.choice(brands)}{rnd.choice(kinds)}({i}号店)",
                           tags=rnd.choice(tags), **_at(r * math.cos(theta), r * math.sin(theta)))
        for dish in rnd.sample(dishes, rnd.randint(0, 4)):
            make_product(store, name=dish)
        stores.append(store)
    stores = list(Store.objects.filter(pk__in=[s.pk for s in stores]).select_related("category"))
    compared = 0
    for q in ["宫保鸡丁", "鸡", "奶茶", "lamian", "mdl", "jia", "汉堡", "老王家常菜", "kendeji", "米饭"]:
        for radius in (900, 3000):
            expected = _reference(q, stores, radius)
            got, cursor = [], None
            while True:
                page = store_search(q=q, **_at(0), radius_m=radius, limit=4, cursor=cursor)
                got += [(i.score, i.store.id) for i in page.items]
                cursor = page.next
                if not cursor:
                    break
            assert got == expected, (q, radius)
            compared += len(expected)
    assert compared > 200  # the comparison is not vacuous


@hsettings(max_examples=300, deadline=None)
@given(lat=st.floats(-60, 60), lng=st.floats(-170, 170), radius=st.floats(1, 50_000),
       bearing=st.floats(0, 2 * math.pi), frac=st.floats(0, 1))
def test_the_blocks_of_a_circle_hold_every_point_inside_it(lat, lng, radius, bearing, frac):
    from linli.discovery.geo import haversine_m
    from linli.discovery.quadtree import MAX_BLOCKS, cover, quadkey

    d = radius * frac
    plat = lat + math.degrees(d * math.cos(bearing) / 6_371_008.8)
    plng = lng + math.degrees(d * math.sin(bearing) / (6_371_008.8 * math.cos(math.radians(lat))))
    blocks = cover(lat, lng, radius)
    assert 1 <= len(blocks) <= MAX_BLOCKS
    if haversine_m(lat, lng, plat, plng) <= radius:
        key = quadkey(plat, plng)
        assert any(key.startswith(b) for b in blocks)


def _reference_cover(lat: float, lng: float, radius_m: float) -> list[str]:
    """cover() as first written: the same splitting, with plain haversine distances and the
    quadkey digit by digit. The fast one must give exactly the same blocks."""
    import heapq

    from linli.discovery.geo import bounding_box, haversine_m
    from linli.discovery.quadtree import CELL_DEG, MAX_BLOCKS, QUAD_LEVELS, _cell

    def key(i: int, j: int, level: int) -> str:
        return "".join(str(((i >> b) & 1) * 2 + ((j >> b) & 1))
                       for b in range(QUAD_LEVELS - 1, QUAD_LEVELS - 1 - level, -1))

    def corner(i: int, j: int, shift: int) -> tuple[float, float, float]:
        return (i << shift) * CELL_DEG - 90.0, (j << shift) * CELL_DEG - 180.0, CELL_DEG * (1 << shift)

    def near(i: int, j: int, shift: int) -> float:
        lat0, lng0, size = corner(i, j, shift)
        return haversine_m(lat, lng, min(max(lat, lat0), lat0 + size), min(max(lng, lng0), lng0 + size))

    def far(i: int, j: int, shift: int) -> float:
        lat0, lng0, size = corner(i, j, shift)
        return max(haversine_m(lat, lng, lat0 + di, lng0 + dj) for di in (0, size) for dj in (0, size))

    reach = radius_m + 1.0
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, reach)
    (i0, j0), (i1, j1) = _cell(min_lat, min_lng), _cell(max_lat, max_lng)
    shift = 0
    while ((i1 >> shift) - (i0 >> shift) + 1) * ((j1 >> shift) - (j0 >> shift) + 1) > 4:
        shift += 1
    done, todo = [], []
    for i in range(i0 >> shift, (i1 >> shift) + 1):
        for j in range(j0 >> shift, (j1 >> shift) + 1):
            if near(i, j, shift) <= reach:
                if shift == 0 or far(i, j, shift) <= radius_m:
                    done.append((i, j, shift))
                else:
                    heapq.heappush(todo, (-shift, i, j, shift))
    while todo:
        _, i, j, size = heapq.heappop(todo)
        children = [(ci, cj, size - 1 == 0 or far(ci, cj, size - 1) <= radius_m)
                    for ci in (2 * i, 2 * i + 1) for cj in (2 * j, 2 * j + 1) if near(ci, cj, size - 1) <= reach]
        if len(done) + len(todo) + len(children) > MAX_BLOCKS:
            done.append((i, j, size))
            continue
        for ci, cj, settled in children:
            if settled:
                done.append((ci, cj, size - 1))
            else:
                heapq.heappush(todo, (-(size - 1), ci, cj, size - 1))
    return sorted(key(i << size, j << size, QUAD_LEVELS - size) for i, j, size in done)


def test_the_fast_cover_gives_exactly_the_reference_blocks():
    import random

    from linli.discovery.quadtree import _quadkey, cover

    rnd = random.Random(7)
    for _ in range(3000):
        lat, lng = rnd.uniform(-60, 60), rnd.uniform(-170, 170)
        if rnd.random() < 0.5:  # city scale, where searches are
            lat, lng = 31.23 + rnd.uniform(-0.3, 0.3), 121.47 + rnd.uniform(-0.3, 0.3)
        radius = rnd.choice([300, 600, 1200, 2500, 5000, 20_000, rnd.uniform(1, 50_000)])
        assert cover(lat, lng, radius) == _reference_cover(lat, lng, radius), (lat, lng, radius)
    for _ in range(20_000):
        i, j, level = rnd.randrange(2**16), rnd.randrange(2**17), rnd.randrange(18)
        expected = "".join(str(((i >> b) & 1) * 2 + ((j >> b) & 1)) for b in range(16, 16 - level, -1))
        assert _quadkey(i, j, level) == expected


def test_a_circle_covered_again_is_remembered_and_the_same():
    from linli.discovery.quadtree import cover, cover_blocks

    cover_blocks.cache_clear()
    first = cover_blocks(31.2304, 121.4737, 1800)
    assert first == tuple(cover(31.2304, 121.4737, 1800)) and len(first) >= 1
    assert cover_blocks(31.2304, 121.4737, 1800) is first  # no second cover
    assert cover_blocks.cache_info().hits == 1
    assert cover_blocks(31.2304, 121.4737, 800) == tuple(cover(31.2304, 121.4737, 800))


@pytest.mark.postgres
@pytest.mark.parametrize("outer_transaction", [False, True])
def test_a_search_plans_with_the_gin_index_and_leaves_the_settings_as_they_were(outer_transaction):
    from contextlib import nullcontext

    from django.db import connection, transaction

    from linli.discovery.search_index import index_session

    def setting(name: str) -> str:
        with connection.cursor() as cursor:
            cursor.execute(f"SHOW {name}")
            return cursor.fetchone()[0]

    names = ("enable_seqscan", "max_parallel_workers_per_gather", "jit")
    before = [setting(n) for n in names]
    assert before[0] == "on"
    with transaction.atomic() if outer_transaction else nullcontext():
        with index_session():
            assert [setting(n) for n in names] == ["off", "0", "off"]
        assert [setting(n) for n in names] == before
