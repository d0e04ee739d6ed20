"""The OpenAPI document built at deploy time and served from its file
(`core/openapi_file.py`, `linli openapi_build`): the same document the worker would build,
served without building it in the worker; a missing or broken file falls back to
building it, logged once."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from unittest.mock import patch

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from linli.api import LinliAPI, api
from linli.core import openapi_file


@pytest.fixture()
def built(tmp_path: Path) -> Path:
    path = tmp_path / "release" / "openapi.json"
    call_command("openapi_build", "--out", str(path), stdout=io.StringIO())
    return path


def test_the_built_file_is_the_document_the_worker_builds(built: Path):
    from ninja.responses import NinjaJSONEncoder

    live = json.loads(json.dumps(api.build_openapi_schema(), cls=NinjaJSONEncoder))
    assert json.loads(built.read_bytes()) == live
    assert len(live["paths"]) > 100 and "Error" in live["components"]["schemas"]
    assert not list(built.parent.glob(".openapi.json.*"))  # no temporary file left behind
    assert built.stat().st_mode & 0o777 == 0o644  # readable by workers run as another user


@pytest.mark.django_db
def test_a_worker_with_the_file_serves_it(client, built: Path):
    document = json.loads(built.read_bytes())
    document["info"]["x-release"] = "from-the-file"  # only the file says this
    built.write_text(json.dumps(document))
    with override_settings(LINLI_OPENAPI_FILE=str(built)), \
            patch.object(LinliAPI, "build_openapi_schema", side_effect=AssertionError("built in the worker")):
        answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert answer.json()["info"]["x-release"] == "from-the-file"
    assert answer.json()["paths"] == document["paths"]


@pytest.mark.django_db
@pytest.mark.parametrize("content", [None, b"{not json", b'{"openapi": "3.1.0"}', b"[1, 2]"])
def test_a_missing_or_broken_file_falls_back_to_building_and_says_so_once(client, tmp_path, caplog, content):
    path = tmp_path / "openapi.json"
    if content is not None:
        path.write_bytes(content)
    openapi_file._reported.discard(str(path))
    with override_settings(LINLI_OPENAPI_FILE=str(path)), caplog.at_level(logging.ERROR, "linli.core.openapi_file"):
        first = client.get("/api/v1/openapi.json")
        second = client.get("/api/v1/openapi.json")
    assert first.status_code == second.status_code == 200
    assert len(first.json()["paths"]) > 100  # built by the worker
    errors = [r for r in caplog.records if r.name == "linli.core.openapi_file"]
    assert len(errors) == 1 and str(path) in errors[0].getMessage()


def test_the_command_needs_somewhere_to_write():
    with override_settings(LINLI_OPENAPI_FILE=""), pytest.raises(CommandError, match="--out"):
        call_command("openapi_build")
