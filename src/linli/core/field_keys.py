"""Re-encrypting encrypted columns with the current field key: the data migrations that
first encrypt existing rows and `linli rotate-field-keys` share this.

A row is stale when one of its encrypted columns is not empty and does not start with
``enc1:<current kid>:`` (plaintext from before encryption, or an older key). Stale rows are
read (the field decrypts) and written back (the field encrypts with the current key) in
batches, each batch locked and committed on its own, so a run can stop anywhere and the
next one goes on: running it again when nothing is stale changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import reduce
from operator import or_

from django.apps import apps as global_apps
from django.db import models, transaction
from django.db.models.functions import Cast

from .crypto import PREFIX
from .fields import EncryptedTextField, field_keyring

BATCH_SIZE = 500


def encrypted_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def encrypted_models(apps: object = global_apps) -> list[tuple[type[models.Model], list[str]]]:
    """Every concrete model with encrypted columns, and those columns."""
    found = []
    for model in apps.get_models():  # type: ignore[attr-defined]
        names = encrypted_fields(model)
        if names and not model._meta.proxy:
            found.append((model, names))
    return sorted(found, key=lambda pair: pair[0]._meta.label)


def _raw(name: str) -> str:
    return f"_raw_{name}"


def stale_rows(model: type[models.Model], names: Iterable[str]) -> models.QuerySet:
    """Rows with a value not under the current key (`Cast` reads the stored text as it is)."""
    names = list(names)
    current = f"{PREFIX}{field_keyring().current}:"
    raw = {_raw(name): Cast(name, output_field=models.TextField()) for name in names}
    stale = reduce(or_, (models.Q(**{f"{_raw(name)}__isnull": False})
                         & ~models.Q(**{_raw(name): ""})
                         & ~models.Q(**{f"{_raw(name)}__startswith": current}) for name in names))
    return model._default_manager.annotate(**raw).filter(stale)


def stale_count(model: type[models.Model], names: Iterable[str]) -> int:
    return stale_rows(model, names).count()


def reencrypt(model: type[models.Model], names: Iterable[str], *, batch_size: int = BATCH_SIZE,
              on_batch: Callable[[int], None] | None = None) -> int:
    """Rewrite every stale row of `model` under the current key; the number rewritten."""
    names = list(names)
    done, after = 0, None
    while True:
        with transaction.atomic():
            pending = stale_rows(model, names).order_by("pk")
            if after is not None:
                pending = pending.filter(pk__gt=after)
            pks = list(pending.values_list("pk", flat=True)[:batch_size])
            if not pks:
                return done
            rows = list(model._default_manager.select_for_update().filter(pk__in=pks)
                        .order_by("pk").only("pk", *names))
            model._default_manager.bulk_update(rows, names)
        after = pks[-1]
        done += len(rows)
        if on_batch is not None:
            on_batch(len(rows))
