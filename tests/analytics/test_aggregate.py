"""The daily job against numbers worked out by hand, and rerunning it changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from linli.analytics.aggregate import aggregate_day, district_of
from linli.analytics.models import ActiveDay, CohortWeek, Event, PlatformDay, StoreDay, StoreItemDay
from linli.pos.models import Sale, SaleLine
from linli.reviews.models import Review
from tests.fixtures import make_product

from .helpers import at, consumer, order

pytestmark = pytest.mark.django_db
D = date(2026, 3, 10)  # a Tuesday; its week starts on Monday 9 March


@pytest.fixture
def day_of_trade(store):
    p1 = make_product(store, name="宫保鸡丁", price_fen=3200)
    p2 = make_product(store, name="米饭", price_fen=1800)
    u1, u2, u3, u4, viewer = consumer(), consumer(), consumer(), consumer(), consumer()
    order(store, u1, paid=at(D - timedelta(days=7), 12), lines=[(p1, 1)])  # u1 bought here a week before
    order(store, u1, paid=at(D, 12, 10), lines=[(p1, 1)])  # 3200, returning
    first = order(store, u2, paid=at(D, 18, 30), lines=[(p1, 2), (p2, 1)])  # 8200, new
    order(store, u3, paid=at(D, 19), lines=[(p2, 1)], status="cancelled")  # paid, then cancelled: no sale
    order(store, u4, paid=None, lines=[(p2, 1)], status="pending_payment", created=at(D, 20))  # placed only
    sale = Sale.objects.create(store=store, client_sale_id="c1", request_hash="h", items_fen=1800, total_fen=1800,
                               paid_fen=1800, payment_method="cash", cashier=store.merchant.members.first().user)
    Sale.objects.filter(pk=sale.pk).update(created_at=at(D, 9, 5))
    SaleLine.objects.create(sale=sale, position=1, product=p2, name="米饭", quantity=1, unit_price_fen=1800,
                            charged_unit_fen=1800, amount_fen=1800)
    Event.objects.bulk_create(
        [Event(kind="store_view", occurred_at=at(D, 11), user_id=viewer.pk, store_id=store.pk, city_code="shanghai")
         for _ in range(3)]
        + [Event(kind="add_to_cart", occurred_at=at(D, 11, 5), user_id=viewer.pk, store_id=store.pk)
           for _ in range(2)]
        + [Event(kind="checkout_start", occurred_at=at(D, 11, 6), user_id=viewer.pk, store_id=store.pk),
           Event(kind="store_view", occurred_at=at(D + timedelta(days=1), 0, 1), store_id=store.pk)])  # next day
    for stars, author in ((4, u1), (5, u2)):
        review = Review.objects.create(subject_kind="order", subject_key=f"x{stars}", order=first, store=store,
                                       author=author, stars=stars)
        Review.objects.filter(pk=review.pk).update(created_at=at(D, 21))
    return {"store": store, "p1": p1, "p2": p2, "u1": u1, "u2": u2, "u3": u3}


def _snapshot():
    return (sorted(StoreDay.objects.values_list("store_id", "day", "online_orders", "online_sales_fen", "pos_orders",
                                                "pos_sales_fen", "placed_orders", "new_buyers", "returning_buyers",
                                                "views", "carts", "checkouts", "reviews", "stars_sum")),
            sorted(StoreItemDay.objects.values_list("product_id", "quantity", "sales_fen")),
            sorted(PlatformDay.objects.values_list("channel", "orders", "gmv_fen", "placed_orders", "views")),
            sorted(ActiveDay.objects.values_list("city_code", "dau", "mau")),
            sorted(CohortWeek.objects.values_list("cohort", "week", "offset", "customers")))


def test_one_day_by_hand(day_of_trade):
    store, p1, p2 = day_of_trade["store"], day_of_trade["p1"], day_of_trade["p2"]
    aggregate_day(D)
    row = StoreDay.objects.get(store_id=store.pk, day=D)
    assert (row.online_orders, row.online_sales_fen) == (2, 3200 + 8200)
    assert (row.pos_orders, row.pos_sales_fen) == (1, 1800)
    assert row.placed_orders == 4  # u1, u2, u3 and u4 created orders on D (paid or not)
    assert (row.new_buyers, row.returning_buyers) == (1, 1)
    assert (row.views, row.carts, row.checkouts) == (3, 2, 1)
    assert (row.reviews, row.stars_sum) == (2, 9)
    assert row.hours[9] == 1 and row.hours[12] == 1 and row.hours[18] == 1 and sum(row.hours) == 3
    assert row.district == district_of(store.h3_cell) != ""
    items = dict((pid, (q, s)) for pid, q, s in StoreItemDay.objects.filter(day=D)
                 .values_list("product_id", "quantity", "sales_fen"))
    assert items == {p1.pk: (3, 9600), p2.pk: (2, 3600)}
    online = PlatformDay.objects.get(day=D, channel="online")
    pos = PlatformDay.objects.get(day=D, channel="pos")
    assert (online.orders, online.gmv_fen, online.views, pos.orders, pos.gmv_fen) == (2, 11400, 3, 1, 1800)
    everyone = ActiveDay.objects.get(day=D, city_code="")
    assert everyone.dau == 5  # the viewer and the four who placed orders that day
    assert everyone.mau == 5  # u1's order a week before was u1 again
    assert set(CohortWeek.objects.filter(week=date(2026, 3, 9)).values_list("cohort", "offset", "customers")) == {
        (date(2026, 3, 2), 1, 1), (date(2026, 3, 9), 0, 2)}  # u1 from the week before; u2 and u3 new


def test_rerunning_a_day_changes_nothing_and_late_changes_are_picked_up(day_of_trade):
    aggregate_day(D)
    before = _snapshot()
    aggregate_day(D)
    assert _snapshot() == before
    order(day_of_trade["store"], consumer(), paid=at(D, 22), lines=[(day_of_trade["p1"], 1)])  # a late arrival
    aggregate_day(D)
    row = StoreDay.objects.get(day=D)
    assert (row.online_orders, row.online_sales_fen, row.new_buyers) == (3, 14600, 2)
    assert StoreDay.objects.count() == 1
