"""core.compiled: an ORM query compiled once answers exactly what the ORM answers, with
the fields' converters applied, for every value; it is built once per database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.accounts.models import User
from linli.core.compiled import CompiledInsert, CompiledQuery
from linli.merchants.models import Store
from tests.fixtures import make_store, next_phone

pytestmark = pytest.mark.django_db


def test_it_answers_what_the_orm_answers_for_each_value():
    users = [User.objects.create_user(username=f"u{i}", phone=next_phone()) for i in range(3)]
    users[2].is_active = False
    users[2].save()
    query = CompiledQuery(User, lambda public_id: User.objects.filter(public_id=public_id, is_active=True)[:1])
    for user in users:
        expected = list(User.objects.filter(public_id=user.public_id, is_active=True)[:1])
        found = query.fetch(user.public_id)
        assert [u.pk for u in found] == [u.pk for u in expected]
        if found:  # the encrypted phone comes back decrypted, as from the ORM
            assert found[0].phone == user.phone and found[0].token_version == user.token_version
    assert query.fetch("usr_nobody") == []


def test_a_value_is_a_parameter_not_sql():
    store = make_store()
    query = CompiledQuery(Store, lambda public_id: Store.objects.filter(public_id=public_id)[:1])
    assert query.fetch("x' OR '1'='1") == []
    assert [s.pk for s in query.fetch(store.public_id)] == [store.pk]


def test_the_query_is_built_once_and_runs_as_one_statement():
    make_store()
    builds = []

    def build(public_id: str):
        builds.append(public_id)
        return Store.objects.filter(public_id=public_id).exclude(status=Store.Status.CLOSED)[:1]

    query = CompiledQuery(Store, build)
    stores = [make_store(name=f"店{i}") for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        for store in stores:
            assert query.fetch(store.public_id)[0].name == store.name
    assert len(builds) == 1 and len(queries) == 3


def test_a_query_that_does_not_use_its_value_exactly_once_is_refused():
    twice = CompiledQuery(Store, lambda v: Store.objects.filter(public_id=v) | Store.objects.filter(name=v))
    with pytest.raises(ValueError, match="exactly once, found 2"):
        twice.fetch("sto_x")
    never = CompiledQuery(Store, lambda v: Store.objects.filter(name="老王"))
    with pytest.raises(ValueError, match="exactly once, found 0"):
        never.fetch("sto_x")


def test_a_query_that_selects_more_than_its_models_columns_is_refused():
    from django.db.models import F

    joined = CompiledQuery(Store, lambda v: Store.objects.select_related("merchant").filter(public_id=v))
    with pytest.raises(ValueError, match="own columns only"):
        joined.fetch("sto_x")
    annotated = CompiledQuery(Store, lambda v: Store.objects.annotate(twice=F("rating")).filter(public_id=v))
    with pytest.raises(ValueError, match="own columns only"):
        annotated.fetch("sto_x")


def test_an_instance_is_what_the_orm_would_build():
    store = make_store(name="老王家常菜")
    query = CompiledQuery(Store, lambda public_id: Store.objects.filter(public_id=public_id)[:1])
    found, expected = query.fetch(store.public_id)[0], Store.objects.get(pk=store.pk)
    assert found._state.db == expected._state.db and not found._state.adding
    for field in Store._meta.concrete_fields:  # JSON, decimals, times: converted alike
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name


# --- CompiledInsert ------------------------------------------------------------------------

def _order_kwargs(consumer: User, store: Store, key: str) -> dict:
    from django.utils import timezone

    return dict(consumer=consumer, store=store, city_code=store.city_code, fulfilment="delivery",
                items_fen=3200, delivery_fee_fen=500, total_fen=3700,
                price_lines=[{"kind": "item", "label": "宫保鸡丁", "amount_fen": 3200}],
                address={"text": "人民大道 200 号", "contact_phone": "+8613800138000"},
                distance_m=800, idempotency_key=key, request_hash="h" * 64,
                pay_deadline=timezone.now())


def _row(model, pk: int) -> dict:
    """The row as stored, every column raw (encrypted fields still encrypted)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {model._meta.db_table} WHERE id = %s", [pk])
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def test_an_insert_writes_what_create_writes():
    from linli.orders.models import Order

    consumer, store = User.objects.create_user(username="c", phone=next_phone()), make_store()
    by_orm = Order.objects.create(**_order_kwargs(consumer, store, "k-orm"))
    [compiled] = CompiledInsert(Order).insert([Order(**_order_kwargs(consumer, store, "k-compiled"))])
    assert compiled.pk and compiled.pk != by_orm.pk and not compiled._state.adding
    assert compiled.public_id.startswith("ord_") and compiled.created_at is not None  # pre_save ran
    orm_row, compiled_row = _row(Order, by_orm.pk), _row(Order, compiled.pk)
    differ = {k for k in orm_row if orm_row[k] != compiled_row[k]}
    # the encrypted address differs by its random nonce only: both read back the same
    assert differ == {"id", "public_id", "idempotency_key", "created_at", "updated_at", "pay_deadline",
                      "address"}
    fresh = Order.objects.get(pk=compiled.pk)
    assert fresh.address == Order.objects.get(pk=by_orm.pk).address == compiled.address
    assert fresh.price_lines == compiled.price_lines and fresh.status == "pending_payment"


def test_many_rows_go_in_one_statement_and_each_gets_its_key():
    from linli.orders.models import Order, OrderEvent

    consumer = User.objects.create_user(username="c", phone=next_phone())
    order = Order.objects.create(**_order_kwargs(consumer, make_store(), "k"))
    events = [OrderEvent(order=order, action=action, to_status="paid", actor=consumer, actor_role="consumer")
              for action in ("place", "pay", "accept")]
    with CaptureQueriesContext(connection) as queries:
        CompiledInsert(OrderEvent).insert(events)
    assert len(queries) == 1
    assert [OrderEvent.objects.get(pk=e.pk).action for e in events] == ["place", "pay", "accept"]
    assert CompiledInsert(OrderEvent).insert([]) == []


def test_what_it_cannot_write_as_the_orm_would_is_refused():
    from django.db.models import F

    from linli.marketing.models import Promotion
    from linli.orders.models import Order, OrderEvent

    with pytest.raises(ValueError, match="overrides save"):
        CompiledInsert(User).insert([User(username="x")])
    with pytest.raises(ValueError, match="save signal receivers"):  # the promotions cache listens
        CompiledInsert(Promotion).insert([Promotion()])
    consumer = User.objects.create_user(username="c", phone=next_phone())
    order = Order.objects.create(**_order_kwargs(consumer, make_store(), "k"))
    with pytest.raises(ValueError, match="expressions"):
        CompiledInsert(OrderEvent).insert([OrderEvent(order=order, action="pay", to_status="paid",
                                                      note=F("action"), actor_role="consumer")])
    assert not OrderEvent.objects.filter(order=order).exists()
