"""Packages a web worker imports but never uses, loaded on first use (memory per worker).

Two packages are pulled in by an import we cannot change and then never used by a web
worker:

- `django.test`: Ninja's settings listen to `django.test.signals.setting_changed` (so that
  tests overriding settings reach it), and importing that submodule runs
  `django/test/__init__.py` first: the test client, `TestCase` and its `unittest` base,
  the test utilities (which load Jinja2 when installed). ~5 MB a worker.
- `redis.asyncio`: redis-py's `__init__` starts with `from redis import asyncio`, so the
  synchronous client our cache uses brings the whole asyncio client (its cluster,
  sentinel, connection and observability modules) into a WSGI worker. ~1.3 MB. Under ASGI
  the Server-Sent Events stream uses it (`core/realtime.py`) and loads it then.

`defer_package(name)` registers the package as the package it is (its spec and
`__path__`, so its submodules still import on their own) without running its `__init__`,
and gives it a module `__getattr__` (PEP 562) that runs the `__init__` the first time
anything else is asked of it: `from django.test import TestCase` in a shell still works,
one import later. The lock is re-entrant because running the `__init__` asks the package
for its own submodules (`from redis.asyncio import _himport_exec` inside
`redis.asyncio.client`): in the loading thread that question must fall through to the
import system, which loads the submodule; another thread waits until the `__init__` ran.

The import system sets a package as an attribute of its parent only when it loads it,
so the registered module must be bound by hand. `django` is tiny and is imported to bind
`django.test` at once. `redis` is not imported here (a worker without Redis never needs
its ~9 MB): its spec is found on the parent's path, and when redis's `__init__` runs `from
redis import asyncio` it binds the registered module itself (the import system's
`sys.modules` fallback). Each entry is checked by a test (`tests/core/test_lazy_packages.py`).

The WSGI and ASGI entry points call `defer_unused_packages()` before Django sets up; test
runs import `django.test` before that (pytest-django), so there it does nothing for it. No
Django imports here: this runs before Django loads. `LINLI_LAZY_DJANGO_TEST=0` and
`LINLI_LAZY_REDIS_ASYNCIO=0` turn each off.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import threading
from types import ModuleType
from typing import Any

# name -> (the variable that turns it off, whether to import the parent to bind it: see above)
DEFERRED = {"django.test": ("LINLI_LAZY_DJANGO_TEST", True),
            "redis.asyncio": ("LINLI_LAZY_REDIS_ASYNCIO", False)}
_STATES: dict[str, list[str]] = {}


def _find_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """The spec of `name` without importing its parent package (which may import it)."""
    parent_name, _, _ = name.rpartition(".")
    if parent_name and parent_name not in sys.modules:
        parent_spec = importlib.util.find_spec(parent_name)
        if parent_spec is None or parent_spec.submodule_search_locations is None:
            return None
        return importlib.machinery.PathFinder.find_spec(name, list(parent_spec.submodule_search_locations))
    return importlib.util.find_spec(name)


def defer_package(name: str) -> bool:
    """Register `name` as a package whose `__init__` runs on first use; True if registered
    (False: already imported, turned off by its variable, or not a package here)."""
    variable, import_parent = DEFERRED.get(name, ("", False))
    if name in sys.modules or os.environ.get(variable, "1") == "0":
        return False
    spec = _find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    package = importlib.util.module_from_spec(spec)  # __path__, __spec__, __file__; not run
    lock = threading.RLock()
    state = _STATES[name] = ["deferred"]  # -> "loading" (the thread running it) -> "loaded"

    def __getattr__(attr: str) -> Any:  # noqa: N807 - PEP 562's hook
        with lock:
            if state[0] == "deferred":
                state[0] = "loading"
                try:
                    spec.loader.exec_module(package)  # type: ignore[union-attr]
                except BaseException:
                    state[0] = "deferred"
                    raise
                state[0] = "loaded"
        try:
            return package.__dict__[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[name] = package
    parent_name, _, child = name.rpartition(".")
    parent: ModuleType | None = sys.modules.get(parent_name)
    if parent is None and import_parent:
        parent = importlib.import_module(parent_name)
    if parent is not None:
        setattr(parent, child, package)  # as the import system sets it
    return True


def is_loaded(name: str) -> bool:
    """Whether `name` is imported and its `__init__` has run (deferred and unused: False)."""
    return name in sys.modules and _STATES.get(name, ["loaded"])[0] == "loaded"


def defer_unused_packages() -> list[str]:
    """Defer every package in DEFERRED that is not imported yet; the names deferred."""
    return [name for name in DEFERRED if defer_package(name)]
