"""glibc's mmap threshold is pinned (core/memory.py): a large block freed goes back to the
system even after blocks of its size were freed before. Each case runs in a fresh
interpreter, since the setting and the heap are per process."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")

# Allocate and free a 19 MiB block three times (as Argon2 logins did), then report how far
# the resident size stayed above where it was before the first one.
PROBE = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {src!r})
    if os.environ.get("TUNE") == "1":
        from linli.core.memory import malloc_tune
        assert malloc_tune()
    def rss_kib():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    before = rss_kib()
    for _ in range(3):
        block = bytearray(19 * 1024 * 1024)  # zero-filled: every page touched
        del block
    print((rss_kib() - before) // 1024)
""")


def _kept_mib(tune: bool) -> int:
    src = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src")
    env = {"PATH": "/usr/bin:/bin", "TUNE": "1" if tune else "0"}
    out = subprocess.run([sys.executable, "-c", PROBE.format(src=src)], env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    return int(out.stdout.strip())


def test_without_the_setting_glibc_keeps_a_freed_large_block():
    """The behaviour the setting exists for: if this stopped holding (a glibc that no longer
    raises the threshold), the setting would be moot, and this test says so."""
    assert _kept_mib(tune=False) >= 15


def test_with_the_setting_the_block_goes_back():
    assert _kept_mib(tune=True) <= 3


def test_the_switch_and_an_operators_own_setting_leave_it_alone(monkeypatch):
    """`LINLI_MALLOC_TUNE=0` turns it off; an operator's `MALLOC_MMAP_THRESHOLD_` wins."""
    from linli.core.memory import malloc_tune

    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.setenv("LINLI_MALLOC_TUNE", "1")
    assert malloc_tune() is True
    monkeypatch.setenv("LINLI_MALLOC_TUNE", "0")
    assert malloc_tune() is False
    monkeypatch.setenv("LINLI_MALLOC_TUNE", "1")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "262144")
    assert malloc_tune() is False
