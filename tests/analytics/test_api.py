"""The report API: numbers from the daily tables, and every bad input a 4xx with a code."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from linli.accounts.models import User
from linli.analytics.models import ActiveDay, CohortWeek, PlatformDay, StoreDay, StoreItemDay
from tests.fixtures import make_staff, make_store, token_api

pytestmark = pytest.mark.django_db
D = date(2026, 3, 10)


def day_row(store, day, *, orders=2, sales=10_000, district="86309a6afffffff", **fields):
    return StoreDay.objects.create(day=day, store_id=store.pk, merchant_id=store.merchant_id, city_code="shanghai",
                                   district=district, category_id=store.category_id, online_orders=orders,
                                   online_sales_fen=sales, hours=[1] * 24, **fields)


@pytest.fixture
def owner_api(store):
    return token_api(store.merchant.members.get(role="owner").user)


def url(store):
    return f"/merchant/stores/{store.public_id}/analytics"


def test_series_summary_and_items(store, owner_api):
    day_row(store, D, orders=2, sales=10_000, new_buyers=1, returning_buyers=1, reviews=2, stars_sum=9)
    day_row(store, D + timedelta(days=1), orders=1, sales=3_001, new_buyers=1)
    StoreItemDay.objects.create(day=D, store_id=store.pk, product_id=1, name="宫保鸡丁", quantity=3, sales_fen=9600)
    sales = owner_api.get(url(store), {"metric": "sales", "from": "2026-03-10", "to": "2026-03-12"})
    assert sales.status_code == 200, sales.content
    assert [(p["period"], p["value"]) for p in sales.json()["series"]] == [
        ("2026-03-10", 10_000), ("2026-03-11", 3_001), ("2026-03-12", 0)]
    summary = owner_api.get(url(store), {"metric": "summary", "from": "2026-03-10", "to": "2026-03-12"}).json()
    assert summary["data"]["aov_fen"] == 4334  # 13001 / 3, half up
    assert summary["data"]["repeat_rate"] == round(1 / 3, 4)
    weekly = owner_api.get(url(store), {"metric": "orders", "from": "2026-03-09", "to": "2026-03-22",
                                        "granularity": "week"}).json()
    assert [(p["period"], p["value"]) for p in weekly["series"]] == [("2026-03-09", 3), ("2026-03-16", 0)]
    items = owner_api.get(url(store), {"metric": "items", "from": "2026-03-10", "to": "2026-03-10"}).json()
    assert items["data"]["best"][0] == {"name": "宫保鸡丁", "quantity": 3, "sales_fen": 9600}
    heat = owner_api.get(url(store), {"metric": "heatmap", "from": "2026-03-10", "to": "2026-03-11"}).json()
    assert heat["data"][1][0] == 1 and heat["data"][2][23] == 1  # Tuesday and Wednesday


def test_comparison_with_last_week(store, owner_api):
    day_row(store, D, orders=4, sales=20_000)
    day_row(store, D - timedelta(days=7), orders=2, sales=10_000)
    data = owner_api.get(url(store), {"metric": "comparison", "from": "2026-03-10", "to": "2026-03-10"}).json()["data"]
    assert data["week"]["values"]["sales_fen"] == {"now": 20_000, "before": 10_000, "change": 1.0}
    assert data["month"]["values"]["sales_fen"]["change"] is None  # nothing a month before


def test_district_average_only_with_five_other_stores(store, owner_api):
    day_row(store, D, orders=1, sales=1_000)
    others = [make_store(name=f"同行{i}") for i in range(5)]
    for i, other in enumerate(others[:4]):
        day_row(other, D, orders=2, sales=2_000 * (i + 1))
    q = {"metric": "peers", "from": "2026-03-10", "to": "2026-03-10"}
    hidden = owner_api.get(url(store), q).json()["data"]
    assert hidden["shown"] is False and hidden["sales_fen"] is None and hidden["stores"] is None
    day_row(others[4], D, orders=2, sales=10_000)
    shown = owner_api.get(url(store), q).json()["data"]
    assert shown["shown"] is True and shown["stores"] == 5 and shown["sales_fen"] == 6_000
    day_row(make_store(name="别区"), D, sales=999_999, district="86309a6b7ffffff")  # another district: not a peer
    assert owner_api.get(url(store), q).json()["data"]["sales_fen"] == 6_000


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"metric": "profit"}, 422, "analytics_unknown_metric"),
    ({"metric": "sales", "granularity": "fortnight"}, 422, "analytics_unknown_granularity"),
    ({"metric": "sales", "granularity": "minute"}, 422, "analytics_granularity_too_fine"),
    ({"metric": "sales", "from": "2026-03-10", "to": "2026-03-01"}, 422, "analytics_range_reversed"),
    ({"metric": "sales", "from": "2024-01-01", "to": "2026-01-01"}, 422, "analytics_range_too_long"),
    ({"metric": "sales", "from": "10/03/2026"}, 422, "analytics_bad_date"),
])
def test_bad_store_requests(store, owner_api, params, status, code):
    answer = owner_api.get(url(store), params)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.content
    assert answer.json()["message"]


def test_another_merchants_store_is_not_found_and_a_cashier_is_refused(store, owner_api):
    stranger = make_store(name="别家")
    answer = owner_api.get(url(stranger), {"metric": "sales"})
    assert (answer.status_code, answer.json()["code"]) == (404, "store_not_found")
    assert owner_api.get(f"/merchant/stores/{stranger.public_id}/analytics/export").status_code == 404
    cashier = token_api(make_staff(store, role="cashier"))
    assert cashier.get(url(store), {"metric": "sales"}).status_code == 403


def test_exports_csv_and_xlsx(store, owner_api):
    day_row(store, D, orders=2, sales=10_000)
    csv_answer = owner_api.get(f"{url(store)}/export", {"format": "csv", "from": "2026-03-10", "to": "2026-03-11"})
    assert csv_answer.status_code == 200 and csv_answer["Content-Type"].startswith("text/csv")
    lines = csv_answer.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("period,sales_yuan,orders") and lines[1].startswith("2026-03-10,100.0,2")
    assert len(lines) == 3
    xlsx = owner_api.get(f"{url(store)}/export", {"format": "xlsx", "from": "2026-03-10", "to": "2026-03-10"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[2]][:3] == ["2026-03-10", 100, 2]
    year_by_minute = owner_api.get(f"{url(store)}/export", {"format": "csv", "from": "2025-03-11",
                                                            "to": "2026-03-10", "granularity": "minute"})
    assert (year_by_minute.status_code, year_by_minute.json()["code"]) == (422, "analytics_granularity_too_fine")
    pdf = owner_api.get(f"{url(store)}/export", {"format": "pdf"})
    assert (pdf.status_code, pdf.json()["code"]) == (422, "analytics_unknown_format")


@pytest.fixture
def operator_api():
    return token_api(User.objects.create_user(username="op", platform_role="operator"))


def test_platform_report_by_city_and_channel(operator_api, store):
    for city, channel, gmv, orders in (("shanghai", "online", 10_000, 2), ("shanghai", "pos", 3_000, 1),
                                       ("hangzhou", "online", 5_000, 1)):
        PlatformDay.objects.create(day=D, city_code=city, category_id=store.category_id, channel=channel,
                                   orders=orders, gmv_fen=gmv, commission_fen=gmv // 10, views=10)
    ActiveDay.objects.create(day=D, city_code="", dau=7, mau=30)
    CohortWeek.objects.create(cohort=date(2026, 3, 9), week=date(2026, 3, 9), offset=0, customers=4)
    CohortWeek.objects.create(cohort=date(2026, 3, 9), week=date(2026, 3, 16), offset=1, customers=1)
    q = {"from": "2026-03-10", "to": "2026-03-10"}
    by_city = operator_api.get("/ops/analytics", {**q, "metric": "gmv", "by": "city"}).json()["series"]
    assert {p["group"]: p["value"] for p in by_city} == {"hangzhou": 5_000, "shanghai": 13_000}
    by_channel = operator_api.get("/ops/analytics", {**q, "metric": "gmv", "by": "channel"}).json()["series"]
    assert {p["group"]: p["value"] for p in by_channel} == {"online": 15_000, "pos": 3_000}
    summary = operator_api.get("/ops/analytics", {**q, "metric": "summary"}).json()["data"]
    assert (summary["gmv_fen"], summary["orders"], summary["dau"], summary["mau"]) == (18_000, 4, 7, 30)
    assert summary["take_rate"] == 0.1
    retention = operator_api.get("/ops/analytics", {"metric": "retention", "from": "2026-03-09",
                                                    "to": "2026-03-22"}).json()["data"]
    assert retention[0]["customers"] == 4 and retention[0]["retention"][:2] == [1.0, 0.25]


def test_platform_bad_inputs_and_who_may_ask(operator_api, store):
    unknown_by = operator_api.get("/ops/analytics", {"metric": "gmv", "by": "weather"})
    assert (unknown_by.status_code, unknown_by.json()["code"]) == (422, "analytics_unknown_dimension")
    dau_by_channel = operator_api.get("/ops/analytics", {"metric": "dau", "by": "channel"})
    assert (dau_by_channel.status_code, dau_by_channel.json()["code"]) == (422, "analytics_unknown_dimension")
    owner = token_api(store.merchant.members.get(role="owner").user)
    assert owner.get("/ops/analytics", {"metric": "gmv"}).status_code == 403
