"""The merchant console's store profile: owners edit, staff only toggle busy, strangers
see nothing; bad input changes nothing. Special hours, delivery zones and fee tiers are
honoured when a consumer orders."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.forms.models import model_to_dict

from linli.accounts.models import User
from linli.merchants.hours import every_day
from linli.merchants.models import Store, StorePhoto
from linli.merchants.selectors import store_is_open
from linli.merchants.services import h3_cell_for
from linli.orders.models import Order
from tests.fixtures import (
    PEOPLES_SQUARE,
    delivery_address,
    make_product,
    make_staff,
    make_store,
    sms_login,
    token_api,
)
from tests.merchants.test_onboarding import delete, image_bytes, patch, stored_files, upload

pytestmark = pytest.mark.django_db

LAT, LNG = PEOPLES_SQUARE
KM_LAT = 1 / 111.2  # degrees of latitude per kilometre


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def owner() -> User:
    return User.objects.create_user("owner-wang")


@pytest.fixture
def shop(owner) -> Store:
    return make_store(owner=owner)


@pytest.fixture
def owner_api(owner, shop):
    return token_api(owner)


def _error(answer, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.content
    assert answer.json()["code"] == code, answer.json()
    return answer.json()["details"]


def _snapshot(store: Store) -> dict[str, Any]:
    store.refresh_from_db()
    return model_to_dict(store)


# --- editing the profile ---------------------------------------------------------------------

def test_owner_edits_the_whole_profile(owner_api, shop):
    zone = [[LAT - 0.01, LNG - 0.01], [LAT - 0.01, LNG + 0.01], [LAT + 0.01, LNG + 0.01],
            [LAT + 0.01, LNG - 0.01]]
    body = {
        "name": " 老王家常菜(人民广场店) ", "phone": "021 6321 1234",
        "address": "黄浦区人民大道 1 号", "lat": 31.2310, "lng": 121.4750,
        "tags": ["老字号", "免费WiFi", "老字号", " 可开发票 "], "avg_price_fen": 6800,
        "opening_hours": every_day(("11:00", "14:00"), ("17:00", "02:00")),
        "special_hours": {"2026-10-02": [["12:00", "20:00"]], "2026-10-01": []},
        "delivery_radius_m": 4000, "delivery_zone": [*zone, zone[0]],
        "min_order_fen": 2000, "delivery_fee_fen": 400,
        "delivery_fee_tiers": [{"max_m": 1500, "fee_fen": 300}, {"max_m": 3000, "fee_fen": 600}],
        "packaging_fee_fen": 150, "prep_minutes": 25,
    }
    answer = patch(owner_api, f"/merchant/stores/{shop.public_id}", body)
    assert answer.status_code == 200, answer.content
    out = answer.json()
    assert out["name"] == "老王家常菜(人民广场店)" and out["phone"] == "+862163211234"
    assert out["tags"] == ["老字号", "免费WiFi", "可开发票"]
    assert list(out["special_hours"]) == ["2026-10-01", "2026-10-02"]
    assert out["delivery_zone"] == zone and out["role"] == "owner"
    shop.refresh_from_db()
    assert (shop.lat, shop.lng, shop.h3_cell) == (31.2310, 121.4750, h3_cell_for(31.2310, 121.4750))
    assert shop.opening_hours == body["opening_hours"] and shop.delivery_fee_tiers == body["delivery_fee_tiers"]
    assert (shop.delivery_radius_m, shop.min_order_fen, shop.delivery_fee_fen, shop.packaging_fee_fen,
            shop.prep_minutes, shop.avg_price_fen) == (4000, 2000, 400, 150, 25, 6800)

    cleared = patch(owner_api, f"/merchant/stores/{shop.public_id}",
                    {"delivery_zone": None, "delivery_fee_tiers": [], "special_hours": {}, "phone": ""})
    assert cleared.status_code == 200
    shop.refresh_from_db()
    assert (shop.delivery_zone, shop.delivery_fee_tiers, shop.special_hours, shop.phone) == (None, [], {}, "")
    assert shop.name == "老王家常菜(人民广场店)"  # untouched fields stay


BAD_EDITS = [
    ("overlapping periods", {"opening_hours": every_day(("10:00", "14:00"), ("13:00", "20:00"))},
     "invalid_hours"),
    ("a period ending before it starts", {"opening_hours": every_day(("18:00", "09:00"))}, "invalid_hours"),
    ("six days", {"opening_hours": [[["10:00", "20:00"]]] * 6}, "invalid_hours"),
    ("special date that is not a date", {"special_hours": {"国庆": []}}, "invalid_hours"),
    ("special period overlapping the eve's night",
     {"opening_hours": every_day(("18:00", "02:00")), "special_hours": {"2026-10-01": [["01:00", "09:00"]]}},
     "invalid_hours"),
    ("eleven tags", {"tags": [f"标签{i}" for i in range(11)]}, "invalid_tags"),
    ("a 13-character tag", {"tags": ["这是一个非常非常长的店铺标签啊"]}, "invalid_tags"),
    ("a blank tag", {"tags": ["  "]}, "invalid_tags"),
    ("radius 99 m", {"delivery_radius_m": 99}, "invalid_input"),
    ("radius 20 001 m", {"delivery_radius_m": 20001}, "invalid_input"),
    ("prep 0 minutes", {"prep_minutes": 0}, "invalid_input"),
    ("prep 181 minutes", {"prep_minutes": 181}, "invalid_input"),
    ("negative minimum order", {"min_order_fen": -1}, "invalid_input"),
    ("negative average price", {"avg_price_fen": -100}, "invalid_input"),
    ("zone of two points", {"delivery_zone": [[31.23, 121.47], [31.24, 121.48]]}, "invalid_delivery_zone"),
    ("self-intersecting zone",
     {"delivery_zone": [[31.22, 121.46], [31.22, 121.48], [31.24, 121.46], [31.25, 121.49]]},
     "invalid_delivery_zone"),
    ("zone point out of range", {"delivery_zone": [[91, 121.4], [31.3, 121.5], [31.2, 121.6]]},
     "invalid_delivery_zone"),
    ("tiers not ascending",
     {"delivery_fee_tiers": [{"max_m": 3000, "fee_fen": 300}, {"max_m": 1000, "fee_fen": 600}]},
     "invalid_fee_tiers"),
    ("negative tier fee", {"delivery_fee_tiers": [{"max_m": 1000, "fee_fen": -1}]}, "invalid_fee_tiers"),
    ("latitude without longitude", {"lat": 31.24}, "invalid_input"),
    ("latitude out of range", {"lat": 95, "lng": 121.4}, "invalid_input"),
    ("bad phone", {"phone": "12"}, "invalid_phone"),
    ("empty name", {"name": ""}, "invalid_input"),
    ("blank name", {"name": "   "}, "invalid_input"),
    ("NUL in the address", {"address": "南京路\x00"}, "invalid_input"),
    ("line break in a tag", {"tags": ["好\n吃"]}, "invalid_tags"),
    ("NUL in the phone", {"phone": "021\x0063211234"}, "invalid_input"),  # refused by the NUL guard
    ("unknown field", {"rating": 5}, "invalid_input"),
]


@pytest.mark.parametrize(("label", "body", "code"), BAD_EDITS, ids=[c[0] for c in BAD_EDITS])
def test_bad_edits_are_refused_and_change_nothing(owner_api, shop, label, body, code):
    before = _snapshot(shop)
    answer = patch(owner_api, f"/merchant/stores/{shop.public_id}", {"prep_minutes": 42, **body}
                   if "prep_minutes" not in body else body)
    _error(answer, 422, code)
    assert _snapshot(shop) == before


def test_hours_errors_say_which_day(owner_api, shop):
    week = [[], [["10:00", "14:00"], ["12:00", "18:00"]], [], [], [], [], []]
    details = _error(patch(owner_api, f"/merchant/stores/{shop.public_id}", {"opening_hours": week}),
                     422, "invalid_hours")
    assert details == {"reason": "overlap", "day": "tuesday"}


def test_staff_cannot_edit_and_strangers_cannot_see(shop):
    staff = token_api(make_staff(shop))
    before = _snapshot(shop)
    _error(patch(staff, f"/merchant/stores/{shop.public_id}", {"name": "员工改名"}), 403, "permission_denied")
    other_owner = User.objects.create_user("owner-li")
    make_store(name="李记", owner=other_owner)
    consumer = sms_login("13800138000")[0]
    for stranger in (token_api(other_owner), consumer):
        for answer in (
            patch(stranger, f"/merchant/stores/{shop.public_id}", {"name": "抢店"}),
            stranger.get(f"/merchant/stores/{shop.public_id}"),
            stranger.post(f"/merchant/stores/{shop.public_id}/pause"),
            stranger.post(f"/merchant/stores/{shop.public_id}/resume"),
            upload(stranger, f"/merchant/stores/{shop.public_id}/photos", image_bytes()),
        ):
            _error(answer, 404, "store_not_found")
    _error(patch(token_api(other_owner), "/merchant/stores/sto_nope", {"name": "x"}), 404, "store_not_found")
    _error(token_api(other_owner).get("/merchant/stores/sto_%00"), 422, "invalid_input")  # NUL guard
    assert _snapshot(shop) == before
    assert not StorePhoto.objects.exists()


def test_console_lists_the_stores_i_work_for_with_my_role(owner, owner_api, shop):
    second = make_store(name="老王家常菜(二店)", merchant=shop.merchant)
    make_store(name="别人家")
    assert [(s["id"], s["role"]) for s in owner_api.get("/merchant/stores").json()] == [
        (shop.public_id, "owner"), (second.public_id, "owner")]
    staff = token_api(make_staff(second))
    assert [s["role"] for s in staff.get("/merchant/stores").json()] == ["staff", "staff"]
    assert staff.get(f"/merchant/stores/{second.public_id}").json()["role"] == "staff"
    assert sms_login("13800138000")[0].get("/merchant/stores").json() == []


# --- busy toggle -----------------------------------------------------------------------------

def test_a_manager_may_pause_and_resume_and_a_paused_store_takes_no_orders(shop):
    product = make_product(shop, stock=5)
    staff = token_api(make_staff(shop, role="manager"))
    paused = staff.post(f"/merchant/stores/{shop.public_id}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert staff.post(f"/merchant/stores/{shop.public_id}/pause").json()["status"] == "paused"
    shop.refresh_from_db()
    assert not store_is_open(store=shop)
    consumer = sms_login("13800138000")[0]
    answer = consumer.post("/orders", _order(shop, product), headers={"Idempotency-Key": "busy"})
    _error(answer, 409, "store_closed")
    resumed = staff.post(f"/merchant/stores/{shop.public_id}/resume")
    assert resumed.json()["status"] == "open"
    assert consumer.post("/orders", _order(shop, product), headers={"Idempotency-Key": "ok"}).status_code == 201


def test_a_delisted_store_cannot_be_toggled(owner_api, shop):
    Store.objects.filter(pk=shop.pk).update(status=Store.Status.CLOSED)
    for action in ("pause", "resume"):
        _error(owner_api.post(f"/merchant/stores/{shop.public_id}/{action}"), 409, "illegal_transition")
    shop.refresh_from_db()
    assert shop.status == "closed"


# --- photos ----------------------------------------------------------------------------------

def test_owner_adds_and_removes_photos(owner_api, shop, media, django_capture_on_commit_callbacks):
    path = f"/merchant/stores/{shop.public_id}/photos"
    first = upload(owner_api, path, image_bytes("JPEG"), name="门头.jpg", content_type="image/jpeg")
    second = upload(owner_api, path, image_bytes("WEBP"), name="店内.webp", content_type="image/webp")
    assert first.status_code == second.status_code == 201
    photo_id = first.json()["id"]
    assert photo_id.startswith("pho_") and first.json()["url"].endswith(".jpg")
    listed = owner_api.get(f"/merchant/stores/{shop.public_id}").json()["photos"]
    assert [(p["id"], p["sort"]) for p in listed] == [(photo_id, 0), (second.json()["id"], 1)]
    assert len(stored_files(media)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert delete(owner_api, f"{path}/{photo_id}").status_code == 204
    assert [p.image.name.rsplit("/", 1)[1].split(".")[0] for p in StorePhoto.objects.all()] == \
        [second.json()["id"]]
    assert len(stored_files(media)) == 1  # the file went with the row
    _error(delete(owner_api, f"{path}/{photo_id}"), 404, "photo_not_found")
    _error(delete(owner_api, f"{path}/pho_nope"), 404, "photo_not_found")


def test_photos_stop_at_nine(owner_api, shop):
    path = f"/merchant/stores/{shop.public_id}/photos"
    for _ in range(9):
        assert upload(owner_api, path, image_bytes()).status_code == 201
    _error(upload(owner_api, path, image_bytes()), 409, "too_many_files")
    assert StorePhoto.objects.count() == 9


def test_bad_photos_and_staff_uploads_store_nothing(owner_api, shop, media):
    path = f"/merchant/stores/{shop.public_id}/photos"
    _error(upload(owner_api, path, b"GIF89a not really", name="a.jpg", content_type="image/jpeg"), 422,
           "invalid_image")
    _error(upload(owner_api, path, image_bytes("JPEG") + b"\0" * (5 * 1024 * 1024), name="big.jpg",
                  content_type="image/jpeg"), 413, "file_too_large")
    staff = token_api(make_staff(shop))
    _error(upload(staff, path, image_bytes()), 403, "permission_denied")
    assert not StorePhoto.objects.exists() and stored_files(media) == []
    photo_id = upload(owner_api, path, image_bytes()).json()["id"]
    _error(delete(staff, f"{path}/{photo_id}"), 403, "permission_denied")
    assert StorePhoto.objects.count() == 1


# --- what consumers meet ---------------------------------------------------------------------

def _order(store: Store, product, *, lat: float | None = None, lng: float | None = None) -> dict[str, Any]:
    address = delivery_address() if lat is None else delivery_address(lat=lat, lng=lng)
    return {"store_id": store.public_id, "fulfilment": "delivery", "address": address,
            "items": [{"product_id": product.public_id, "quantity": 1}]}


def test_special_hours_close_the_store_for_the_day(owner_api, shop):
    product = make_product(shop, stock=5)
    today = datetime.now(ZoneInfo(shop.timezone)).date()
    consumer = sms_login("13800138000")[0]
    patch(owner_api, f"/merchant/stores/{shop.public_id}", {"special_hours": {today.isoformat(): []}})
    _error(consumer.post("/orders", _order(shop, product), headers={"Idempotency-Key": "holiday"}), 409,
           "store_closed")
    assert not Order.objects.exists()
    tomorrow = (today + timedelta(days=1)).isoformat()
    patch(owner_api, f"/merchant/stores/{shop.public_id}", {"special_hours": {tomorrow: []}})
    assert consumer.post("/orders", _order(shop, product), headers={"Idempotency-Key": "open"}).status_code == 201


def test_store_is_open_reads_special_hours_in_store_local_time(shop):
    shop.opening_hours = every_day(("18:00", "02:00"))
    shop.special_hours = {"2026-10-01": [], "2026-10-02": [["10:00", "12:00"]]}
    shanghai = ZoneInfo("Asia/Shanghai")
    at = lambda *a: datetime(*a, tzinfo=shanghai)  # noqa: E731
    assert store_is_open(store=shop, at=at(2026, 10, 1, 1, 0))  # 30 Sep's late night runs on
    assert not store_is_open(store=shop, at=at(2026, 10, 1, 20, 0))  # closed on the 1st
    assert not store_is_open(store=shop, at=at(2026, 10, 2, 1, 0))  # so no night of the 1st either
    assert store_is_open(store=shop, at=at(2026, 10, 2, 11, 0))
    assert not store_is_open(store=shop, at=at(2026, 10, 2, 19, 0))
    assert store_is_open(store=shop, at=datetime(2026, 10, 3, 11, 0, tzinfo=ZoneInfo("UTC")))  # 19:00 local


def test_a_delivery_zone_replaces_the_radius(owner_api, shop):
    product = make_product(shop, stock=10)
    consumer = sms_login("13800138000")[0]
    # A strip reaching 4.4 km north of the store but only ~0.5 km east and west of it.
    zone = [[LAT - 0.005, LNG - 0.005], [LAT - 0.005, LNG + 0.005], [LAT + 4 * 1.1 * KM_LAT, LNG + 0.005],
            [LAT + 4 * 1.1 * KM_LAT, LNG - 0.005]]
    assert patch(owner_api, f"/merchant/stores/{shop.public_id}",
                 {"delivery_zone": zone, "delivery_radius_m": 3000}).status_code == 200
    far_north = consumer.post("/orders", _order(shop, product, lat=LAT + 4 * KM_LAT, lng=LNG),
                              headers={"Idempotency-Key": "north"})
    assert far_north.status_code == 201, far_north.content  # 4 km: beyond the radius, inside the zone
    assert far_north.json()["distance_m"] > 3000
    east = consumer.post("/orders", _order(shop, product, lat=LAT, lng=LNG + 0.01),
                         headers={"Idempotency-Key": "east"})  # ~1 km: inside the radius, outside the zone
    assert _error(east, 422, "address_out_of_range")["area"] == "zone"
    patch(owner_api, f"/merchant/stores/{shop.public_id}", {"delivery_zone": None})
    again = consumer.post("/orders", _order(shop, product, lat=LAT, lng=LNG + 0.01),
                          headers={"Idempotency-Key": "east-2"})
    assert again.status_code == 201  # the radius applies again
    assert Order.objects.count() == 2


def test_fee_tiers_price_delivery_by_distance(owner_api, shop):
    product = make_product(shop, price_fen=3000, stock=10)
    consumer = sms_login("13800138000")[0]
    tiers = [{"max_m": 1000, "fee_fen": 300}, {"max_m": 2500, "fee_fen": 600}]
    patch(owner_api, f"/merchant/stores/{shop.public_id}",
          {"delivery_fee_tiers": tiers, "delivery_radius_m": 5000, "delivery_fee_fen": 999})
    near = consumer.post("/orders", _order(shop, product, lat=LAT + 0.5 * KM_LAT, lng=LNG),
                         headers={"Idempotency-Key": "near"})
    farther = consumer.post("/orders", _order(shop, product, lat=LAT + 2 * KM_LAT, lng=LNG),
                            headers={"Idempotency-Key": "farther"})
    assert (near.json()["delivery_fee_fen"], farther.json()["delivery_fee_fen"]) == (300, 600)
    assert farther.json()["total_fen"] == 3000 + 100 + 600  # items + packaging + tier fee
    beyond = consumer.post("/orders", _order(shop, product, lat=LAT + 3 * KM_LAT, lng=LNG),
                           headers={"Idempotency-Key": "beyond"})  # inside the 5 km radius
    assert _error(beyond, 422, "address_out_of_range")["max_m"] == 2500
    pickup = {**_order(shop, product), "fulfilment": "pickup", "address": None}
    assert consumer.post("/orders", pickup, headers={"Idempotency-Key": "pickup"}).json()[
        "delivery_fee_fen"] == 0
    assert Order.objects.count() == 3
