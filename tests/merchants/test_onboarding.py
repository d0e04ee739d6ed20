"""Merchant onboarding through the API: an application goes draft -> submitted ->
(needs_changes -> submitted ->) approved or rejected; approval creates the merchant, its
owner and the first store at once. Bad input is a precise 4xx and leaves nothing half
saved; the bank account number never appears in an answer."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from linli.accounts.models import User
from linli.merchants.models import (
    ApplicationDocument,
    ApplicationEvent,
    MerchantApplication,
    MerchantMember,
    Store,
    StoreCategory,
)
from linli.merchants.onboarding import mask_bank_account
from linli.merchants.services import merchant_create
from tests.fixtures import Api, make_store, sms_login, token_api

pytestmark = pytest.mark.django_db

BANK_ACCOUNT = "6222021234567891234"
FULL = {
    "legal_name": "上海老王餐饮管理有限公司", "licence_number": "91310101MA1FPX0G1N",
    "contact_name": "王建国", "contact_phone": "139 1234 5678", "category": "food",
    "city_code": "shanghai", "store_name": "老王家常菜(南京东路店)",
    "store_address": "黄浦区南京东路 100 号", "store_lat": 31.2351, "store_lng": 121.4810,
    "store_phone": "021-63211234", "bank_account_name": "上海老王餐饮管理有限公司",
    "bank_name": "中国工商银行上海南京东路支行", "bank_account_number": "6222 0212 3456 7891 234",
}
REQUIRED = ["legal_name", "licence_number", "contact_name", "contact_phone", "category", "city_code",
            "store_address", "store_lat", "store_lng", "bank_account_name", "bank_name",
            "bank_account_number", "licence_document"]


# --- helpers shared with test_store_profile -------------------------------------------------

def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (16, 12)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, format=fmt)
    return out.getvalue()


def upload(api: Api, path: str, content: bytes, *, name: str = "licence.png",
           content_type: str = "image/png", **fields: str):
    """A multipart POST the way a browser form sends a file."""
    data: dict[str, Any] = {**fields, "file": SimpleUploadedFile(name, content, content_type=content_type)}
    return api.client.post(f"/api/v1{path}", data, headers=api._headers(None))


def patch(api: Api, path: str, body: Any):
    return api.client.patch(f"/api/v1{path}", json.dumps(body), content_type="application/json",
                            headers=api._headers(None))


def delete(api: Api, path: str):
    return api.client.delete(f"/api/v1{path}", headers=api._headers(None))


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def food(db) -> StoreCategory:
    return StoreCategory.objects.get_or_create(slug="food", defaults={"name_zh": "美食", "name_en": "Food"})[0]


@pytest.fixture
def applicant() -> Api:
    return sms_login("13800138001")[0]


@pytest.fixture
def operator() -> Api:
    return token_api(User.objects.create_user("ops-li", platform_role="operator"))


def _created(api: Api, body: dict[str, Any] | None = None) -> str:
    answer = api.post("/merchant-applications", body if body is not None else FULL)
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def _submitted(api: Api) -> str:
    application_id = _created(api)
    assert upload(api, f"/merchant-applications/{application_id}/documents", image_bytes(),
                  kind="licence").status_code == 201
    answer = api.post(f"/merchant-applications/{application_id}/submit")
    assert answer.status_code == 200, answer.content
    return application_id


def _error(answer, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.content
    body = answer.json()
    assert body["code"] == code and body["message"], body
    return body["details"]


def _nothing_created() -> None:
    from linli.merchants.models import Merchant

    assert not Merchant.objects.exists()
    assert not MerchantMember.objects.exists()
    assert not Store.objects.exists()


# --- the whole flow --------------------------------------------------------------------------

def test_apply_fix_and_get_approved_creates_the_merchant_and_its_first_store(applicant, operator):
    answers = []

    def keep(answer):
        answers.append(answer.content.decode())
        return answer

    draft = keep(applicant.post("/merchant-applications", {"legal_name": "上海老王餐饮管理有限公司"}))
    assert draft.status_code == 201 and draft.json()["status"] == "draft"
    application_id = draft.json()["id"]
    assert "licence_document" in draft.json()["missing"]
    rest = {k: v for k, v in FULL.items() if k != "legal_name"}
    edited = keep(patch(applicant, f"/merchant-applications/{application_id}", rest))
    assert edited.status_code == 200 and edited.json()["missing"] == ["licence_document"]
    assert edited.json()["contact_phone"] == "+8613912345678"
    document = keep(upload(applicant, f"/merchant-applications/{application_id}/documents",
                           image_bytes("JPEG"), name="执照.jpg", content_type="image/jpeg", kind="licence"))
    assert document.status_code == 201 and document.json()["content_type"] == "image/jpeg"
    submitted = keep(applicant.post(f"/merchant-applications/{application_id}/submit"))
    assert submitted.json()["status"] == "submitted" and submitted.json()["missing"] == []

    queue = keep(operator.get("/ops/merchant-applications"))
    assert [a["id"] for a in queue.json()] == [application_id]
    sent_back = keep(operator.post(f"/ops/merchant-applications/{application_id}/request-changes",
                                   {"note": "门店地址请写到门牌号"}))
    assert sent_back.status_code == 200 and sent_back.json()["status"] == "needs_changes"
    assert keep(applicant.get(f"/merchant-applications/{application_id}")).json()["decision_note"] == \
        "门店地址请写到门牌号"
    keep(patch(applicant, f"/merchant-applications/{application_id}",
               {"store_address": "黄浦区南京东路 100 号 1 楼 101 室"}))
    resubmitted = keep(applicant.post(f"/merchant-applications/{application_id}/submit"))
    assert resubmitted.json()["status"] == "submitted" and resubmitted.json()["decision_note"] == ""
    approved = keep(operator.post(f"/ops/merchant-applications/{application_id}/approve"))
    assert approved.status_code == 200, approved.content

    body = approved.json()
    assert body["status"] == "approved" and body["merchant_id"] and body["store_id"]
    store = Store.objects.select_related("merchant", "category").get(public_id=body["store_id"])
    assert store.merchant.public_id == body["merchant_id"]
    assert (store.merchant.name, store.merchant.legal_name) == ("老王家常菜(南京东路店)", FULL["legal_name"])
    assert (store.name, store.category.slug, store.city_code) == ("老王家常菜(南京东路店)", "food", "shanghai")
    assert store.address == "黄浦区南京东路 100 号 1 楼 101 室"
    assert (store.lat, store.lng, store.status) == (31.2351, 121.4810, "open")
    assert store.opening_hours == [[["10:00", "22:00"]]] * 7 and store.h3_cell
    assert store.phone == "+862163211234"
    owner = MerchantMember.objects.get(merchant=store.merchant)
    assert (owner.user.phone, owner.role) == ("+8613800138001", "owner")
    assert "merchant_owner" in keep(applicant.get("/me")).json()["roles"]
    consoles = keep(applicant.get("/merchant/stores")).json()
    assert [(s["id"], s["role"]) for s in consoles] == [(store.public_id, "owner")]

    operator_id = User.objects.get(username="ops-li").public_id
    applicant_id = owner.user.public_id
    assert [(e["action"], e["from_status"], e["to_status"], e["actor_role"], e["actor_id"])
            for e in body["events"]] == [
        ("create", "", "draft", "applicant", applicant_id),
        ("submit", "draft", "submitted", "applicant", applicant_id),
        ("request_changes", "submitted", "needs_changes", "operator", operator_id),
        ("submit", "needs_changes", "submitted", "applicant", applicant_id),
        ("approve", "submitted", "approved", "operator", operator_id),
    ]
    assert body["events"][2]["note"] == "门店地址请写到门牌号"
    assert body["bank_account_masked"] == "6222 **** **** 1234"
    for text in answers:
        assert BANK_ACCOUNT not in text and "6222 0212 3456 7891 234" not in text
        assert "3456789" not in text


@pytest.mark.parametrize(("number", "masked"), [
    ("", ""), ("12345678", "**** 5678"), ("12345678901", "**** 8901"),
    ("123456789012", "1234 **** **** 9012"), (BANK_ACCOUNT, "6222 **** **** 1234"),
])
def test_bank_account_masking_hides_at_least_half(number, masked):
    assert mask_bank_account(number) == masked


def test_rejection_needs_a_reason_and_frees_the_applicant_to_apply_again(applicant, operator):
    application_id = _submitted(applicant)
    for body in ({}, {"reason": "   "}):
        _error(operator.post(f"/ops/merchant-applications/{application_id}/reject", body), 422,
               "reason_required")
    _error(operator.post(f"/ops/merchant-applications/{application_id}/reject", {"reason": "坏\x00"}),
           422, "invalid_input")
    _error(operator.post(f"/ops/merchant-applications/{application_id}/request-changes", {"note": ""}),
           422, "note_required")
    assert MerchantApplication.objects.get().status == "submitted"
    assert ApplicationEvent.objects.filter(action__in=["reject", "request_changes"]).count() == 0
    rejected = operator.post(f"/ops/merchant-applications/{application_id}/reject",
                             {"reason": "营业执照与门店地址不符"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "营业执照与门店地址不符"
    assert rejected.json()["events"][-1]["note"] == "营业执照与门店地址不符"
    _nothing_created()
    _error(patch(applicant, f"/merchant-applications/{application_id}", {"legal_name": "x"}), 409,
           "application_locked")
    assert applicant.post("/merchant-applications", FULL).status_code == 201


# --- bad input -------------------------------------------------------------------------------

BAD_FIELDS = [
    ("licence number too short", {"licence_number": "91310101MA1FPX0G1"}, 422, "invalid_licence_number"),
    ("licence number with a forbidden letter", {"licence_number": "91310101MA1FPX0GIN"}, 422, "invalid_licence_number"),
    ("licence number with a wrong check character", {"licence_number": "91310101MA1FPX0G1A"}, 422, "invalid_licence_number"),
    ("phone", {"contact_phone": "12345"}, 422, "invalid_phone"),
    ("store phone", {"store_phone": "abc"}, 422, "invalid_phone"),
    ("unknown category", {"category": "spaceships"}, 422, "unknown_category"),
    ("bank account too short", {"bank_account_number": "1234567"}, 422, "invalid_bank_account"),
    ("bank account with letters", {"bank_account_number": "6222abcd12345678"}, 422, "invalid_bank_account"),
    ("bank account too long", {"bank_account_number": "1" * 31}, 422, "invalid_bank_account"),
    ("latitude out of range", {"store_lat": 91}, 422, "invalid_input"),
    ("longitude out of range", {"store_lng": -181}, 422, "invalid_input"),
    ("latitude not a number", {"store_lat": "north"}, 422, "invalid_input"),
    ("city code in Chinese", {"city_code": "上海"}, 422, "invalid_input"),
    ("unknown field", {"favourite_colour": "red"}, 422, "invalid_input"),
    ("legal name too long", {"legal_name": "很" * 201}, 422, "invalid_input"),
    ("line break in a name", {"contact_name": "王\n建国"}, 422, "invalid_input"),
    ("NUL in a name", {"legal_name": "老王\x00"}, 422, "invalid_input"),
    ("NUL in a category", {"category": "fo\x00od"}, 422, "invalid_input"),
]


@pytest.mark.parametrize(("label", "body", "status", "code"), BAD_FIELDS, ids=[c[0] for c in BAD_FIELDS])
def test_bad_fields_are_refused_on_create_and_on_edit(applicant, label, body, status, code):
    _error(applicant.post("/merchant-applications", {**FULL, **body}), status, code)
    assert not MerchantApplication.objects.exists()
    application_id = _created(applicant)
    _error(patch(applicant, f"/merchant-applications/{application_id}",
                 {"legal_name": "改过的名字", **body}), status, code)
    application = MerchantApplication.objects.get()
    assert application.legal_name == FULL["legal_name"]  # the good field in the same edit did not stick
    assert application.bank_account_number == BANK_ACCOUNT


def test_licence_numbers_are_normalised_and_blank_fields_clear(applicant):
    application_id = _created(applicant, {"licence_number": " 91350100m000100y43 "})
    assert MerchantApplication.objects.get().licence_number == "91350100M000100Y43"
    answer = patch(applicant, f"/merchant-applications/{application_id}",
                   {"licence_number": "", "category": None, "store_lat": None})
    assert answer.status_code == 200
    assert {"licence_number", "category", "store_lat"} <= set(answer.json()["missing"])


def test_submitting_an_incomplete_application_lists_what_is_missing(applicant):
    application_id = _created(applicant, {})
    details = _error(applicant.post(f"/merchant-applications/{application_id}/submit"), 422,
                     "application_incomplete")
    assert details["missing"] == REQUIRED
    patch(applicant, f"/merchant-applications/{application_id}", FULL)
    details = _error(applicant.post(f"/merchant-applications/{application_id}/submit"), 422,
                     "application_incomplete")
    assert details["missing"] == ["licence_document"]  # a storefront photo is not a licence
    upload(applicant, f"/merchant-applications/{application_id}/documents", image_bytes(), kind="storefront")
    _error(applicant.post(f"/merchant-applications/{application_id}/submit"), 422, "application_incomplete")
    application = MerchantApplication.objects.get()
    assert application.status == "draft" and application.submitted_at is None
    assert list(application.events.values_list("action", flat=True)) == ["create"]


def test_one_open_application_per_applicant(applicant):
    first = _created(applicant)
    details = _error(applicant.post("/merchant-applications", {}), 409, "application_exists")
    assert details == {"application_id": first}
    applicant.post(f"/merchant-applications/{first}/submit")
    _error(applicant.post("/merchant-applications", {}), 409, "application_exists")
    assert MerchantApplication.objects.count() == 1


def test_a_submitted_or_decided_application_is_locked(applicant, operator):
    application_id = _submitted(applicant)
    for answer in (
        patch(applicant, f"/merchant-applications/{application_id}", {"legal_name": "新名字"}),
        upload(applicant, f"/merchant-applications/{application_id}/documents", image_bytes(), kind="permit"),
    ):
        _error(answer, 409, "application_locked")
    _error(applicant.post(f"/merchant-applications/{application_id}/submit"), 409, "illegal_transition")
    operator.post(f"/ops/merchant-applications/{application_id}/approve")
    _error(patch(applicant, f"/merchant-applications/{application_id}", {"legal_name": "新名字"}), 409,
           "application_locked")
    application = MerchantApplication.objects.get()
    assert application.legal_name == FULL["legal_name"] and application.documents.count() == 1


# --- documents -------------------------------------------------------------------------------

def test_documents_are_typed_by_their_content_not_their_name(applicant, media):
    application_id = _created(applicant)
    path = f"/merchant-applications/{application_id}/documents"
    png_named_jpg = upload(applicant, path, image_bytes("PNG"), name="scan.jpg", content_type="image/jpeg",
                           kind="licence")
    webp = upload(applicant, path, image_bytes("WEBP"), name="permit.bin",
                  content_type="application/octet-stream", kind="permit")
    assert png_named_jpg.status_code == webp.status_code == 201
    assert png_named_jpg.json()["content_type"] == "image/png"
    assert webp.json()["content_type"] == "image/webp" and webp.json()["size_bytes"] > 0
    files = sorted(p.name for p in stored_files(media))
    assert len(files) == 2 and all(name.startswith("doc_") for name in files)
    assert sorted(f.rsplit(".", 1)[1] for f in files) == ["png", "webp"]
    listed = applicant.get(f"/merchant-applications/{application_id}").json()["documents"]
    assert {d["kind"] for d in listed} == {"licence", "permit"}


def _padded_jpeg(total: int) -> bytes:
    jpeg = image_bytes("JPEG")
    return jpeg + b"\0" * (total - len(jpeg))  # JPEG readers ignore what follows the image


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (4, 4)).save(out, format="GIF")
    return out.getvalue()


BAD_UPLOADS = [
    ("text file", {"content": b"hello, not an image", "name": "notes.txt", "content_type": "text/plain"},
     422, "invalid_image"),
    ("fake jpeg", {"content": b"\xff\xd8\xff\xe0 definitely not a jpeg" * 10, "name": "licence.jpg",
                   "content_type": "image/jpeg"}, 422, "invalid_image"),
    ("truncated png", {"content": image_bytes("PNG", (64, 64))[:-30]}, 422, "invalid_image"),
    ("gif", {"content": _gif(), "name": "a.gif", "content_type": "image/gif"}, 422, "invalid_image"),
    ("empty file", {"content": b""}, 422, "invalid_image"),
    ("48 megapixels in a small file", {"content": image_bytes("PNG", (8000, 6000))}, 422, "invalid_image"),
    ("over 5 MB", {"content": _padded_jpeg(5 * 1024 * 1024 + 1), "name": "big.jpg",
                   "content_type": "image/jpeg"}, 413, "file_too_large"),
    ("unknown kind", {"content": image_bytes(), "kind": "selfie"}, 422, "invalid_input"),
]


@pytest.mark.parametrize(("label", "kwargs", "status", "code"), BAD_UPLOADS, ids=[c[0] for c in BAD_UPLOADS])
def test_bad_uploads_are_refused_and_store_nothing(applicant, media, label, kwargs, status, code):
    application_id = _created(applicant)
    kwargs = {"kind": "licence", **kwargs}
    content = kwargs.pop("content")
    _error(upload(applicant, f"/merchant-applications/{application_id}/documents", content, **kwargs),
           status, code)
    assert not ApplicationDocument.objects.exists()
    assert stored_files(media) == []


def test_upload_without_a_file_is_refused(applicant):
    application_id = _created(applicant)
    answer = applicant.client.post(f"/api/v1/merchant-applications/{application_id}/documents",
                                   {"kind": "licence"}, headers=applicant._headers(None))
    _error(answer, 422, "invalid_input")
    assert not ApplicationDocument.objects.exists()


def test_documents_stop_at_twenty(applicant):
    application_id = _created(applicant)
    for _ in range(20):
        assert upload(applicant, f"/merchant-applications/{application_id}/documents", image_bytes(),
                      kind="permit").status_code == 201
    _error(upload(applicant, f"/merchant-applications/{application_id}/documents", image_bytes(),
                  kind="licence"), 409, "too_many_files")
    assert ApplicationDocument.objects.count() == 20


# --- who may do what -------------------------------------------------------------------------

def test_another_users_application_is_not_found(applicant, operator):
    application_id = _created(applicant)
    stranger = sms_login("13800138999")[0]
    for answer in (
        stranger.get(f"/merchant-applications/{application_id}"),
        patch(stranger, f"/merchant-applications/{application_id}", {"legal_name": "抢注"}),
        upload(stranger, f"/merchant-applications/{application_id}/documents", image_bytes(), kind="licence"),
        stranger.post(f"/merchant-applications/{application_id}/submit"),
        operator.get(f"/merchant-applications/{application_id}"),  # applicant endpoints are "mine" only
    ):
        _error(answer, 404, "application_not_found")
    assert stranger.get("/merchant-applications").json() == []
    application = MerchantApplication.objects.get()
    assert application.legal_name == FULL["legal_name"] and not application.documents.exists()


def test_only_operators_use_the_review_endpoints(applicant):
    application_id = _submitted(applicant)
    owner = User.objects.create_user("owner-zhao")
    merchant_create(name="赵记", owner=owner)
    support = User.objects.create_user("support-qian", platform_role="support")
    for user_api in (applicant, token_api(owner), token_api(support)):
        for answer in (
            user_api.get("/ops/merchant-applications"),
            user_api.get(f"/ops/merchant-applications/{application_id}"),
            user_api.post(f"/ops/merchant-applications/{application_id}/approve"),
            user_api.post(f"/ops/merchant-applications/{application_id}/reject", {"reason": "no"}),
            user_api.post(f"/ops/merchant-applications/{application_id}/request-changes", {"note": "no"}),
        ):
            _error(answer, 403, "permission_denied")
    assert MerchantApplication.objects.get().status == "submitted"
    assert Store.objects.count() == 0 and MerchantMember.objects.count() == 1  # only 赵记's owner


def test_anonymous_callers_must_log_in():
    for answer in (Api().get("/merchant-applications"), Api().post("/merchant-applications", {}),
                   Api().get("/ops/merchant-applications")):
        _error(answer, 401, "not_authenticated")


def test_operator_decisions_follow_the_state_table(applicant, operator):
    application_id = _created(applicant)
    for action, body in (("approve", None), ("reject", {"reason": "x"}), ("request-changes", {"note": "x"})):
        _error(operator.post(f"/ops/merchant-applications/{application_id}/{action}", body), 409,
               "illegal_transition")
    _error(operator.post("/ops/merchant-applications/apl_nope/approve"), 404, "application_not_found")
    _error(operator.post("/ops/merchant-applications/apl_%00/approve"), 422, "invalid_input")  # NUL guard
    _error(operator.get("/ops/merchant-applications/apl_%00"), 422, "invalid_input")  # NUL guard
    _error(applicant.get("/merchant-applications/apl_%00"), 422, "invalid_input")  # NUL guard
    _nothing_created()
    assert list(ApplicationEvent.objects.values_list("action", flat=True)) == ["create"]


def test_approving_twice_creates_one_merchant(applicant, operator):
    application_id = _submitted(applicant)
    assert operator.post(f"/ops/merchant-applications/{application_id}/approve").status_code == 200
    _error(operator.post(f"/ops/merchant-applications/{application_id}/approve"), 409, "illegal_transition")
    assert Store.objects.count() == 1 and MerchantMember.objects.count() == 1


def test_a_failed_approval_leaves_no_merchant_or_store(applicant, operator):
    application_id = _submitted(applicant)
    ApplicationDocument.objects.all().delete()  # e.g. removed by a data fix after submission
    details = _error(operator.post(f"/ops/merchant-applications/{application_id}/approve"), 422,
                     "application_incomplete")
    assert details["missing"] == ["licence_document"]
    _nothing_created()
    application = MerchantApplication.objects.get()
    assert application.status == "submitted" and application.merchant is None
    assert "approve" not in set(application.events.values_list("action", flat=True))


def test_review_queue_is_oldest_first_and_filters_by_status(operator):
    ids = []
    for n in range(3):
        api = sms_login(f"1380013810{n}")[0]
        ids.append(_submitted(api))
    now = timezone.now()
    for minutes_ago, application_id in zip((5, 30, 10), ids, strict=True):
        MerchantApplication.objects.filter(public_id=application_id).update(
            submitted_at=now - timezone.timedelta(minutes=minutes_ago))
    assert [a["id"] for a in operator.get("/ops/merchant-applications").json()] == [ids[1], ids[2], ids[0]]
    assert [a["id"] for a in operator.get("/ops/merchant-applications", {"limit": 1, "offset": 1}).json()] \
        == [ids[2]]
    operator.post(f"/ops/merchant-applications/{ids[2]}/request-changes", {"note": "补充许可证"})
    assert [a["id"] for a in operator.get("/ops/merchant-applications",
                                          {"status": "needs_changes"}).json()] == [ids[2]]
    detail = operator.get(f"/ops/merchant-applications/{ids[0]}").json()
    assert detail["bank_account_masked"] == "6222 **** **** 1234"
    _error(operator.get("/ops/merchant-applications", {"status": "lost"}), 422, "invalid_input")
    _error(operator.get("/ops/merchant-applications", {"limit": 0}), 422, "invalid_input")


def test_an_existing_merchant_owner_may_apply_for_another_business():
    store = make_store()
    owner = MerchantMember.objects.get(merchant=store.merchant).user
    api = token_api(owner)
    assert api.post("/merchant-applications", {"legal_name": "第二家公司"}).status_code == 201


# --- under concurrency (PostgreSQL) ------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_open_one_application():
    from tests.orders.test_concurrency import run_concurrently

    api = token_api(User.objects.create_user("hasty", phone="+8613800138111"))
    answers = run_concurrently([lambda: api.post("/merchant-applications", {}) for _ in range(8)])
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert {a.json().get("code") for a in answers if a.status_code == 409} == {"application_exists"}
    assert MerchantApplication.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_operators_approving_at_once_create_one_merchant():
    from tests.orders.test_concurrency import run_concurrently

    application_id = _submitted(token_api(User.objects.create_user("applicant", phone="+8613800138112")))
    operators = [token_api(User.objects.create_user(f"ops-{n}", platform_role="operator")) for n in range(2)]
    answers = run_concurrently([
        lambda api=api: api.post(f"/ops/merchant-applications/{application_id}/approve") for api in operators
    ])
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert Store.objects.count() == 1 and MerchantMember.objects.count() == 1
    assert ApplicationEvent.objects.filter(action="approve").count() == 1


def test_the_back_office_shows_applications_read_only_with_the_account_masked(applicant, operator):
    from django.test import Client
    from django.urls import reverse

    application_id = _submitted(applicant)
    operator.post(f"/ops/merchant-applications/{application_id}/request-changes", {"note": "补充许可证"})
    browser = Client()
    browser.force_login(User.objects.create_superuser("root", "long-enough-password"))
    listing = browser.get(reverse("admin:merchants_merchantapplication_changelist"))
    pk = MerchantApplication.objects.get().pk
    page = browser.get(reverse("admin:merchants_merchantapplication_change", args=[pk]))
    assert listing.status_code == page.status_code == 200
    html = page.content.decode()
    assert "6222 **** **** 1234" in html and BANK_ACCOUNT not in html
    assert "request_changes" in html and "补充许可证" in html  # the events inline
    assert browser.post(reverse("admin:merchants_merchantapplication_change", args=[pk]),
                        {"status": "approved"}).status_code == 403
    assert MerchantApplication.objects.get().status == "needs_changes"
