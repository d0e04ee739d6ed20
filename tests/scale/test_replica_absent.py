"""Without LINLI_REPLICA_URL the router is harmless: marked reads go to the primary."""

from __future__ import annotations

from linli.core.dbrouter import replica_configured, replica_reads
from linli.merchants.selectors import store_get
from tests.fixtures import Api, make_store

ROUTER = "linli.core.dbrouter.PrimaryReplicaRouter"


def test_marked_reads_go_to_the_primary_when_no_replica_is_configured(db, settings):
    settings.DATABASE_ROUTERS = [ROUTER]
    assert not replica_configured()
    store = make_store(name="主库里的店名")
    with replica_reads():
        assert store_get(public_id=store.public_id).name == "主库里的店名"
    assert Api().get(f"/stores/{store.public_id}").json()["name"] == "主库里的店名"
