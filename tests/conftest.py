"""Shared test setup.

With CI=true the suite refuses to run against a database or cache it cannot reach,
instead of quietly skipping what needs them. Tests marked `postgres` need real
PostgreSQL row locking; on SQLite they skip unless LINLI_REQUIRE_POSTGRES=1, in
which case they fail.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from linli.accounts.sms import OutboxSmsProvider, get_sms_provider

pytest_plugins = ["tests.fixtures"]


def _fail_loudly(message: str) -> None:
    pytest.exit(f"\n\n*** {message} ***\n", returncode=3)


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI", "").lower() != "true":
        return
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        import psycopg

        db = settings.DATABASES["default"]
        try:
            psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
                            password=db["PASSWORD"] or None, dbname="postgres", connect_timeout=5).close()
        except psycopg.OperationalError as exc:
            _fail_loudly(f"CI=true: PostgreSQL at {db['HOST']}:{db['PORT']} is unreachable: {exc}")
    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
        except redis.RedisError as exc:
            _fail_loudly(f"CI=true: Redis at {settings.REDIS_URL} is unreachable: {exc}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    if on_postgres or os.environ.get("LINLI_REQUIRE_POSTGRES") == "1":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _keep_the_test_connection_open(monkeypatch):
    """Closing a response (a finished event stream) or calling the raw WSGI app fires
    `request_finished`, whose handler closes a connection that is not in autocommit —
    which, inside a test's transaction on PostgreSQL, is the test's own connection.
    Django's test Client unhooks that handler only while a request runs; here a
    connection inside an atomic block is simply never closed that way."""
    original = BaseDatabaseWrapper.close_if_unusable_or_obsolete

    def guarded(self: BaseDatabaseWrapper) -> None:
        if not self.in_atomic_block:
            original(self)

    monkeypatch.setattr(BaseDatabaseWrapper, "close_if_unusable_or_obsolete", guarded)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 costs ~50 ms a hash by design; tests hash hundreds of passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_nearby_index(settings):
    settings.LINLI_NEARBY_REFRESH_SECONDS = 0  # see every store change at once


@pytest.fixture(autouse=True)
def _clean_cache():
    """Each test starts with an empty cache and an empty in-memory store index (the index
    otherwise remembers stores from earlier tests' rolled-back transactions)."""
    from linli.discovery.selectors import nearby_index_reset

    cache.clear()
    nearby_index_reset()
    yield
    cache.clear()
    nearby_index_reset()


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Codes go to an in-memory outbox that tests read, like a phone would."""
    settings.LINLI_SMS_PROVIDER = "linli.accounts.sms.OutboxSmsProvider"
    get_sms_provider.cache_clear()
    OutboxSmsProvider.outbox.clear()
    yield OutboxSmsProvider.outbox
    get_sms_provider.cache_clear()


@pytest.fixture
def db_vendor() -> str:
    return connection.vendor


@pytest.fixture(autouse=True)
def _each_request_commits(request):
    """In production every API request commits when its service returns, and what was
    registered with `transaction.on_commit` (a refund sent to the gateway, a live push)
    runs then. Inside a test's wrapping transaction nothing commits, so those callbacks
    would never run: here the test client's requests run the callbacks they registered
    when they finish, as production would. Live-server tests commit for real already."""
    from django.core.signals import request_finished, request_started
    from django.db import connections

    if "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        yield
        return
    marks: list[int] = []

    def started(**kwargs):  # type: ignore[no-untyped-def]
        marks.append(len(connections["default"].run_on_commit))

    def finished(**kwargs):  # type: ignore[no-untyped-def]
        conn = connections["default"]
        if not marks or not conn.in_atomic_block:
            return
        start = marks.pop()
        while len(conn.run_on_commit) > start:
            pending = conn.run_on_commit[start:]
            del conn.run_on_commit[start:]
            for _sids, func, _robust in pending:
                func()

    request_started.connect(started, dispatch_uid="tests-commit-start")
    request_finished.connect(finished, dispatch_uid="tests-commit-finish")
    try:
        yield
    finally:
        request_started.disconnect(dispatch_uid="tests-commit-start")
        request_finished.disconnect(dispatch_uid="tests-commit-finish")
