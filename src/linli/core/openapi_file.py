"""The OpenAPI document built once at deploy time, and served from its file by workers.

Building `/api/v1/openapi.json` walks every operation and generates the JSON schema of
every one of the API's ~300 models (a worker otherwise builds only the validators of
those it serves, `core/schema_build.py`): ~0.8-1.5 s of a worker's CPU on each request
for it, and ~18 MB the worker then keeps (measured in one process, docs/scaling.md).
Anyone opening `/api/docs` on a production worker paid that, and the worker stayed over
its memory budget. The models' descriptions come from their docstrings, which workers run
as `python -OO` do not have: another reason to build it in a plain process.

`linli openapi_build` writes the document to `LINLI_OPENAPI_FILE` (`make serve-prod` runs it
before the workers start, in a process of its own); a worker with the variable set answers
from the file, read per request and not kept (a few hundred KB, asked for rarely). Without
the variable, or when the file is missing or unreadable, the document is built in the
worker as before, and the failure is logged once. The file is part of a release: build it
on every deploy, from the code being deployed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)
_reported: set[str] = set()


def configured_path() -> Path | None:
    name = getattr(settings, "LINLI_OPENAPI_FILE", "")
    return Path(name) if name else None


def read_prebuilt() -> dict[str, Any] | None:
    """The deploy-time document, or None (not configured, or not usable: logged once)."""
    path = configured_path()
    if path is None:
        return None
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        return _unusable(path, str(exc))
    if not isinstance(document, dict) or "paths" not in document:
        return _unusable(path, "no OpenAPI document in it")
    return document


def _unusable(path: Path, why: str) -> None:
    if str(path) not in _reported:  # once per process: the docs page must not flood the log
        _reported.add(str(path))
        log.error("LINLI_OPENAPI_FILE %s is not usable (%s); building the document in the worker", path, why)


def write_document(document: dict[str, Any], path: Path, encoder: type[json.JSONEncoder]) -> int:
    """Write atomically (a reader never sees half a file); the size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(document, cls=encoder, ensure_ascii=False, separators=(",", ":")).encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from workers run as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(data)
