"""Phone + SMS-code login, password login, tokens, and their limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from linli.accounts.models import SmsCode, User
from linli.accounts.services import sms_cooldown_key
from tests.fixtures import PASSWORD, Api, make_staff, make_store, password_login, sms_login

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"


def _code(outbox) -> str:
    return re.search(r"\d{6}", outbox[-1][1]).group()


def test_first_sms_login_signs_up_a_consumer_with_an_e164_phone(sms_outbox):
    api, body = sms_login("138 0013 8000")
    assert sms_outbox[-1][0] == PHONE
    user = User.objects.get(phone=PHONE)
    assert body["user"] == {"id": user.public_id, "phone": "+86138****8000", "display_name": "",
                            "roles": ["consumer"]}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert api.get("/me").json()["id"] == user.public_id
    cache.delete(sms_cooldown_key(PHONE))  # a minute later
    sms_login(PHONE)  # a second login finds the same user
    assert User.objects.filter(phone=PHONE).count() == 1


@pytest.mark.parametrize("phone", ["12345", "abc", "1380013800", "+86 999 0000 0000", "", "1" * 40])
def test_malformed_phone_is_refused(phone, sms_outbox):
    answer = Api().post("/auth/sms-code", {"phone": phone})
    assert answer.status_code == 422
    assert answer.json()["code"] in {"invalid_phone", "invalid_input"}
    assert sms_outbox == [] and SmsCode.objects.count() == 0


def test_wrong_code_counts_attempts_then_locks_the_code(sms_outbox):
    api = Api()
    api.post("/auth/sms-code", {"phone": PHONE})
    right = _code(sms_outbox)
    wrong = "000000" if right != "000000" else "111111"
    answers = [api.post("/auth/login", {"phone": PHONE, "code": wrong}).json() for _ in range(5)]
    assert [a["code"] for a in answers] == ["sms_code_invalid"] * 4 + ["sms_code_attempts_exceeded"]
    assert [a["details"].get("attempts_left") for a in answers[:4]] == [4, 3, 2, 1]
    locked = api.post("/auth/login", {"phone": PHONE, "code": right})
    assert locked.status_code == 429 and locked.json()["code"] == "sms_code_attempts_exceeded"
    assert not User.objects.filter(phone=PHONE).exists()


def test_expired_code_is_refused(sms_outbox):
    api = Api()
    api.post("/auth/sms-code", {"phone": PHONE})
    SmsCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = api.post("/auth/login", {"phone": PHONE, "code": _code(sms_outbox)})
    assert answer.status_code == 400 and answer.json()["code"] == "sms_code_expired"


def test_code_works_once(sms_outbox):
    api = Api()
    api.post("/auth/sms-code", {"phone": PHONE})
    code = _code(sms_outbox)
    assert api.post("/auth/login", {"phone": PHONE, "code": code}).status_code == 200
    again = api.post("/auth/login", {"phone": PHONE, "code": code})
    assert again.status_code == 400 and again.json()["code"] == "sms_code_expired"


def test_login_without_requesting_a_code_is_refused():
    answer = Api().post("/auth/login", {"phone": PHONE, "code": "123456"})
    assert answer.json()["code"] == "sms_code_expired"


def test_one_code_per_minute_and_ten_per_day(sms_outbox):
    api = Api()
    assert api.post("/auth/sms-code", {"phone": PHONE}).status_code == 202
    too_soon = api.post("/auth/sms-code", {"phone": PHONE})
    assert too_soon.status_code == 429 and too_soon.json()["code"] == "sms_too_frequent"
    for _ in range(9):
        cache.delete(sms_cooldown_key(PHONE))  # the minute has passed
        assert api.post("/auth/sms-code", {"phone": PHONE}).status_code == 202
    cache.delete(sms_cooldown_key(PHONE))
    eleventh = api.post("/auth/sms-code", {"phone": PHONE})
    assert eleventh.status_code == 429 and eleventh.json()["code"] == "sms_daily_limit"
    assert len(sms_outbox) == 10


def test_a_new_code_replaces_the_previous_one(sms_outbox):
    api = Api()
    api.post("/auth/sms-code", {"phone": PHONE})
    first = _code(sms_outbox)
    cache.delete(sms_cooldown_key(PHONE))
    api.post("/auth/sms-code", {"phone": PHONE})
    second = _code(sms_outbox)
    if first != second:
        assert api.post("/auth/login", {"phone": PHONE, "code": first}).status_code == 400
    assert api.post("/auth/login", {"phone": PHONE, "code": second}).status_code == 200


def test_password_login_for_staff_by_username_or_phone():
    store = make_store()
    staff = make_staff(store)
    by_name = password_login(staff.username)
    assert by_name.get("/me").json()["roles"] == ["consumer", "merchant_staff"]
    by_phone = password_login(staff.phone)
    assert by_phone.get("/me").json()["id"] == staff.public_id
    wrong = Api().post("/auth/password-login", {"login": staff.username, "password": "nope-nope"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "bad_credentials"
    unknown = Api().post("/auth/password-login", {"login": "ghost", "password": PASSWORD})
    assert unknown.status_code == 401 and unknown.json()["code"] == "bad_credentials"


def test_sms_only_user_cannot_log_in_by_password():
    sms_login(PHONE)
    answer = Api().post("/auth/password-login", {"login": PHONE, "password": ""})
    assert answer.status_code == 422
    answer = Api().post("/auth/password-login", {"login": PHONE, "password": "anything-at-all"})
    assert answer.json()["code"] == "bad_credentials"


def test_refresh_gives_new_tokens_and_rejects_access_tokens():
    _, body = sms_login(PHONE)
    fresh = Api().post("/auth/refresh", {"refresh_token": body["refresh_token"]})
    assert fresh.status_code == 200
    assert Api(token=fresh.json()["access_token"]).get("/me").status_code == 200
    wrong_kind = Api().post("/auth/refresh", {"refresh_token": body["access_token"]})
    assert wrong_kind.status_code == 401 and wrong_kind.json()["code"] == "invalid_token"
    garbage = Api().post("/auth/refresh", {"refresh_token": "not.a.jwt"})
    assert garbage.status_code == 401


def test_me_needs_a_valid_token():
    assert Api().get("/me").json()["code"] == "not_authenticated"
    assert Api(token="forged").get("/me").status_code == 401
    api, body = sms_login(PHONE)
    assert Api(token=body["refresh_token"]).get("/me").status_code == 401  # refresh is not access


def test_bumping_token_version_revokes_issued_tokens():
    api, body = sms_login(PHONE)
    User.objects.filter(phone=PHONE).update(token_version=1)
    assert api.get("/me").status_code == 401
    assert Api().post("/auth/refresh", {"refresh_token": body["refresh_token"]}).status_code == 401


def test_a_token_accepted_once_is_still_refused_when_it_expires_or_its_key_changes(settings, monkeypatch):
    api, body = sms_login(PHONE)
    assert api.get("/me").status_code == 200  # verified once: its claims are remembered
    later = timezone.now() + settings.LINLI_JWT_ACCESS_TTL + timedelta(seconds=1)
    monkeypatch.setattr("linli.accounts.tokens.timezone.now", lambda: later)
    expired = api.get("/me")
    assert expired.status_code == 401 and expired.json()["code"] == "invalid_token"
    monkeypatch.undo()
    assert api.get("/me").status_code == 200
    settings.SECRET_KEY = "another-signing-key-" + "x" * 40  # rotated: the old signature no longer holds
    assert api.get("/me").status_code == 401


def test_a_tampered_token_is_refused_even_after_the_genuine_one_was_accepted():
    api, body = sms_login(PHONE)
    assert api.get("/me").status_code == 200
    head, claims, signature = body["access_token"].split(".")
    flipped = "A" if signature[10] != "A" else "B"  # a middle character: all six of its bits count
    forged = ".".join([head, claims, signature[:10] + flipped + signature[11:]])
    assert Api(token=forged).get("/me").status_code == 401
