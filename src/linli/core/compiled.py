"""ORM queries compiled once and run as raw SQL: for the few reads every request makes.

Django builds a query's SQL anew on every evaluation. For the reads on the hottest paths
(the token's user on every authenticated request, the store at every order) building the
SQL cost as much CPU as running it; `Model.objects.raw()` with the SQL built once halves
the read (issue 5, docs/orders.md). The query is still written with the ORM (its filters,
its model's columns), so it cannot drift from the model; raw() maps the columns back and
applies the fields' converters (encrypted and JSON fields) as a normal query does.

Only for queries with one varying value, a plain string compared for equality: the query
is compiled with a sentinel in its place, and the sentinel's position in the parameters
is where each call's value goes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import models, router

M = TypeVar("M", bound=models.Model)

_SENTINEL = "\x00compiled-query-value\x00"


class CompiledQuery(Generic[M]):
    """`build(value)` is the queryset (compiled once per database alias); `fetch(value)`
    runs it for another value."""

    def __init__(self, model: type[M], build: Callable[[str], models.QuerySet[M]]) -> None:
        self.model, self.build = model, build
        self._compiled: dict[str, tuple[str, list[object], int]] = {}

    def _sql(self, alias: str) -> tuple[str, list[object], int]:
        found = self._compiled.get(alias)
        if found is None:
            query = self.build(_SENTINEL).using(alias).query
            sql, params = query.get_compiler(alias).as_sql()
            at = [i for i, param in enumerate(params) if param == _SENTINEL]
            if len(at) != 1:
                raise ValueError(f"the query must use its value exactly once, found {len(at)}")
            found = self._compiled[alias] = (sql, list(params), at[0])
        return found

    def fetch(self, value: str) -> list[M]:
        alias = router.db_for_read(self.model)
        sql, params, at = self._sql(alias)
        bound = params.copy()
        bound[at] = value
        return list(self.model._default_manager.db_manager(alias).raw(sql, bound))
