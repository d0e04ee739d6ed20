"""The entry points freeze their start-up objects out of the collector's full collections
(`core/gcfreeze.py`). Each case runs in a fresh interpreter: freezing is process-wide."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import gc, sys
import {entry}
tracked = len(gc.get_objects(generation=2))
print(gc.get_freeze_count(), tracked, 'linli.orders.api' in sys.modules)
"""


def _probe(entry: str, **env: str) -> tuple[int, int, bool]:
    base = {k: v for k, v in os.environ.items() if k not in ("LINLI_GC_FREEZE", "DJANGO_SETTINGS_MODULE")}
    out = subprocess.run([sys.executable, "-c", PROBE.format(entry=entry)], capture_output=True, text=True,
                         check=True, env={**base, "LINLI_LOG_LEVEL": "WARNING", **env})
    frozen, tracked, urls_loaded = out.stdout.strip().splitlines()[-1].split()
    return int(frozen), int(tracked), urls_loaded == "True"


@pytest.mark.parametrize("entry", ["linli.wsgi", "linli.asgi"])
def test_entry_point_loads_the_url_conf_and_freezes_what_start_up_left(entry):
    frozen, tracked, urls_loaded = _probe(entry)
    assert urls_loaded  # every API module imported before the first request
    # what a full collection still walks is a small part of what start-up left
    assert frozen > 100_000
    assert tracked * 10 < frozen


def test_freeze_can_be_turned_off():
    frozen, tracked, urls_loaded = _probe("linli.wsgi", LINLI_GC_FREEZE="0")
    assert frozen == 0
    assert not urls_loaded  # left to the first request, as before
    assert tracked > 50_000  # the start-up objects are all in the oldest generation
