"""core.crypto on its own: AES-GCM values carry their key id, tampering and a swapped key id
are refused, a ring names its current key first, and lookup hashes are keyed."""

from __future__ import annotations

import base64

import pytest

from linli.core import crypto

KEY_A, KEY_B = bytes(range(32)), bytes(range(1, 33))


def ring(spec: str) -> crypto.KeyRing:
    return crypto.keyring_parse(spec)


A = f"a:{base64.b64encode(KEY_A).decode()}"
B = f"b:{base64.urlsafe_b64encode(KEY_B).decode().rstrip('=')}"


def test_values_round_trip_and_name_their_key():
    token = crypto.encrypt("+8613912345678", ring(A))
    assert token.startswith("enc1:a:") and "13912345678" not in token
    assert crypto.token_kid(token) == "a"
    assert crypto.decrypt(token, ring(A)) == "+8613912345678"


def test_equal_values_encrypt_differently():
    assert crypto.encrypt("张三", ring(A)) != crypto.encrypt("张三", ring(A))


def test_the_first_key_is_current_and_every_key_decrypts():
    both = ring(f"{B},{A}")
    assert both.current == "b"
    old = crypto.encrypt("黄浦区人民大道 200 号", ring(A))
    assert crypto.decrypt(old, both) == "黄浦区人民大道 200 号"
    assert crypto.token_kid(crypto.encrypt("x", both)) == "b"


def test_plaintext_from_before_encryption_reads_as_it_is():
    assert crypto.decrypt("+8613912345678", ring(A)) == "+8613912345678"
    assert crypto.token_kid("+8613912345678") is None


def test_a_removed_key_a_tampered_value_or_a_swapped_key_id_are_refused():
    token = crypto.encrypt("6222021234567891234", ring(A))
    with pytest.raises(crypto.FieldKeyError, match="no key 'a'"):
        crypto.decrypt(token, ring(B))
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(crypto.FieldKeyError):
        crypto.decrypt(tampered, ring(A))
    same_key_other_id = ring(f"b:{base64.b64encode(KEY_A).decode()}")
    with pytest.raises(crypto.FieldKeyError):  # the header is authenticated data
        crypto.decrypt(token.replace("enc1:a:", "enc1:b:"), same_key_other_id)


@pytest.mark.parametrize("spec, problem", [
    ("", "empty"), ("a", "kid:base64key"), ("a:not base64!", "not base64"),
    (f"a:{base64.b64encode(b'short').decode()}", "32 bytes"), (f"{A},{A}", "twice"),
    (f"bad id!:{base64.b64encode(KEY_A).decode()}", "bad key id"),
])
def test_bad_key_rings_are_refused(spec, problem):
    with pytest.raises(crypto.FieldKeyError, match=problem):
        crypto.keyring_parse(spec)


def test_lookup_hashes_are_stable_and_keyed():
    one = crypto.lookup_hash("+8613912345678", KEY_A)
    assert one == crypto.lookup_hash("+8613912345678", KEY_A) and len(one) == 64
    assert one != crypto.lookup_hash("+8613912345678", KEY_B)
    assert one != crypto.lookup_hash("+8613912345679", KEY_A)


def test_generated_keys_make_a_ring():
    assert len(ring(f"k1:{crypto.key_generate()}").keys["k1"]) == 32
