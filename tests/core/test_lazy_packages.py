"""The web entry points leave Django's test framework and redis-py's asyncio client
unloaded until something asks for them (`core/lazy_packages.py`). Fresh interpreters: what
is imported is process state."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

PROBE = """
import sys
import {entry}
import django
assert django.test is sys.modules["django.test"], "django.test not bound to django"
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
    return _run(PROBE.format(entry=entry), **env)[-3:]


def _run(code: str, **env: str) -> list[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("LINLI_LAZY_DJANGO_TEST", "LINLI_LAZY_REDIS_ASYNCIO", "DJANGO_SETTINGS_MODULE")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**base, "LINLI_LOG_LEVEL": "ERROR", **env})
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()


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


REDIS_PROBE = """
import sys, threading
import linli.wsgi
from linli.core.lazy_packages import is_loaded
import redis
client = redis.Redis.from_url({url!r})
client.set("linli:lazy-probe", "1", ex=5)
print(client.get("linli:lazy-probe"), is_loaded("redis.asyncio"), "redis.asyncio.client" in sys.modules,
      redis.asyncio is sys.modules["redis.asyncio"])
# Eight threads ask for the asyncio client at once: one runs its __init__, the others wait.
found, errors = [], []
def first_use():
    try:
        import redis.asyncio as aredis
        found.append(aredis.Redis)
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=first_use) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
from redis.asyncio import Redis, StrictRedis
from redis.asyncio.client import Redis as ClientRedis
print(len(found), set(found) == {{ClientRedis}}, Redis is ClientRedis, errors, is_loaded("redis.asyncio"))
"""


def test_a_worker_uses_redis_without_loading_its_asyncio_client_until_asked():
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - any failure to reach it
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no Redis reachable")
    before, after = _run(REDIS_PROBE.format(url=url))[-2:]
    assert before == "b'1' False False True"  # the sync client works; the asyncio one not loaded
    assert after == "8 True True [] True"  # loaded once for eight threads, whole and consistent


def test_turned_off_redis_loads_its_asyncio_client_with_it():
    lines = _run("import sys, linli.wsgi, redis; print('redis.asyncio.client' in sys.modules)",
                 LINLI_LAZY_REDIS_ASYNCIO="0")
    assert lines[-1] == "True"


def test_a_failing_init_is_retried_on_the_next_use_and_submodules_load_while_it_runs(tmp_path):
    """A package of our own, so the failure can be staged: its first `__init__` raises
    after asking for a submodule of its own (the re-entrant case); the next use runs it again."""
    package = tmp_path / "lazyprobe"
    package.mkdir()
    (package / "part.py").write_text("VALUE = 42\n")
    (package / "__init__.py").write_text(textwrap.dedent("""
        import os
        from lazyprobe import part  # a submodule, asked of the package while it loads
        RUNS = int(os.environ.get("LAZYPROBE_RUNS", "0")) + 1
        os.environ["LAZYPROBE_RUNS"] = str(RUNS)
        if RUNS == 1:
            raise RuntimeError("first run fails")
        ANSWER = part.VALUE
    """))
    lines = _run(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from linli.core import lazy_packages
        lazy_packages.DEFERRED["lazyprobe"] = ("LAZYPROBE_OFF", False)
        print(lazy_packages.defer_package("lazyprobe"), lazy_packages.is_loaded("lazyprobe"))
        import lazyprobe
        try:
            lazyprobe.ANSWER
        except RuntimeError as exc:
            print("raised", exc, lazy_packages.is_loaded("lazyprobe"))
        print(lazyprobe.ANSWER, lazyprobe.RUNS, lazy_packages.is_loaded("lazyprobe"))
        try:
            lazyprobe.MISSING
        except AttributeError as exc:
            print(exc)
    """))
    assert lines == ["True False", "raised first run fails False", "42 2 True",
                     "module 'lazyprobe' has no attribute 'MISSING'"]
