"""accounts/phone.py: what people type, stored as E.164; parses are remembered per
(text, region), so the second answer must equal the first, refusals included."""

from __future__ import annotations

import pytest

from linli.accounts.phone import InvalidPhone, phone_mask, phone_normalise


@pytest.mark.parametrize("raw", ["138 0013 8000", "13800138000", "+86 138-0013-8000", "008613800138000"])
def test_the_ways_people_write_a_mobile_number_give_one_e164(raw):
    assert phone_normalise(raw) == "+8613800138000"
    assert phone_normalise(raw) == "+8613800138000"  # the remembered answer


@pytest.mark.parametrize("raw", ["", "123", "abc", "1380013800", "+1 555", "1" * 33])
def test_a_number_that_is_not_valid_is_refused_every_time(raw):
    for _ in range(2):  # a refusal is remembered as one, never as a number
        with pytest.raises(InvalidPhone) as caught:
            phone_normalise(raw)
        assert caught.value.code == "invalid_phone"


def test_the_region_decides_what_a_national_number_means():
    assert phone_normalise("020 7946 0018", region="GB") == "+442079460018"  # London
    assert phone_normalise("020 7946 0018", region="CN") == "+862079460018"  # Guangzhou


def test_a_masked_number_keeps_the_country_and_the_last_four():
    assert phone_mask("+8613800138000") == "+86138****8000"
