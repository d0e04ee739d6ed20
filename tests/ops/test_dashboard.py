"""The dashboard's numbers: what counts as today (the city's day, from local midnight),
what GMV counts (paid orders, not cancelled ones), and who may see them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from linli.accounts.models import User
from linli.merchants.models import MerchantApplication
from linli.ops import charts, selectors
from tests.fixtures import make_product, make_rider, make_store

from .helpers import order_at, staff_client, submitted_application

pytestmark = pytest.mark.django_db

# 2025-03-10 12:00 in Shanghai (UTC+8); its local midnight is 2025-03-09 16:00 UTC.
NOW = datetime(2025, 3, 10, 4, 0, tzinfo=UTC)
MIDNIGHT = datetime(2025, 3, 9, 16, 0, tzinfo=UTC)
TODAY, YESTERDAY = date(2025, 3, 10), date(2025, 3, 9)


@pytest.fixture
def city():
    store = make_store()
    cheap, dear = make_product(store, name="葱油拌面", price_fen=1500), make_product(store, name="红烧肉", price_fen=4800)
    consumer = User.objects.create_user("+8613800138555", phone="+8613800138555",
                                        date_joined=NOW - timedelta(days=30))
    second = timedelta(seconds=1)
    orders = {
        # placed and paid one second before local midnight: yesterday's
        "late": order_at(store, cheap, consumer, created=MIDNIGHT - second * 60, paid=MIDNIGHT - second),
        # paid at local midnight exactly: today's, hour 0
        "midnight": order_at(store, dear, consumer, created=MIDNIGHT - second * 30, paid=MIDNIGHT),
        # 11:30 local, paid a minute later
        "noon": order_at(store, dear, consumer, created=MIDNIGHT + timedelta(hours=11, minutes=30),
                         paid=MIDNIGHT + timedelta(hours=11, minutes=31), quantity=2),
        # placed today, never paid
        "unpaid": order_at(store, cheap, consumer, created=MIDNIGHT + timedelta(hours=9)),
        # paid today, then cancelled (refunded): an order, not GMV
        "cancelled": order_at(store, dear, consumer, created=MIDNIGHT + timedelta(hours=9, minutes=5),
                              paid=MIDNIGHT + timedelta(hours=9, minutes=6), status="cancelled"),
        # three days ago
        "older": order_at(store, cheap, consumer, created=MIDNIGHT - timedelta(days=2, hours=1),
                          paid=MIDNIGHT - timedelta(days=2, hours=1) + second, status="completed"),
    }
    return orders


def test_today_is_the_city_day_and_gmv_counts_paid_orders_only(city):
    board = selectors.dashboard(now=NOW)
    midnight, noon = city["midnight"], city["noon"]
    assert board.day == TODAY and board.tz == "Asia/Shanghai"
    # placed today: noon, unpaid, cancelled (midnight and late were placed before midnight)
    assert board.orders == 3
    # paid today and not cancelled: midnight (at 00:00:00 exactly) and noon
    assert board.paid_orders == 2
    assert board.gmv_fen == midnight.total_fen + noon.total_fen
    assert board.gmv_fen != sum(o.total_fen for o in city.values())  # sanity: the others differ

    hours = {p.hour: p for p in board.per_hour}
    assert len(board.per_hour) == 24
    assert hours[0].gmv_fen == midnight.total_fen and hours[0].orders == 0
    assert hours[11].orders == 1 and hours[11].gmv_fen == noon.total_fen
    assert hours[9].orders == 2 and hours[9].gmv_fen == 0  # unpaid + cancelled
    assert sum(p.orders for p in board.per_hour) == board.orders
    assert sum(p.gmv_fen for p in board.per_hour) == board.gmv_fen


def test_the_seven_days_end_today_and_put_midnight_on_the_right_side(city):
    days = selectors.dashboard(now=NOW).days
    assert [d.day for d in days] == [TODAY - timedelta(days=6 - i) for i in range(7)]
    by_day = {d.day: d for d in days}
    assert by_day[YESTERDAY].orders == 2  # late, midnight: both placed before 00:00
    assert by_day[YESTERDAY].paid_orders == 1 and by_day[YESTERDAY].gmv_fen == city["late"].total_fen
    assert by_day[TODAY].paid_orders == 2
    older = by_day[date(2025, 3, 7)]
    assert (older.orders, older.paid_orders, older.gmv_fen) == (1, 1, city["older"].total_fen)
    assert by_day[date(2025, 3, 8)] == selectors.DayPoint(date(2025, 3, 8), 0, 0, 0)


def test_one_second_before_local_midnight_is_still_yesterday(city):
    board = selectors.dashboard(now=MIDNIGHT - timedelta(seconds=1))
    assert board.day == YESTERDAY
    assert board.paid_orders == 1 and board.gmv_fen == city["late"].total_fen
    assert board.orders == 2
    assert selectors.dashboard(now=MIDNIGHT).day == TODAY


def test_new_users_pending_applications_and_riders_online():
    for name, joined in (("a", MIDNIGHT), ("b", NOW), ("c", MIDNIGHT - timedelta(seconds=1))):
        User.objects.create_user(f"joined-{name}", date_joined=joined)
    applicant = User.objects.create_user("applicant", date_joined=NOW - timedelta(days=3))
    submitted_application(applicant)
    submitted_application(User.objects.create_user("applicant2", date_joined=NOW - timedelta(days=3)))
    submitted_application(applicant, status=MerchantApplication.Status.DRAFT)
    make_rider(lat=31.23, lng=121.47, online=True)
    make_rider(lat=31.23, lng=121.47, online=True)
    make_rider(lat=31.23, lng=121.47, online=False)
    User.objects.filter(username__startswith="+86").update(date_joined=NOW - timedelta(days=9))
    board = selectors.dashboard(now=NOW)
    assert board.new_users == 2  # a (at midnight) and b; c joined a second before midnight
    assert board.pending_applications == 2
    assert board.online_riders == 2


def test_the_dashboard_page_shows_todays_numbers_and_charts():
    store = make_store()
    product = make_product(store, price_fen=1234)
    consumer = User.objects.create_user("+8613800138556", phone="+8613800138556")
    now = timezone.now()
    paid = order_at(store, product, consumer, created=now, paid=now)
    order_at(store, product, consumer, created=now)  # not paid
    client = staff_client()
    page = client.get("/ops/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "邻里 Linli 运营后台" in html
    assert "ops/ops.css" in html
    assert 'data-testid="ops-gmv"' in html and charts.yuan(paid.total_fen) in html
    board = page.context["board"]
    assert (board.orders, board.paid_orders, board.gmv_fen) == (2, 1, paid.total_fen)
    assert html.count("<svg") >= 2 and "<polyline" in html
    # the model lists stay reachable
    for url in ("/ops/orders/order/", "/ops/merchants/merchantapplication/", "/ops/merchants/store/"):
        assert f'href="{url}"' in html, url
    assert "/ops/merchants/merchantapplication/?status__exact=submitted" in html


def test_only_staff_get_in_everyone_else_goes_to_the_login_page():
    anonymous = Client().get("/ops/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/ops/login/")
    consumer = User.objects.create_user("+8613800138557", phone="+8613800138557", password="long-enough-password")
    browser = Client()
    browser.force_login(consumer)
    answer = browser.get("/ops/")
    assert answer.status_code == 302 and answer["Location"] == "/ops/login/?next=/ops/"
    assert browser.get("/ops/orders/order/").status_code == 302
    # the admin login form refuses a non-staff password
    refused = Client().post("/ops/login/?next=/ops/", {"username": consumer.username,
                                                     "password": "long-enough-password"})
    assert refused.status_code == 200 and "errornote" in refused.content.decode()


def test_the_seeded_operator_logs_in_with_the_documented_password():
    from linli.core.seed.demo import ADMIN_PASSWORD, _operator

    _operator()
    browser = Client()
    answer = browser.post("/ops/login/?next=/ops/", {"username": "admin", "password": ADMIN_PASSWORD})
    assert answer.status_code == 302 and answer["Location"] == "/ops/"
    assert ADMIN_PASSWORD == "linli-admin-2026"
    assert browser.get("/ops/").status_code == 200


def test_money_and_chart_geometry():
    assert charts.yuan(0) == "¥0.00" and charts.yuan(5) == "¥0.05" and charts.yuan(123456) == "¥1,234.56"
    assert charts.yuan(-250) == "-¥2.50"
    chart = charts.hour_chart([0] * 23 + [4], [0] * 24)
    assert not chart["has_gmv"] and chart["bars"][23].h == chart["axis_y"] - 16
    assert all(b.h == 0 for b in chart["bars"][:23])
    days = charts.day_chart([(date(2025, 3, d), d, d * 100) for d in range(4, 11)])
    assert [b.label for b in days["bars"]][-1] == "3/10" and days["bars"][-1].value == "¥10.00"
    assert max(b.h for b in days["bars"]) == days["bars"][-1].h
