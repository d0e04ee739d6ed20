"""glibc's malloc, told to give large blocks back: one call at start-up of every process.

glibc serves blocks of 128 KiB and more with their own `mmap` and unmaps them on `free`,
but it raises that threshold to the size of any such block freed (up to 32 MiB), so the
next blocks of that size come from the heap, which is not given back while anything lives
above them. A password login hashes with Argon2 (7 MiB, `accounts/hashers.py`; 19 MiB
before): after the second login an app worker kept that much for good, and a large
answer or query result did the same. Measured in one process (docs/scaling.md): 159 MB
before two logins, 178 MB after them without this, 159 MB with it. Pinning the threshold
(`mallopt(M_MMAP_THRESHOLD, 128 KiB)`, what `MALLOC_MMAP_THRESHOLD_=131072` does) turns the
dynamic raise off; blocks under 128 KiB, nearly all of Python's, are unaffected.

No Django imports: `linli/__init__.py` calls it, so the web, ASGI, Celery and management
processes all get it. A no-op off glibc (musl, macOS), when the operator set
`MALLOC_MMAP_THRESHOLD_` themselves, or with `LINLI_MALLOC_TUNE=0`.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

M_MMAP_THRESHOLD = -3  # mallopt's parameter number, glibc's malloc.h
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's initial value, now fixed


def malloc_tune() -> bool:
    """Pin glibc's mmap threshold; True if it was set here."""
    if (not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc"
            or os.environ.get("LINLI_MALLOC_TUNE", "1") == "0" or "MALLOC_MMAP_THRESHOLD_" in os.environ):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
