"""Read replicas (issue 15, core/dbrouter.py) with a second real database acting as the
replica: a copy of the test database taken mid-test (a replica that has caught up), then
changed on its own so every answer tells which database it came from."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from django.core.signals import request_started
from django.db import connections, transaction
from django.test.utils import override_settings

from linli.core.dbrouter import REPLICA, is_pinned, replica_reads
from linli.inventory.models import StockItem
from linli.merchants.models import Product, Store
from linli.merchants.selectors import store_get
from tests.fixtures import Api, make_product, make_store

ROUTER = "linli.core.dbrouter.PrimaryReplicaRouter"
ON_REPLICA = "副本里的店名"


def _admin_sql(statement: str) -> None:
    import psycopg

    db = connections["default"].settings_dict
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         password=db["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(scope="module", autouse=True)
def _replica_alias(django_db_setup, django_db_blocker):
    """The `replica` alias and the router, for this module (registered before the tests'
    database fixtures, which then treat it as one of the test's databases)."""
    primary = connections["default"].settings_dict
    if connections["default"].vendor not in ("postgresql", "sqlite"):
        pytest.skip("replica copies are made for PostgreSQL and SQLite")
    connections.settings[REPLICA] = {**primary, "NAME": f"{primary['NAME']}_replica",
                                     "TEST": {"MIRROR": "default"}}
    with override_settings(DATABASE_ROUTERS=[ROUTER]):
        yield
    with django_db_blocker.unblock():
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]
        _drop(connections["default"].vendor, f"{primary['NAME']}_replica")


def _drop(vendor: str, name: str) -> None:
    if vendor == "postgresql":
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        Path(name).unlink(missing_ok=True)


@pytest.fixture
def replica(transactional_db):
    """`replica()` copies the primary as it is now (committed rows, same schema) into the
    replica's database: a replica that has caught up."""
    primary = connections["default"].settings_dict
    name = connections.settings[REPLICA]["NAME"]
    vendor = connections["default"].vendor

    def snapshot() -> None:
        connections[REPLICA].close()
        _drop(vendor, name)
        if vendor == "postgresql":
            # Copied with pg_dump | psql, not CREATE DATABASE ... TEMPLATE: a template must
            # have no other session, and in a full run the session's live server (browser
            # tests) keeps one open; ending it would break every later browser test.
            _admin_sql(f'CREATE DATABASE "{name}"')
            where = ["-h", primary["HOST"] or "127.0.0.1", "-p", str(primary["PORT"] or 5432),
                     "-U", primary["USER"] or "postgres"]
            env = {**os.environ, "PGPASSWORD": primary["PASSWORD"] or ""}
            dump = subprocess.run(["pg_dump", "--no-owner", "--no-privileges", *where, primary["NAME"]],
                                  capture_output=True, check=True, env=env, timeout=120)
            subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", *where, "-d", name],
                           input=dump.stdout, capture_output=True, check=True, env=env, timeout=120)
        else:
            source, target = sqlite3.connect(primary["NAME"]), sqlite3.connect(name)
            source.backup(target)
            source.close()
            target.close()

    return snapshot


def _diverge(store: Store, product: Product) -> None:
    """Change the replica alone, so what it answers is recognisable."""
    Store.objects.using(REPLICA).filter(pk=store.pk).update(name=ON_REPLICA)
    Product.objects.using(REPLICA).filter(pk=product.pk).update(name="副本里的菜")


pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


def test_store_page_and_menu_read_from_the_replica(replica):
    store = make_store(name="主库里的店名")
    product = make_product(store, name="主库里的菜")
    replica()
    _diverge(store, product)

    page = Api().get(f"/stores/{store.public_id}")
    assert page.status_code == 200, page.content
    assert page.json()["name"] == ON_REPLICA
    StockItem.objects.using(REPLICA).filter(product=product).update(quantity=7, unlimited=False)
    menu = Api().get(f"/stores/{store.public_id}/menu").json()
    assert [(p["name"], p["stock"]) for s in menu["sections"] for p in s["products"]] == [("副本里的菜", 7)]


def test_unmarked_reads_and_writes_stay_on_the_primary(replica):
    store = make_store(name="主库里的店名")
    product = make_product(store)
    replica()
    _diverge(store, product)

    assert store_get(public_id=store.public_id).name == "主库里的店名"  # not marked
    Store.objects.filter(pk=store.pk).update(phone="021-12345678")
    assert Store.objects.using(REPLICA).get(pk=store.pk).phone != "021-12345678"
    assert Store.objects.get(pk=store.pk).phone == "021-12345678"


def test_a_transaction_reads_from_the_primary_even_when_marked(replica):
    store = make_store(name="主库里的店名")
    replica()
    _diverge(store, make_product(store))

    request_started.send(sender=None)
    with replica_reads():
        assert store_get(public_id=store.public_id).name == ON_REPLICA
        with transaction.atomic():
            assert store_get(public_id=store.public_id).name == "主库里的店名"


def test_after_a_write_the_request_reads_its_own_writes_until_the_next_request(replica):
    store = make_store(name="主库里的店名")
    replica()
    _diverge(store, make_product(store))

    request_started.send(sender=None)  # a request begins: not pinned
    assert not is_pinned()
    with replica_reads():
        assert store_get(public_id=store.public_id).name == ON_REPLICA
        Store.objects.filter(pk=store.pk).update(name="刚改的店名")  # a write pins the request
        assert is_pinned()
        assert store_get(public_id=store.public_id).name == "刚改的店名"
    request_started.send(sender=None)  # the next request may read the replica again
    with replica_reads():
        assert store_get(public_id=store.public_id).name == ON_REPLICA


def test_the_router_counts_queries_per_alias(replica):
    """The same page, counted per database: its reads on the replica, none on the primary."""
    from django.test.utils import CaptureQueriesContext

    store = make_store()
    make_product(store)
    replica()
    request_started.send(sender=None)
    with CaptureQueriesContext(connections["default"]) as on_primary, \
            CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert Api().get(f"/stores/{store.public_id}/menu").status_code == 200
    assert len(on_replica) >= 2
    assert not [q for q in on_primary if q["sql"].lstrip().upper().startswith("SELECT")], on_primary.captured_queries
