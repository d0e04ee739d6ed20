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
