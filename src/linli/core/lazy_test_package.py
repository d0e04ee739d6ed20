"""Django's test framework loaded on first use, not by every web worker (memory per worker).

Ninja's settings module listens to `django.test.signals.setting_changed` (so that tests
overriding settings reach it), and importing that submodule runs `django/test/__init__.py`
first: the test client, `TestCase` and its `unittest` base, the test utilities (which load
Jinja2 when installed), the development server's WSGI handler. A web worker never uses
them and carried ~5-6 MB of them (docs/scaling.md, "memory").

`defer_django_test()` registers `django.test` as the package it is, with its `__path__`, so
`django.test.signals` (two signal objects) loads on its own, and with a module
`__getattr__` (PEP 562) that runs the package's `__init__` the first time anything else is
asked of it: `from django.test import TestCase` in a shell still works, one import later.
The WSGI and ASGI entry points call it before Django sets up; test runs import
`django.test` before that (pytest-django), so there it does nothing. No Django imports
here but the bare `django` package (its version): this runs before Django loads.
`LINLI_LAZY_DJANGO_TEST=0` turns it off.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from typing import Any

NAME = "django.test"


def defer_django_test() -> bool:
    """Register the lazy package; True if it was registered (not already imported)."""
    if NAME in sys.modules or os.environ.get("LINLI_LAZY_DJANGO_TEST", "1") == "0":
        return False
    spec = importlib.util.find_spec(NAME)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    package = importlib.util.module_from_spec(spec)  # __path__, __spec__, __file__; not run
    lock = threading.Lock()
    loaded: list[bool] = []

    def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562's hook
        with lock:
            if not loaded:
                loaded.append(True)
                spec.loader.exec_module(package)  # type: ignore[union-attr]
        try:
            return package.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {NAME!r} has no attribute {name!r}") from None

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[NAME] = package
    parent = importlib.import_module("django")
    parent.test = package  # type: ignore[attr-defined]  # as the import system sets it
    return True
