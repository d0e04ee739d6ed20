"""Request and response schemas compiled on first use, not at start-up: memory per worker.

Ninja turns every operation's parameters and answer into pydantic models (~250 operations
here, 294 of our schemas plus Ninja's wrappers around them), and pydantic compiles each
into a validator and a serializer when the class is created. A worker serves a small part
of them (a lunch peak touches ~30 operations), yet held all of them compiled: ~7 MB of each
app process (docs/scaling.md, "memory"). With pydantic's `defer_build` a model is compiled
the first time it validates or serializes, and a worker only pays for what it serves; the
OpenAPI document (`/api/v1/openapi.json`) builds every schema's JSON schema when a worker
builds it; deployments serve it from a file built once (`core/openapi_file.py`).

Why this is safe with threads: pydantic >= 2.14 rebuilds a deferred model under a lock
(pydantic pull request #13438, for issue #13419); before it, two requests meeting the same
half-built model in two threads could get the wrong validator. pyproject requires >= 2.14
and `tests/core/test_schema_build.py` hammers first uses from many threads at once.

`defer_schema_builds()` is called from `CoreConfig.ready()`, before the URL conf imports the
API modules; a model created before it is compiled eagerly as before (the test checks
that the API's are not). `LINLI_DEFER_SCHEMAS=0` turns it off.
"""

from __future__ import annotations

import os

from ninja import Schema
from ninja.params.models import ParamModel
from pydantic import BaseModel


def _with_subclasses(cls: type[BaseModel]) -> list[type[BaseModel]]:
    found, todo = [], [cls]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(current.__subclasses__())
    return found


def defer_schema_builds() -> bool:
    """Make models created from now on (ours, and Ninja's parameter and response wrappers)
    compile on first use. pydantic merges each base's `model_config` into a new class's,
    so setting the flag on the bases is enough. True if it was switched on."""
    if os.environ.get("LINLI_DEFER_SCHEMAS", "1") == "0":
        return False
    # Ninja's parameter models derive from QueryModel, PathModel, BodyModel...: each
    # already has its own config dict, so each gets the flag.
    bases: list[type[BaseModel]] = [Schema, *_with_subclasses(ParamModel)]
    for base in bases:
        base.model_config["defer_build"] = True
    return True
