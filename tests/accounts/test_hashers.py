"""Passwords: Argon2id in OWASP's 7 MiB configuration, and old hashes upgraded on the next login."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password


@pytest.fixture
def real_hashers(settings):
    settings.PASSWORD_HASHERS = ["linli.accounts.hashers.Argon2idHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def test_new_passwords_use_argon2id_with_7_mib_5_passes_1_lane(real_hashers):
    encoded = make_password("linli-demo-2026")
    assert encoded.startswith("argon2$argon2id$v=19$m=7168,t=5,p=1$")
    assert check_password("linli-demo-2026", encoded)
    assert not check_password("linli-demo-2027", encoded)


def test_a_hash_made_with_djangos_settings_verifies_and_is_rehashed(real_hashers):
    old = Argon2PasswordHasher().encode("linli-demo-2026", Argon2PasswordHasher().salt())
    assert "m=102400" in old
    saved: list[str] = []
    assert check_password("linli-demo-2026", old, setter=lambda raw: saved.append(make_password(raw)))
    assert len(saved) == 1 and "m=7168,t=5,p=1" in saved[0]


def test_a_hash_of_the_previous_19_mib_settings_verifies_and_is_rehashed(real_hashers):
    previous = Argon2PasswordHasher()
    previous.memory_cost, previous.time_cost, previous.parallelism = 19 * 1024, 2, 1
    old = previous.encode("linli-demo-2026", previous.salt())
    assert "m=19456,t=2,p=1" in old
    saved: list[str] = []
    assert check_password("linli-demo-2026", old, setter=lambda raw: saved.append(make_password(raw)))
    assert len(saved) == 1 and "m=7168,t=5,p=1" in saved[0]
    assert not check_password("linli-demo-2027", old)
