"""The web entry points leave Django's test framework unloaded until something asks for
it (`core/lazy_test_package.py`). Fresh interpreters: what is imported is process state."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
import {entry}
heavy = ('django.test.client', 'django.test.testcases', 'django.test.utils', 'unittest', 'jinja2')
print(sorted(m for m in heavy if m in sys.modules))
import ninja.conf
from django.test import signals
print(ninja.conf.setting_changed is signals.setting_changed)
from django.test import Client, TestCase
from django.test.utils import override_settings
with override_settings(NINJA_PAGINATION_PER_PAGE=7):  # reaches Ninja through the shared signal
    print(ninja.conf.settings.PAGINATION_PER_PAGE, TestCase.__module__, Client.__module__)
"""


def _probe(entry: str, **env: str) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("LINLI_LAZY_DJANGO_TEST", "DJANGO_SETTINGS_MODULE")}
    out = subprocess.run([sys.executable, "-c", PROBE.format(entry=entry)], capture_output=True, text=True,
                         check=True, env={**base, "LINLI_LOG_LEVEL": "ERROR", **env})
    return out.stdout.strip().splitlines()[-3:]


@pytest.mark.parametrize("entry", ["linli.wsgi", "linli.asgi"])
def test_a_worker_starts_without_the_test_framework_and_loads_it_when_asked(entry):
    loaded, same_signal, overridden = _probe(entry)
    assert loaded == "[]"
    assert same_signal == "True"
    assert overridden == "7 django.test.testcases django.test.client"


def test_turned_off_the_framework_loads_at_start_up_as_before():
    loaded, same_signal, overridden = _probe("linli.wsgi", LINLI_LAZY_DJANGO_TEST="0")
    assert "django.test.client" in loaded and "unittest" in loaded
    assert same_signal == "True"
    assert overridden.startswith("7 ")
