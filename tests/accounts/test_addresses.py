"""The consumer's address book through /api/v1/me/addresses: create (with a point, or
geocoded from the text), read, change, delete, the one default; bad input named field by
field; somebody else's address is a 404."""

from __future__ import annotations

import pytest

from linli.accounts.models import Address, User
from linli.accounts.services import MAX_ADDRESSES
from tests.fixtures import Api, make_store, next_phone, token_api

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return User.objects.create_user(username=next_phone(), phone=next_phone())


@pytest.fixture
def api(user):
    return token_api(user)


def _body(**changes):
    body = {"label": "家", "contact_name": "张三", "contact_phone": "139 1234 5678",
            "text": "黄浦区人民大道 200 号", "detail": "3 号楼 502", "lat": 31.2330, "lng": 121.4760}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def _patch(api, path, body):
    import json

    return api.client.patch(f"/api/v1{path}", json.dumps(body), content_type="application/json",
                            headers=api._headers(None))


def _delete(api, path):
    return api.client.delete(f"/api/v1{path}", headers=api._headers(None))


def test_create_with_a_point_keeps_it_and_names_what_is_there(api, user, store):
    answer = api.post("/me/addresses", _body())
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["id"].startswith("adr_")
    assert (body["lat"], body["lng"]) == (31.2330, 121.4760)
    assert body["located_by"] == "device" and body["contact_phone"] == "+8613912345678"
    assert body["area"].startswith("黄浦区") and body["city_code"] == "shanghai"
    assert body["is_default"] is True  # the first address is the default
    row = Address.objects.get(public_id=body["id"])
    assert row.user == user and row.detail == "3 号楼 502"


def test_create_without_a_point_geocodes_the_text(api, store):
    answer = api.post("/me/addresses", _body(text="黄浦区南京东路 1 号", lat=..., lng=...))
    assert answer.status_code == 201, answer.content
    assert answer.json()["located_by"] == "text"
    assert (answer.json()["lat"], answer.json()["lng"]) == (store.lat, store.lng)


def test_text_that_cannot_be_located_is_refused(api):
    answer = api.post("/me/addresses", _body(text="火星基地 1 号", lat=..., lng=...))
    assert answer.status_code == 422 and answer.json()["code"] == "address_not_located"
    assert not Address.objects.exists()


@pytest.mark.parametrize(("changes", "fields"), [
    ({"lat": 91.0}, {"lat": "out_of_range"}),
    ({"lng": -180.5}, {"lng": "out_of_range"}),
    ({"lat": 31.2, "lng": ...}, {"lng": "required_with_the_other"}),
    ({"text": "   "}, {"text": "required"}),
    ({"text": "路" * 201}, {"text": "too_long"}),
    ({"contact_name": ""}, {"contact_name": "required"}),
    ({"contact_phone": "12"}, {"contact_phone": "invalid_phone"}),
    ({"label": "很长的标签" * 5}, {"label": "too_long"}),
    ({"text": "", "lat": 200.0, "contact_phone": "x"},
     {"text": "required", "lat": "out_of_range", "contact_phone": "invalid_phone"}),
])
def test_bad_input_names_every_bad_field(api, changes, fields):
    answer = api.post("/me/addresses", _body(**changes))
    assert answer.status_code == 422, answer.content
    assert answer.json()["code"] == "invalid_address"
    assert answer.json()["details"]["fields"] == fields
    assert not Address.objects.exists()


def test_missing_required_fields_and_wrong_types_are_422(api):
    answer = api.post("/me/addresses", {"text": "黄浦区"})
    assert answer.status_code == 422
    assert api.post("/me/addresses", _body(lat="north")).status_code == 422


def test_list_read_update_delete(api, store):
    first = api.post("/me/addresses", _body()).json()
    second = api.post("/me/addresses", _body(label="公司", text="黄浦区南京东路 1 号", lat=..., lng=...)).json()
    listed = api.get("/me/addresses").json()
    assert [a["id"] for a in listed] == [first["id"], second["id"]]  # default first

    assert api.get(f"/me/addresses/{second['id']}").json()["label"] == "公司"
    changed = _patch(api, f"/me/addresses/{second['id']}", {"detail": "8 楼", "lat": 31.24, "lng": 121.48})
    assert changed.status_code == 200, changed.content
    assert changed.json()["detail"] == "8 楼" and changed.json()["located_by"] == "device"
    assert changed.json()["lat"] == 31.24

    bad = _patch(api, f"/me/addresses/{second['id']}", {"lat": -95})
    assert bad.status_code == 422 and bad.json()["details"]["fields"] == {"lat": "out_of_range"}
    half = _patch(api, f"/me/addresses/{second['id']}", {"lat": 31.25})
    assert half.status_code == 422 and half.json()["details"]["fields"] == {"lng": "required_with_the_other"}
    assert api.get(f"/me/addresses/{second['id']}").json()["lat"] == 31.24  # nothing changed

    assert _delete(api, f"/me/addresses/{second['id']}").status_code == 204
    assert api.get(f"/me/addresses/{second['id']}").status_code == 404


def test_one_default_at_a_time_and_deleting_it_hands_over(api, user):
    first = api.post("/me/addresses", _body()).json()
    second = api.post("/me/addresses", _body(label="公司", is_default=True)).json()
    assert Address.objects.get(public_id=first["id"]).is_default is False
    assert Address.objects.get(public_id=second["id"]).is_default is True
    made = api.post(f"/me/addresses/{first['id']}/default")
    assert made.status_code == 200 and made.json()["is_default"] is True
    assert Address.objects.filter(user=user, is_default=True).count() == 1
    _delete(api, f"/me/addresses/{first['id']}")
    assert Address.objects.get(public_id=second["id"]).is_default is True


def test_someone_elses_address_is_404_for_every_verb(api):
    other = token_api(User.objects.create_user(username=next_phone(), phone=next_phone()))
    theirs = other.post("/me/addresses", _body()).json()["id"]
    path = f"/me/addresses/{theirs}"
    for answer in (api.get(path), _patch(api, path, {"label": "x"}), _delete(api, path),
                   api.post(f"{path}/default")):
        assert answer.status_code == 404 and answer.json()["code"] == "address_not_found"
    assert Address.objects.get(public_id=theirs).label == "家"
    assert [a["id"] for a in api.get("/me/addresses").json()] == []


def test_the_book_has_a_limit(api):
    for n in range(MAX_ADDRESSES):
        assert api.post("/me/addresses", _body(label=f"{n}")).status_code == 201
    full = api.post("/me/addresses", _body(label="one more"))
    assert full.status_code == 409 and full.json()["code"] == "address_book_full"


def test_anonymous_is_401():
    assert Api().get("/me/addresses").status_code == 401
    assert Api().post("/me/addresses", _body()).status_code == 401


def test_the_stores_of_another_city_are_named_in_the_area(api):
    make_store(name="北京小馆", address="朝阳区建国路 77 号", lat=39.9080, lng=116.4600, city_code="beijing")
    answer = api.post("/me/addresses", _body(text="朝阳区建国路 77 号", lat=..., lng=...))
    assert answer.status_code == 201
    assert answer.json()["city_code"] == "beijing" and answer.json()["area"] == "朝阳区建国路附近"
