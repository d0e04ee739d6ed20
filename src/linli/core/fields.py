"""Model fields shared by every app."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldError
from django.core.signals import setting_changed
from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Exact

from . import crypto
from .ids import new_public_id


class PublicIdField(models.CharField):
    """The id clients see (`ord_...`); the integer primary key never leaves the server."""

    def __init__(self, *args: Any, prefix: str = "", **kwargs: Any) -> None:
        self.prefix = prefix
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):  # type: ignore[no-untyped-def]
        name, path, args, kwargs = super().deconstruct()
        kwargs["prefix"] = self.prefix
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = getattr(model_instance, self.attname)
        if not value:
            value = new_public_id(self.prefix)
            setattr(model_instance, self.attname, value)
        return value


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# -- Field encryption (docs/security.md "Field encryption") ---------------------------------

DEV_KID = "dev"


@cache
def field_keyring() -> crypto.KeyRing:
    """The ring from `LINLI_FIELD_KEYS`; without it, one key derived from SECRET_KEY
    (development and tests: production refuses to start without the setting)."""
    derived = crypto.key_derive(settings.SECRET_KEY, "field-keys")
    spec = settings.LINLI_FIELD_KEYS
    if not spec:
        return crypto.KeyRing(keys={DEV_KID: derived}, current=DEV_KID)
    ring = crypto.keyring_parse(spec)
    # Values written before the keys were configured stay readable (decrypt only), so
    # `rotate-field-keys` can move them under the configured key.
    return crypto.KeyRing(keys={DEV_KID: derived, **ring.keys}, current=ring.current)


@cache
def _lookup_key() -> bytes:
    spec = settings.LINLI_LOOKUP_KEY
    if spec:
        return spec.encode()
    return crypto.key_derive(settings.SECRET_KEY, "lookup-hash")


def lookup_hash(value: str) -> str:
    """The keyed hash stored beside an encrypted column (`phone_hash`) and used for every
    lookup by that value. Callers pass the normalised value (E.164 for phones)."""
    return crypto.lookup_hash(value, _lookup_key())


def _keys_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("LINLI_FIELD_KEYS", "LINLI_LOOKUP_KEY", "SECRET_KEY"):
        field_keyring.cache_clear()
        _lookup_key.cache_clear()


setting_changed.connect(_keys_changed)


class EncryptedExact(Exact):
    """Equality on ciphertext means nothing (random nonces make equal values differ). A
    field with a `hash_field` compares that column with the keyed hash instead (so
    `filter(phone=e164)` and `consumer__phone=e164` work); on any other encrypted field
    only `=None` / `=""` are allowed and the rest fails loudly."""

    def _hash_field(self) -> models.Field | None:
        name = getattr(self.lhs.output_field, "hash_field", "")
        return self.lhs.output_field.model._meta.get_field(name) if name else None

    def _by_value(self) -> bool:
        return self.rhs not in (None, "") and not hasattr(self.rhs, "resolve_expression")

    def get_prep_lookup(self) -> Any:
        if self._by_value():
            if not self.lhs.output_field.hash_field or not isinstance(self.lhs, Col):
                raise FieldError(f"{self.lhs.output_field.name} is encrypted: look it up by its keyed hash")
            return self.rhs
        return super().get_prep_lookup()

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        hash_field = self._hash_field() if self._by_value() else None
        if hash_field is None:
            return super().as_sql(compiler, connection)
        normalise = getattr(self.lhs.output_field, "hash_normalise", None) or str
        by_hash = Exact(Col(self.lhs.alias, hash_field), lookup_hash(normalise(str(self.rhs))))
        return by_hash.as_sql(compiler, connection)


class EncryptedTextField(models.TextField):
    """Text encrypted at rest with the current field key (`core.crypto`); Python sees the
    plaintext. "" and None are stored as they are. Lookups: `isnull`, `=""`, and equality
    through the keyed hash when the field names its `hash_field` (see EncryptedExact)."""

    description = "Text encrypted at rest"

    def __init__(self, *args: Any, hash_field: str = "",
                 hash_normalise: Callable[[str], str] | None = None, **kwargs: Any) -> None:
        self.hash_field = hash_field  # the sibling LookupHashField that equality compares
        # What a compared value goes through before hashing ("138 0013 8000" -> E.164). Not
        # part of deconstruct(): it changes no column, and migrations never look values up.
        self.hash_normalise = hash_normalise
        super().__init__(*args, **kwargs)

    def deconstruct(self):  # type: ignore[no-untyped-def]
        name, path, args, kwargs = super().deconstruct()
        if self.hash_field:
            kwargs["hash_field"] = self.hash_field
        return name, path, args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if not value:
            return value
        return self.from_plaintext(crypto.decrypt(value, field_keyring()))

    def from_plaintext(self, plaintext: str) -> Any:
        return plaintext

    def to_plaintext(self, value: Any) -> str:
        return str(value)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None or value == "" or hasattr(value, "resolve_expression"):
            return value
        return crypto.encrypt(self.to_plaintext(value), field_keyring())

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact" or (lookup_name == "iexact" and self.hash_field):
            return EncryptedExact  # iexact: the admin's "=field" search; values are normalised
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None


class EncryptedJSONField(EncryptedTextField):
    """A JSON document (e.g. an order's address snapshot) encrypted whole."""

    description = "JSON encrypted at rest"

    def from_plaintext(self, plaintext: str) -> Any:
        return json.loads(plaintext)

    def to_plaintext(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        return value

    def value_to_string(self, obj: models.Model) -> str:
        return self.to_plaintext(self.value_from_object(obj))


class LookupHashField(models.CharField):
    """The keyed hash of another field of the same row (`source`), kept in step on every
    save and bulk_create: `User.phone_hash` from `User.phone`."""

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):  # type: ignore[no-untyped-def]
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        value = getattr(model_instance, self.source)
        # hashed as lookups hash it (EncryptedExact: the source field's hash_normalise), so
        # a row saved with "13800000001" is found by filter(phone="+8613800000001") and back
        normalise = getattr(model_instance._meta.get_field(self.source), "hash_normalise", None) or str
        hashed = lookup_hash(normalise(str(value))) if value else (None if self.null else "")
        setattr(model_instance, self.attname, hashed)
        return hashed
