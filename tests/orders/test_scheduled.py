"""Scheduled orders (预约): quarter-hour slots from now + preparation (+ the ride) to the end
of today's and tomorrow's opening hours in the store's time zone; the order carries its slot;
bad times are refused with a precise code and nothing written; the merchant queue keeps
scheduled orders apart until it is time to prepare them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from linli.accounts.models import User
from linli.inventory.models import StockItem
from linli.merchants.hours import every_day
from linli.orders import errors
from linli.orders.models import Order
from linli.orders.services import AddressInput, LineInput, order_place
from linli.orders.slots import lead_minutes, slot_problem, slots_offered
from tests.fixtures import delivery_address, make_product, make_staff, make_store
from tests.orders.fulfilment_helpers import diner, pay_order, place
from tests.web.helpers import web_password_login

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = every_day(("10:00", "14:00"), ("17:00", "21:00"))


def local(day: int, hh: int, mm: int) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=SHANGHAI)


def test_slots_are_quarter_hours_inside_opening_hours_today_and_tomorrow():
    now = local(25, 11, 3)
    found = slots_offered(now=now, tz="Asia/Shanghai", weekly=HOURS, special=None, lead=15)
    labels = [s.strftime("%d %H:%M") for s in found]
    assert labels[0] == "25 11:30"  # 11:03 + 15 min = 11:18, next boundary 11:30
    assert labels[-1] == "26 20:45"
    assert "25 14:00" not in labels and "25 17:00" in labels and "26 10:00" in labels
    assert len(found) == 10 + 16 + 16 + 16
    assert all(s.minute % 15 == 0 and s.second == 0 for s in found)
    assert all(slot_problem(at=s, now=now, tz="Asia/Shanghai", weekly=HOURS, special=None,
                            lead=15) is None for s in found)
    # A special date closes tomorrow: only today's slots remain.
    closed = slots_offered(now=now, tz="Asia/Shanghai", weekly=HOURS,
                           special={"2026-11-26": []}, lead=15)
    assert {s.day for s in closed} == {25}
    # The ride adds to the lead: 2.5 km at 250 m/min is 10 more minutes.
    assert lead_minutes(prep_minutes=15, distance_m=2500) == 25


@pytest.mark.parametrize(("at", "code", "reason"), [
    (local(25, 10, 45), "scheduled_in_past", None),
    (local(25, 11, 40), "invalid_slot", "not_on_boundary"),
    (local(25, 11, 15), "invalid_slot", "too_soon"),
    (local(27, 11, 0), "invalid_slot", "too_far"),
    (local(26, 3, 0), "scheduled_outside_hours", None),
    (local(25, 15, 0), "scheduled_outside_hours", None),
])
def test_bad_times_are_named_precisely(at, code, reason):
    problem = slot_problem(at=at, now=local(25, 11, 3), tz="Asia/Shanghai", weekly=HOURS,
                           special=None, lead=15)
    assert problem is not None and problem[0] == code
    if reason:
        assert problem[1]["reason"] == reason


def test_the_slots_api_answers_delivery_and_pickup_slots():
    store = make_store(prep_minutes=20)
    api = diner()
    delivery = api.get(f"/stores/{store.public_id}/slots",
                       {"fulfilment": "delivery", "lat": 31.2330, "lng": 121.4760})
    assert delivery.status_code == 200, delivery.content
    body = delivery.json()
    assert body["slot_minutes"] == 15 and body["timezone"] == "Asia/Shanghai"
    assert body["lead_minutes"] > 20  # preparation plus the ride
    first = datetime.fromisoformat(body["slots"][0])
    assert first >= timezone.now() + timedelta(minutes=body["lead_minutes"])
    assert first.astimezone(SHANGHAI).minute % 15 == 0
    pickup = api.get(f"/stores/{store.public_id}/slots", {"fulfilment": "pickup"}).json()
    assert pickup["lead_minutes"] == 20 and len(pickup["slots"]) >= len(body["slots"])
    missing = api.get(f"/stores/{store.public_id}/slots", {"fulfilment": "delivery"})
    assert missing.status_code == 422 and missing.json()["code"] == "address_required"
    far = api.get(f"/stores/{store.public_id}/slots", {"fulfilment": "delivery", "lat": 31.4,
                                                        "lng": 121.9})
    assert far.status_code == 422 and far.json()["code"] == "address_out_of_range"


def test_a_scheduled_order_carries_its_slot_and_bad_slots_write_nothing():
    store = make_store()
    product = make_product(store, stock=10)
    api = diner()
    slots = api.get(f"/stores/{store.public_id}/slots",
                    {"fulfilment": "delivery", "lat": 31.2330, "lng": 121.4760}).json()["slots"]
    chosen = slots[8]
    placed = place(api, store, product, key="s1", fulfilment="delivery", scheduled_for=chosen)
    assert placed.status_code == 201, placed.content
    order = placed.json()
    assert datetime.fromisoformat(order["scheduled_for"]) == datetime.fromisoformat(chosen)
    assert datetime.fromisoformat(order["prepare_at"]) < datetime.fromisoformat(chosen)
    assert datetime.fromisoformat(order["promised_at"]) == datetime.fromisoformat(chosen)  # the slot is the promise

    past = (timezone.now() - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    off_boundary = datetime.fromisoformat(chosen) + timedelta(minutes=7)
    bad = [
        (past.isoformat(), "scheduled_in_past"),
        (off_boundary.isoformat(), "invalid_slot"),
        ((timezone.now() + timedelta(days=5)).replace(minute=0, second=0, microsecond=0).isoformat(),
         "invalid_slot"),
        ("2026-11-25T12:00:00", "invalid_slot"),  # no time zone
    ]
    for n, (at, code) in enumerate(bad):
        answer = place(api, store, product, key=f"bad-{n}", fulfilment="pickup", scheduled_for=at)
        assert answer.status_code == 422 and answer.json()["code"] == code, (at, answer.content)
    table = make_staff(store, role="owner")
    from tests.fixtures import token_api

    tbl = token_api(table).post(f"/merchant/stores/{store.public_id}/tables", {"label": "A1"}).json()
    dine = place(api, store, product, key="bad-dine", fulfilment="dine_in", table_id=tbl["id"],
                 scheduled_for=chosen)
    assert dine.status_code == 422 and dine.json()["code"] == "invalid_slot"
    assert Order.objects.count() == 1 and StockItem.objects.get(product=product).quantity == 9


def test_outside_hours_is_refused_and_a_closed_store_takes_orders_for_its_opening():
    store = make_store(hours=HOURS)
    product = make_product(store, stock=10)
    consumer = User.objects.create_user(username="sched-1", phone="+8613800138071")
    lines = [LineInput(product_id=product.public_id, quantity=1)]
    now = local(25, 15, 2)  # closed between 14:00 and 17:00
    with pytest.raises(errors.ScheduledOutsideHours):
        order_place(consumer=consumer, store_id=store.public_id, lines=lines, fulfilment="pickup",
                    address=None, idempotency_key="x1", now=now, scheduled_for=local(26, 3, 0))
    with pytest.raises(errors.StoreClosed):  # as soon as possible: not while closed
        order_place(consumer=consumer, store_id=store.public_id, lines=lines, fulfilment="pickup",
                    address=None, idempotency_key="x2", now=now)
    placed = order_place(consumer=consumer, store_id=store.public_id, lines=lines,
                         fulfilment="delivery", now=now, idempotency_key="x3",
                         address=AddressInput(**delivery_address()),
                         scheduled_for=local(25, 17, 30))
    assert placed.created and placed.order.scheduled_for == local(25, 17, 30)


def test_the_merchant_queue_keeps_scheduled_orders_apart_until_prep_time():
    store = make_store()
    product = make_product(store, stock=10)
    api = diner()
    slots = api.get(f"/stores/{store.public_id}/slots", {"fulfilment": "pickup"}).json()["slots"]
    later = place(api, store, product, key="later", fulfilment="pickup", scheduled_for=slots[12]).json()
    now_order = place(api, store, product, key="now", fulfilment="pickup").json()
    assert pay_order(api, later["id"]) == "paid" and pay_order(api, now_order["id"]) == "paid"
    console = web_password_login(make_staff(store).username, "m")
    queue = console.get("/m/?part=queue").content.decode()
    head, _, main = queue.partition('data-testid="queue"')
    assert f'data-testid="scheduled-order" data-order="{later["id"]}"' in head
    assert now_order["id"] in main and later["id"] not in main
    # Time passes: the slot comes within preparation time, and the order joins the queue.
    Order.objects.filter(public_id=later["id"]).update(
        scheduled_for=timezone.now() + timedelta(minutes=10))
    queue = console.get("/m/?part=queue").content.decode()
    _, _, main = queue.partition('data-testid="queue"')
    assert later["id"] in main and 'data-testid="scheduled-order"' not in queue


def test_checkout_page_offers_slots_and_shows_slot_errors():
    from tests.web.helpers import web_sms_login

    store = make_store()
    product = make_product(store, stock=10)
    browser = web_sms_login("+8613800138072")
    browser.post(f"/stores/{store.public_id}/cart", {"product_id": product.public_id, "delta": 1})
    page = browser.get(f"/stores/{store.public_id}/checkout").content.decode()
    assert 'data-testid="slot-delivery"' in page and 'data-testid="slot-pickup"' in page
    assert page.count("<option value=\"20") > 10  # ISO slots
    bad = browser.post(f"/stores/{store.public_id}/checkout", {
        "fulfilment": "pickup", "idempotency_key": "w1", "scheduled_pickup": "2020-01-01T12:00:00+08:00"})
    assert bad.status_code == 422 and "scheduled_in_past" in bad.content.decode()
    assert Order.objects.count() == 0
