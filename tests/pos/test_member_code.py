"""The dynamic member code: pure arithmetic, showing it, accepting it once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.accounts import member_code as mc
from linli.accounts.member_codes import member_code_accept, member_code_show
from linli.core.errors import DomainError
from tests.pos.helpers import Shop, member, member_code

pytestmark = pytest.mark.django_db

PAD = b"p" * 32


def test_codes_are_18_digits_with_prefix_and_luhn_and_change_every_step():
    secret = b"s" * 32
    a = mc.code_render(index=42, secret=secret, step=1000, pad_key=PAD)
    b = mc.code_render(index=42, secret=secret, step=1001, pad_key=PAD)
    assert len(a) == 18 and a.isdigit() and a.startswith("66") and mc.code_well_formed(a)
    assert a != b and a[2:10] != b[2:10]  # the member field does not stay the same
    assert mc.code_index_for_step(a, step=1000, pad_key=PAD) == 42
    assert mc.code_matches(a, index=42, secret=secret, step=1000, generation=0, pad_key=PAD)
    assert not mc.code_matches(a, index=42, secret=secret, step=1000, generation=1, pad_key=PAD)


def test_a_changed_digit_fails_the_luhn_check_or_the_mac():
    secret = b"s" * 32
    code = mc.code_render(index=7, secret=secret, step=5, pad_key=PAD)
    for i in range(2, 17):
        flipped = code[:i] + str((int(code[i]) + 1) % 10) + code[i + 1:]
        assert not mc.code_well_formed(flipped)
    assert not mc.code_well_formed(code[:-1])
    assert not mc.code_well_formed("11" + code[2:])


def test_one_members_code_cannot_be_turned_into_anothers():
    """Rewriting the member field to another index (and fixing the Luhn digit) is refused:
    the authenticator is keyed by the member's own secret."""
    mine, theirs = b"a" * 32, b"b" * 32
    code = mc.code_render(index=1, secret=mine, step=9, pad_key=PAD)
    field = (2 + mc._pad(PAD, 9)) % mc.INDEX_SPACE
    forged_body = code[:2] + f"{field:08d}" + code[10:17]
    forged = forged_body + mc.luhn_digit(forged_body)
    assert mc.code_index_for_step(forged, step=9, pad_key=PAD) == 2
    assert not mc.code_matches(forged, index=2, secret=theirs, step=9, generation=0, pad_key=PAD)


def test_shown_code_identifies_the_member_once_and_shows_masked_details():
    shop = Shop()
    api, user = member(wallet_fen=100_00)
    answer = api.get("/me/member-code").json()
    assert answer["qr_svg"].startswith("<svg") and len(answer["code"]) == 18
    assert 0 < answer["refresh_in"] <= 30
    found = shop.identify(answer["code"])
    assert found.status_code == 200, found.content
    body = found.json()
    assert body["id"] == user.public_id and "****" in body["phone"] and body["wallet_fen"] == 100_00
    assert body["tier"] == "regular" and body["points"] == 0 and body["member_ticket"]
    again = shop.identify(answer["code"])
    assert again.status_code == 409 and again.json()["code"] == "member_code_used"
    assert member_code(api) != answer["code"]  # the app shows a fresh code after a use


def test_expired_guessed_and_malformed_codes_are_refused_with_their_code():
    shop = Shop()
    api, user = member()
    old = member_code_show(user=user, now=timezone.now() - timedelta(minutes=3)).code
    expired = shop.identify(old)
    assert expired.status_code == 409 and expired.json()["code"] == "member_code_expired"
    code = member_code(api)
    body = code[:10] + f"{(int(code[10:17]) + 1) % 10**7:07d}"
    guessed = body + mc.luhn_digit(body)
    for bad in (guessed, "66" + "0" * 16, "hello", "6" * 18, code[:-1]):
        answer = shop.identify(bad)
        assert answer.status_code in (409, 422), (bad, answer.content)
        assert answer.json()["code"] == "member_code_invalid", bad
    en = shop.identify("123")
    assert en.json()["message"]
    assert shop.identify(code).status_code == 200  # the real one still works


def test_the_previous_step_is_accepted_and_two_steps_back_is_not():
    _api, user = member()
    now = timezone.now()
    shown = member_code_show(user=user, now=now)
    assert member_code_accept(code=shown.code, at=now + timedelta(seconds=30)).user == user
    shown = member_code_show(user=user, now=now)
    with pytest.raises(DomainError) as late:
        member_code_accept(code=shown.code, at=now + timedelta(seconds=61))
    assert late.value.code == "member_code_expired"


def test_only_staff_of_the_store_may_identify():
    shop, other = Shop(), Shop()
    api, _user = member()
    answer = shop.identify(member_code(api), api=other.cashier)
    assert answer.status_code == 404 and answer.json()["code"] == "store_not_found"
    assert shop.identify(member_code(api), api=api).status_code == 404  # a consumer
