"""`linli backup` / `linli restore` round trip on the database the suite runs on (SQLite
or PostgreSQL): what was there at backup time is there again after a restore, and what
came after is gone."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from linli.accounts.models import User
from linli.merchants.models import Store
from tests.fixtures import make_store

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump reads committed rows


def test_backup_then_restore_brings_the_database_back(tmp_path):
    kept = make_store(name="备份前的店")
    User.objects.create_user(username="before", phone="13800000001")
    path = tmp_path / "snap.bak"
    out = StringIO()
    call_command("backup", output=path, stdout=out)
    assert "backup written" in out.getvalue() and path.stat().st_size > 0

    make_store(name="备份后的店")
    Store.objects.filter(pk=kept.pk).update(name="改过的名字")
    User.objects.filter(username="before").delete()

    out = StringIO()
    call_command("restore", str(path), yes=True, stdout=out)
    assert "restored" in out.getvalue()
    assert sorted(Store.objects.values_list("name", flat=True)) == ["备份前的店"]
    assert User.objects.filter(username="before", phone="13800000001").exists()


def test_restore_refuses_without_yes_and_a_file_that_is_not_a_backup(tmp_path):
    make_store(name="不动的店")
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "x"))
    with pytest.raises(CommandError, match="no backup"):
        call_command("restore", str(tmp_path / "missing.bak"), yes=True)
    junk = tmp_path / "junk.bak"
    junk.write_bytes(b"this is not a database dump at all")
    with pytest.raises(CommandError):
        call_command("restore", str(junk), yes=True)
    assert list(Store.objects.values_list("name", flat=True)) == ["不动的店"]  # nothing half-restored
