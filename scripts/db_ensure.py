"""Create the PostgreSQL database of a URL if it does not exist yet (`make serve-prod` on a
new machine). Usage: python scripts/db_ensure.py postgres://user@host:5432/name"""

from __future__ import annotations

import sys
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql


def main(url: str) -> None:
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return  # SQLite and friends make their file themselves
    name = unquote(parts.path.lstrip("/"))
    with psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                         user=unquote(parts.username or "postgres"),
                         password=unquote(parts.password) if parts.password else None,
                         dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


if __name__ == "__main__":
    main(sys.argv[1])
