"""Made-to-order items with a daily count (e.g. 50 bowls a day): reset at the store's
local midnight by the periodic job, once per local day, each reset a ledger row."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.conf import settings

from linli.inventory.models import StockItem, StockMovement
from linli.inventory.services import (
    InvalidDailyQuantity,
    stock_daily_reset,
    stock_daily_set,
    stock_reserve,
    stock_set,
)
from linli.inventory.tasks import reset_daily_stock
from tests.fixtures import make_product, make_store

from .helpers import assert_balanced, counts, movements

pytestmark = pytest.mark.django_db

# 2026-03-01 15:30 UTC is 23:30 in Shanghai (UTC+8) and 10:30 in New York (UTC-5).
BEFORE_SHANGHAI_MIDNIGHT = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
AFTER_SHANGHAI_MIDNIGHT = datetime(2026, 3, 1, 16, 1, tzinfo=UTC)
AFTER_NEW_YORK_MIDNIGHT = datetime(2026, 3, 2, 5, 1, tzinfo=UTC)


@pytest.fixture
def bowls():
    store = make_store(name="兰州拉面")
    product = make_product(store, name="手工拉面", stock=0)
    stock_daily_set(product=product, daily_quantity=50, now=BEFORE_SHANGHAI_MIDNIGHT)
    return store, product


def test_setting_a_daily_count_resets_today_at_once(bowls):
    _store, noodles = bowls
    item = StockItem.objects.get(product=noodles)
    assert (item.quantity, item.daily_quantity, item.daily_reset_on) == (50, 50, date(2026, 3, 1))
    assert movements(noodles) == [("daily_reset", 50, 0)]
    assert StockMovement.objects.get(reason="daily_reset").reference == "daily:2026-03-01"
    assert_balanced(noodles)


def test_the_count_goes_back_to_the_daily_number_after_local_midnight_once(bowls):
    store, noodles = bowls
    stock_reserve(store_id=store.pk, lines=[(noodles, 30)], reference="ord_a", actor=None)
    from linli.inventory.services import stock_commit

    stock_commit(reference="ord_a")  # 30 bowls sold today
    assert counts(noodles) == (20, 0)
    assert stock_daily_reset(now=BEFORE_SHANGHAI_MIDNIGHT) == 0  # still the same local day
    assert stock_daily_reset(now=AFTER_SHANGHAI_MIDNIGHT) == 1
    assert counts(noodles) == (50, 0)
    assert StockItem.objects.get(product=noodles).daily_reset_on == date(2026, 3, 2)
    assert stock_daily_reset(now=AFTER_SHANGHAI_MIDNIGHT) == 0  # idempotent per local day
    assert movements(noodles, reason="daily_reset") == [("daily_reset", 50, 0), ("daily_reset", 30, 0)]
    assert_balanced(noodles)


def test_each_store_resets_at_its_own_midnight(bowls):
    _store, shanghai = bowls
    new_york = make_product(make_store(name="Noodle Bar NY", timezone="America/New_York"), name="Ramen", stock=0)
    stock_daily_set(product=new_york, daily_quantity=10, now=BEFORE_SHANGHAI_MIDNIGHT)
    StockItem.objects.filter(product__in=[shanghai, new_york]).update(quantity=1)  # almost sold out
    StockMovement.objects.create(product=shanghai, store=shanghai.store, delta=-49, reason="sale")
    StockMovement.objects.create(product=new_york, store=new_york.store, delta=-9, reason="sale")
    assert stock_daily_reset(now=AFTER_SHANGHAI_MIDNIGHT) == 1
    assert counts(shanghai) == (50, 0) and counts(new_york) == (1, 0)
    assert stock_daily_reset(now=AFTER_NEW_YORK_MIDNIGHT) == 1
    assert counts(new_york) == (10, 0)
    assert_balanced(shanghai, new_york)


def test_units_held_by_unpaid_orders_count_against_the_new_day(bowls):
    store, noodles = bowls
    stock_reserve(store_id=store.pk, lines=[(noodles, 5)], reference="ord_late", actor=None)
    stock_daily_reset(now=AFTER_SHANGHAI_MIDNIGHT)
    assert counts(noodles) == (45, 5)  # 50 bowls today, 5 of them already promised
    from linli.inventory.services import stock_release

    stock_release(reference="ord_late")  # not paid: the bowls are today's again
    assert counts(noodles) == (50, 0)
    assert_balanced(noodles)


def test_the_celery_task_and_its_beat_entry(bowls):
    _store, noodles = bowls
    entry = settings.CELERY_BEAT_SCHEDULE["inventory-daily-reset"]
    assert entry["task"] == "linli.inventory.tasks.reset_daily_stock" and entry["schedule"] <= 60
    StockItem.objects.filter(product=noodles).update(daily_reset_on=date(2020, 1, 1))
    assert reset_daily_stock.delay().get() == 1  # eager in tests; the real clock is past 2020
    assert reset_daily_stock.delay().get() == 0


def test_turning_the_daily_count_off_or_unlimited_stops_the_resets(bowls):
    _store, noodles = bowls
    stock_daily_set(product=noodles, daily_quantity=None)
    assert stock_daily_reset(now=AFTER_SHANGHAI_MIDNIGHT) == 0
    stock_daily_set(product=noodles, daily_quantity=20, now=AFTER_SHANGHAI_MIDNIGHT)
    stock_set(product=noodles, quantity=0, unlimited=True)
    item = StockItem.objects.get(product=noodles)
    assert (item.unlimited, item.daily_quantity) == (True, None)
    assert stock_daily_reset(now=AFTER_NEW_YORK_MIDNIGHT) == 0
    assert_balanced(noodles)


@pytest.mark.parametrize("bad", [-1, 1_000_001, "50", 2.5, True])
def test_a_bad_daily_count_is_refused_and_nothing_changes(bowls, bad):
    _store, noodles = bowls
    with pytest.raises(InvalidDailyQuantity) as refused:
        stock_daily_set(product=noodles, daily_quantity=bad)
    assert refused.value.code == "invalid_daily_quantity" and refused.value.status == 422
    assert StockItem.objects.get(product=noodles).daily_quantity == 50
    assert StockMovement.objects.filter(product=noodles).count() == 1
