"""ORM queries compiled once and run as raw SQL: for the few reads every request makes.

Django builds a query's SQL anew on every evaluation. For the reads on the hottest paths
(the token's user on every authenticated request, the store at every order) building the
SQL cost as much CPU as running it; the SQL built once halves the read (issue 5,
docs/orders.md). The query is still written with the ORM (its filters, its model's
columns), so it cannot drift from the model; the columns are mapped back to fields and the
fields' converters (encrypted and JSON fields) applied as a normal query does.

The mapping is worked out once too. It first went through `Model.objects.raw()`, which
resolves the columns against the model's fields and looks up their converters on every
run: in a profile of order placement under load (py-spy, GIL samples, issue 15) the two
reads through raw() were 15 % of the app's CPU, more than the SQL they ran.

Only for queries with one varying value, a plain string compared for equality: the query
is compiled with a sentinel in its place, and the sentinel's position in the parameters
is where each call's value goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, models, router

M = TypeVar("M", bound=models.Model)

_SENTINEL = "\x00compiled-query-value\x00"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: list[object]
    at: int  # where the value goes in params
    attnames: list[str]  # the model attribute of each selected column, in order
    converters: list[tuple[int, list[Callable[..., Any]], Any]]  # (position, converters, expression)


class CompiledQuery(Generic[M]):
    """`build(value)` is the queryset (compiled once per database alias); `fetch(value)`
    runs it for another value. The queryset must select its model's own columns only (no
    `select_related`, annotations or `values()`): anything else is refused when compiled."""

    def __init__(self, model: type[M], build: Callable[[str], models.QuerySet[M]]) -> None:
        self.model, self.build = model, build
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        found = self._compiled.get(alias)
        if found is None:
            query = self.build(_SENTINEL).using(alias).query
            compiler = query.get_compiler(alias)
            sql, params = compiler.as_sql()
            at = [i for i, param in enumerate(params) if param == _SENTINEL]
            if len(at) != 1:
                raise ValueError(f"the query must use its value exactly once, found {len(at)}")
            info = compiler.klass_info or {}
            columns = [expression for expression, _sql, _alias in compiler.select]
            if (info.get("model") is not self.model or info.get("related_klass_infos")
                    or compiler.annotation_col_map
                    or any(getattr(c, "target", None) is None or c.target.model is not self.model
                           for c in columns)):
                raise ValueError("the query must select its model's own columns only")
            attnames = [c.target.attname for c in columns]
            concrete = [f.attname for f in self.model._meta.concrete_fields]
            if len(attnames) == len(concrete) and attnames != concrete:
                # Model.from_db() takes a full row in the model's field order, unnamed.
                raise ValueError("the query must select its model's columns in the model's order")
            # The converters are bound to this thread's connection; they read only what every
            # connection to the database shares (time zone, features), never run a query.
            converters = [(position, funcs, expression)
                          for position, (funcs, expression) in compiler.get_converters(columns).items()]
            found = self._compiled[alias] = _Compiled(sql, list(params), at[0], attnames, converters)
        return found

    def fetch(self, value: str) -> list[M]:
        alias = router.db_for_read(self.model)
        compiled = self._compile(alias)
        bound = compiled.params.copy()
        bound[compiled.at] = value
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, bound)
            rows = cursor.fetchall()
        found = []
        for row in rows:
            values = list(row)
            for position, funcs, expression in compiled.converters:
                for convert in funcs:
                    values[position] = convert(values[position], expression, connection)
            found.append(self.model.from_db(alias, compiled.attnames, values))
        return found


@dataclass(frozen=True)
class _CompiledInsert:
    fields: list[models.Field]  # the columns written, in order
    head: str  # INSERT INTO table (columns) VALUES
    row: str  # one row's placeholders
    returning: str  # RETURNING the primary key


class CompiledInsert(Generic[M]):
    """`insert(objs)` writes new rows of one model in one INSERT, built once per alias.

    `Model.objects.create()` and `bulk_create()` build the INSERT's SQL anew every time and
    walk the model's options to do it; for the order, its lines and its first event (three
    inserts every order) that was a third of the app's CPU an order (py-spy, issue 5). This
    writes what `create()` writes: every concrete field but an auto primary key, each
    value through the field's own `pre_save` (public ids, `auto_now`, hashes) and
    `get_db_prep_save` (encryption, JSON), so a field added to the model is written here
    with no change. What it does not do, on purpose: send `pre_save`/`post_save` signals
    (refused when the model has receivers), call an overridden `save()` (refused), or
    take expressions as values (refused when met), nor a model inheriting another's table,
    nor a database without INSERT ... RETURNING (PostgreSQL and SQLite both have it).
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._compiled: dict[str, _CompiledInsert] = {}

    def _compile(self, alias: str) -> _CompiledInsert:
        found = self._compiled.get(alias)
        if found is None:
            from django.db.models.signals import post_save, pre_save

            meta = self.model._meta
            if self.model.save is not models.Model.save:
                raise ValueError(f"{meta.label} overrides save(): insert it through the ORM")
            if pre_save.has_listeners(self.model) or post_save.has_listeners(self.model):
                raise ValueError(f"{meta.label} has save signal receivers: insert it through the ORM")
            if meta.parents:
                raise ValueError(f"{meta.label} inherits a table: insert it through the ORM")
            connection = connections[alias]
            if not connection.features.can_return_rows_from_bulk_insert:
                raise ValueError(f"{connection.vendor} cannot return inserted keys: insert through the ORM")
            pk = meta.pk
            fields = [f for f in meta.local_concrete_fields
                      if not getattr(f, "generated", False)  # computed by the database
                      and not (f is pk and isinstance(f, models.AutoField | models.BigAutoField))]
            quote = connection.ops.quote_name
            columns = ", ".join(quote(f.column) for f in fields)
            head = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "  # noqa: S608 (the model's names)
            found = self._compiled[alias] = _CompiledInsert(
                fields, head, "(" + ", ".join(["%s"] * len(fields)) + ")", f" RETURNING {quote(pk.column)}")
        return found

    def insert(self, objs: list[M]) -> list[M]:
        if not objs:
            return objs
        alias = router.db_for_write(self.model)
        compiled = self._compile(alias)
        connection = connections[alias]
        values: list[object] = []
        for obj in objs:
            for field in compiled.fields:
                value = field.pre_save(obj, True)
                if hasattr(value, "resolve_expression"):
                    raise ValueError(f"{field.name}: expressions are not written by CompiledInsert")
                values.append(field.get_db_prep_save(value, connection))
        sql = compiled.head + ", ".join([compiled.row] * len(objs)) + compiled.returning
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            keys = cursor.fetchall()
        for obj, (pk,) in zip(objs, keys, strict=True):
            obj.pk, obj._state.adding, obj._state.db = pk, False, alias
        return objs
