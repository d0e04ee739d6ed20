"""The merchant application queue in the back office: submitted applications first, a
read-only page with the masked account, the images (only through the permission-checking
view) and the history, and decisions that go through the onboarding services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone, translation

from linli.accounts.models import User
from linli.merchants.models import (
    ApplicationEvent,
    Merchant,
    MerchantApplication,
    MerchantMember,
    Store,
    StoreCategory,
)
from linli.merchants.onboarding import NoteRequired, ReasonRequired
from tests.fixtures import sms_login
from tests.merchants.test_onboarding import BANK_ACCOUNT, FULL, image_bytes, upload

from .helpers import operator_user, staff_client, submitted_application

pytestmark = pytest.mark.django_db

QUEUE = "/ops/merchants/merchantapplication/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    StoreCategory.objects.get_or_create(slug="food", defaults={"name_zh": "美食", "name_en": "Food"})
    return settings.MEDIA_ROOT


@pytest.fixture
def application() -> MerchantApplication:
    """Applied for through the API, with a licence image, and submitted."""
    api, _ = sms_login("13800138001")
    created = api.post("/merchant-applications", FULL)
    assert created.status_code == 201, created.content
    application_id = created.json()["id"]
    assert upload(api, f"/merchant-applications/{application_id}/documents", image_bytes(),
                  kind="licence").status_code == 201
    assert api.post(f"/merchant-applications/{application_id}/submit").status_code == 200
    return MerchantApplication.objects.get(public_id=application_id)


def _page(application: MerchantApplication) -> str:
    return f"{QUEUE}{application.public_id}/change/"


def _decide(client: Client, application: MerchantApplication, decision: str, note: str = ""):
    return client.post(f"{QUEUE}{application.public_id}/decide/", {"decision": decision, "note": note})


def _zh(message) -> str:
    with translation.override("zh-hans"):
        return str(message)


def test_the_queue_lists_submitted_applications_first_the_longest_waiting_on_top():
    now = timezone.now()
    people = [User.objects.create_user(f"applicant-{i}") for i in range(5)]
    approved = submitted_application(people[0], status="approved", submitted_at=now - timedelta(days=9))
    newer = submitted_application(people[1], submitted_at=now - timedelta(hours=1))
    older = submitted_application(people[2], submitted_at=now - timedelta(days=2))
    draft = submitted_application(people[3], status="draft")
    changes = submitted_application(people[4], status="needs_changes", submitted_at=now - timedelta(days=5))
    client = staff_client()
    listing = client.get(QUEUE)
    assert listing.status_code == 200
    rows = [a.public_id for a in listing.context["cl"].result_list]
    assert rows == [older.public_id, newer.public_id, changes.public_id, draft.public_id, approved.public_id]
    html = listing.content.decode()
    assert f'href="{QUEUE}{older.public_id}/change/' in html  # linked by public id
    only_submitted = client.get(QUEUE, {"status__exact": "submitted"})
    assert [a.public_id for a in only_submitted.context["cl"].result_list] == [older.public_id, newer.public_id]


def test_the_page_shows_fields_masked_account_documents_and_history(application):
    client = staff_client()
    page = client.get(_page(application))
    assert page.status_code == 200
    html = page.content.decode()
    assert "上海老王餐饮管理有限公司" in html and "91310101MA1FPX0G1N" in html
    assert "6222 **** **** 1234" in html and BANK_ACCOUNT not in html
    document = application.documents.get()
    image_url = f"{QUEUE}{application.public_id}/documents/{document.public_id}/"
    assert f'src="{image_url}"' in html
    assert "/media/" not in html and document.file.name not in html
    assert "draft → submitted" in html and "submit" in html  # the history inline
    assert 'data-testid="approve"' in html and 'data-testid="reject"' in html
    # also reachable by its integer key, for old bookmarks
    assert client.get(f"{QUEUE}{application.pk}/change/").status_code == 200
    assert client.get(f"{QUEUE}apl_missing/change/").status_code == 302  # admin: "does not exist"


def test_documents_are_served_only_to_staff_who_may_view_the_application(application, client):
    document = application.documents.get()
    url = f"{QUEUE}{application.public_id}/documents/{document.public_id}/"
    operator = staff_client()
    image = operator.get(url)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    served = b"".join(image.streaming_content)
    with document.file.open("rb") as stored:  # what was stored: the upload re-encoded (merchants/uploads.py)
        assert served == stored.read() and served.startswith(b"\x89PNG")
    assert image["X-Content-Type-Options"] == "nosniff" and "no-store" in image["Cache-Control"]
    # not public: not through /media/, not to visitors, not to staff without the view right
    assert client.get(f"/media/{document.file.name}").status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/ops/login/")
    bare_staff = User.objects.create_user("ops-intern", is_staff=True)
    assert staff_client(bare_staff).get(url).status_code == 403
    # a document id of another application is not found
    assert operator.get(f"{QUEUE}{application.public_id}/documents/doc_nope/").status_code == 404


def test_approve_creates_the_merchant_and_its_first_store(application):
    operator = operator_user()
    client = staff_client(operator)
    answer = _decide(client, application, "approve")
    assert answer.status_code == 302 and answer["Location"] == _page(application)
    application.refresh_from_db()
    assert application.status == "approved" and application.decided_at is not None
    merchant, store = Merchant.objects.get(), Store.objects.get()
    assert (application.merchant, application.store) == (merchant, store)
    assert store.name == FULL["store_name"] and store.status == "open"
    assert MerchantMember.objects.get(merchant=merchant).user == application.applicant
    event = ApplicationEvent.objects.filter(application=application).last()
    assert (event.action, event.from_status, event.to_status, event.actor, event.actor_role) == (
        "approve", "submitted", "approved", operator, "operator")
    page = client.get(answer["Location"])
    html = page.content.decode()
    assert merchant.public_id in html and store.public_id in html
    assert 'data-testid="approve"' not in html  # decided: no more buttons
    # a second approval (a double click) is refused by the state table, nothing doubles
    again = _decide(client, application, "approve")
    assert again.status_code == 409 and 'data-code="illegal_transition"' in again.content.decode()
    assert Merchant.objects.count() == 1 and Store.objects.count() == 1


def test_reject_without_a_reason_shows_the_error_and_changes_nothing(application):
    client = staff_client()
    events = ApplicationEvent.objects.count()
    refused = _decide(client, application, "reject", "   ")
    assert refused.status_code == 422
    html = refused.content.decode()
    assert 'data-code="reason_required"' in html and _zh(ReasonRequired.message) in html
    assert 'data-testid="decision-note"' in html  # the form is there to try again
    application.refresh_from_db()
    assert application.status == "submitted" and application.decision_note == ""
    assert ApplicationEvent.objects.count() == events and not Merchant.objects.exists()

    answer = _decide(client, application, "reject", "营业执照已过期")
    assert answer.status_code == 302
    application.refresh_from_db()
    assert application.status == "rejected" and application.decision_note == "营业执照已过期"
    assert ApplicationEvent.objects.filter(action="reject", note="营业执照已过期").exists()
    assert not Merchant.objects.exists() and not Store.objects.exists()


def test_needs_changes_requires_a_note_and_sends_the_application_back(application):
    client = staff_client()
    refused = _decide(client, application, "request_changes")
    assert refused.status_code == 422 and _zh(NoteRequired.message) in refused.content.decode()
    assert MerchantApplication.objects.get().status == "submitted"
    answer = _decide(client, application, "request_changes", "请补充食品经营许可证")
    assert answer.status_code == 302
    application.refresh_from_db()
    assert application.status == "needs_changes" and application.decision_note == "请补充食品经营许可证"
    page = client.get(_page(application)).content.decode()
    assert "submitted → needs_changes" in page and "请补充食品经营许可证" in page


def test_staff_who_are_not_operators_cannot_decide(application):
    # staff with the admin permissions but without the operator platform role: the service refuses
    not_operator = operator_user("ops-temp")
    not_operator.platform_role = ""
    not_operator.save()
    refused = _decide(staff_client(not_operator), application, "approve")
    assert refused.status_code == 403 and 'data-code="permission_denied"' in refused.content.decode()
    # staff who may only view: no buttons, and the decide view refuses
    viewer = User.objects.create_user("ops-viewer", is_staff=True, platform_role="operator")
    viewer.user_permissions.set(Permission.objects.filter(codename="view_merchantapplication"))
    client = staff_client(viewer)
    page = client.get(_page(application)).content.decode()
    assert 'data-testid="approve"' not in page
    assert _decide(client, application, "approve").status_code == 403
    assert client.get(f"{QUEUE}{application.public_id}/decide/").status_code == 405
    assert MerchantApplication.objects.get().status == "submitted" and not Merchant.objects.exists()
    # the change form itself never saves
    assert staff_client(operator_user()).post(_page(application), {"status": "approved"}).status_code == 403


def test_an_unknown_decision_is_refused(application):
    refused = _decide(staff_client(), application, "approve_all")
    assert refused.status_code == 422 and 'data-code="invalid_input"' in refused.content.decode()
    assert MerchantApplication.objects.get().status == "submitted"
