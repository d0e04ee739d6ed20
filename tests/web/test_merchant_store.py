"""Merchant console, store page: profile and weekly hours (several periods a day), field
errors from the store-profile service with nothing saved, and the busy switch by role."""

from __future__ import annotations

import pytest

from linli.merchants.models import Store
from linli.merchants.selectors import store_is_open
from tests.fixtures import make_staff, make_store

from .helpers import web_password_login

pytestmark = pytest.mark.django_db


def console(store, role: str):
    return web_password_login(make_staff(store, role=role).username, "m")


def form(**changes) -> dict[str, str]:
    """The store form as a browser sends it: every field, hours as h<day>-<row>-start/end."""
    body = {"name": "老王家常菜", "phone": "021-60886088", "address": "黄浦区南京东路 1 号",
            "avg_price": "45.00", "min_order": "20", "packaging_fee": "1.50", "prep_minutes": "12"}
    for day in range(7):
        body[f"h{day}-0-start"], body[f"h{day}-0-end"] = "10:00", "14:00"
        body[f"h{day}-1-start"], body[f"h{day}-1-end"] = "17:00", "22:00"
    body.update(changes)
    return body


def snapshot(store: Store) -> tuple:
    store.refresh_from_db()
    return (store.name, store.phone, store.address, store.avg_price_fen, store.min_order_fen,
            store.packaging_fee_fen, store.prep_minutes, store.opening_hours, store.status)


def test_the_owner_saves_profile_and_several_periods_a_day():
    store = make_store()
    client = console(store, "owner")
    page = client.get("/m/store")
    assert page.status_code == 200 and 'data-testid="store-form"' in page.content.decode()
    answer = client.post("/m/store/save", form(**{"h5-2-start": "22:30", "h5-2-end": "02:00"}))
    assert answer.status_code == 302 and answer["Location"] == "/m/store"
    store.refresh_from_db()
    assert (store.avg_price_fen, store.min_order_fen, store.packaging_fee_fen, store.prep_minutes) == (
        4500, 2000, 150, 12)
    assert store.phone == "+862160886088"
    assert store.opening_hours[0] == [["10:00", "14:00"], ["17:00", "22:00"]]
    assert store.opening_hours[5] == [["10:00", "14:00"], ["17:00", "22:00"], ["22:30", "02:00"]]
    again = client.get("/m/store").content.decode()
    assert 'value="22:30"' in again and 'value="45.00"' in again and "notice" in again


@pytest.mark.parametrize(("changes", "code", "field", "status"), [
    ({"h1-1-start": "12:00", "h1-1-end": "18:00"}, "invalid_hours", "hours-tuesday", 422),
    ({"h3-0-end": "09:00"}, "invalid_hours", "hours-thursday", 422),  # ends before it starts
    ({"h2-0-end": "25:00"}, "invalid_hours", "hours-wednesday", 422),
    ({"h6-1-end": ""}, "invalid_hours", "hours-sunday", 422),
    ({"packaging_fee": "-1"}, "invalid_input", "packaging_fee", 422),
    ({"avg_price": "abc"}, "invalid_input", "avg_price", 422),
    ({"prep_minutes": "0"}, "invalid_input", "prep_minutes", 422),
    ({"name": "  "}, "invalid_input", "name", 422),
    ({"phone": "12"}, "invalid_phone", "phone", 422),
])
def test_bad_input_shows_the_error_by_the_field_and_saves_nothing(changes, code, field, status):
    store = make_store()
    before = snapshot(store)
    client = console(store, "manager")
    answer = client.post("/m/store/save", form(**changes))
    html = answer.content.decode()
    assert answer.status_code == status and f'data-code="{code}"' in html
    assert f'data-field="{field}"' in html
    assert snapshot(store) == before
    for value in changes.values():
        if value.strip():
            assert f'value="{value}"' in html  # what was typed stays in the form


def test_overlapping_hours_name_the_problem():
    store = make_store()
    answer = console(store, "owner").post("/m/store/save",
                                          form(**{"h1-1-start": "12:00", "h1-1-end": "18:00"}))
    html = answer.content.decode()
    assert "overlap" in html.lower() or "重叠" in html


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_owner_and_manager_pause_and_resume(role):
    store = make_store()
    client = console(store, role)
    assert 'data-testid="pause"' in client.get("/m/store").content.decode()
    assert client.post("/m/store/pause")["Location"] == "/m/store"
    store.refresh_from_db()
    assert store.status == "paused" and not store_is_open(store=store)
    page = client.get("/m/store").content.decode()
    assert 'data-status="paused"' in page and 'data-testid="resume"' in page
    assert 'data-testid="paused-badge"' in client.get("/m/").content.decode()
    client.post("/m/store/resume")
    store.refresh_from_db()
    assert store.status == "open"


@pytest.mark.parametrize("role", ["cashier", "staff"])
def test_a_cashier_gets_403_on_the_store_page_edit_and_pause(role):
    store = make_store()
    before = snapshot(store)
    client = console(store, role)
    assert 'data-testid="nav-store"' not in client.get("/m/").content.decode()
    for answer in (client.get("/m/store"), client.post("/m/store/save", form(name="改名")),
                   client.post("/m/store/pause")):
        assert answer.status_code == 403
        assert 'data-code="permission_denied"' in answer.content.decode()
    assert snapshot(store) == before
