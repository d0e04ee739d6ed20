"""Backup and restore of the whole database (issue 14): `linli backup` / `linli restore`.

- SQLite: the SQLite online backup API (a consistent copy while the app keeps running,
  WAL included), restored the same way into the live file.
- PostgreSQL: `pg_dump --format=custom` (consistent snapshot, compressed) and
  `pg_restore --clean --if-exists --single-transaction` (all or nothing: a failed restore
  leaves the database as it was). The password, when there is one, goes through the
  environment (PGPASSWORD), never the command line.

Uploaded media (photos) live in Django storage, which in production is object storage
with its own versioning; docs/operations.md says how to back it up alongside.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    engine: str


def _db() -> dict[str, Any]:
    return settings.DATABASES["default"]


def _engine() -> str:
    engine = _db()["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgresql"
    raise BackupError(f"unsupported database engine {engine}")


def default_path(directory: Path, *, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return directory / f"linli-{stamp}.{'sqlite3' if _engine() == 'sqlite' else 'pgdump'}"


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = _db()
    args = ["--host", str(db.get("HOST") or "127.0.0.1"), "--port", str(db.get("PORT") or 5432),
            "--username", str(db.get("USER") or "postgres"), "--no-password"]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def backup(path: Path) -> BackupResult:
    """Write a consistent copy of the database to `path` (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = _engine()
    if engine == "sqlite":
        source = sqlite3.connect(str(_db()["NAME"]))
        target = sqlite3.connect(str(path))
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        args, env = _pg_env()
        done = subprocess.run([_tool("pg_dump"), *args, "--format=custom", "--no-owner", "--file", str(path),
                               str(_db()["NAME"])], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
    return BackupResult(path=path, bytes=path.stat().st_size, engine=engine)


def restore(path: Path) -> BackupResult:
    """Replace the database's contents with the backup at `path`, all or nothing."""
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    engine = _engine()
    connections.close_all()  # nothing of ours holds the database while it is replaced
    if engine == "sqlite":
        if not path.read_bytes()[:16].startswith(b"SQLite format 3"):
            raise BackupError(f"{path} is not a SQLite backup")
        source = sqlite3.connect(str(path))
        target = sqlite3.connect(str(_db()["NAME"]))
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        args, env = _pg_env()
        done = subprocess.run([_tool("pg_restore"), *args, "--clean", "--if-exists", "--no-owner",
                               "--single-transaction", "--dbname", str(_db()["NAME"]), str(path)],
                              env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()[:500]}")
    return BackupResult(path=path, bytes=path.stat().st_size, engine=engine)
