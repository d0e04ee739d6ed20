"""The PostgreSQL backend's alive bypass (core/postgresql/base.py), against a real server.

A connection given back at the end of a request less than LINLI_DB_ALIVE_BYPASS_S ago
skips Django's per-request health check (`SELECT 1`); an older one is checked. Shown by
killing the connection's server process (pg_terminate_backend from another connection)
between two "requests": checked, the next request reconnects and answers; bypassed, it
fails once, and the request after it reconnects. That failure inside the window is the
price the docstring names, not a bug; this test keeps it from growing."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import OperationalError, connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _request() -> int:
    """One request's database work: Django's start signal, a query, its finish signal.
    Answers the server process serving it."""
    connection.close_if_unusable_or_obsolete()  # request_started
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])
    finally:
        connection.close_if_unusable_or_obsolete()  # request_finished


def _kill(pid: int) -> None:
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
                         password=db["PASSWORD"] or None, dbname=db["NAME"], autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.05)  # the server closes the socket


@pytest.fixture
def bypass(settings):
    assert connection.vendor == "postgresql" and connection.settings_dict["CONN_HEALTH_CHECKS"]
    connection.close()
    yield settings
    connection.close()


def test_a_connection_given_back_a_moment_ago_is_reused_without_a_check(bypass):
    bypass.LINLI_DB_ALIVE_BYPASS_S = 30.0
    first = _request()
    assert connection._given_back_at is not None
    assert _request() == first  # the same server process: kept, not reconnected

    _kill(first)
    with pytest.raises(OperationalError):  # not checked: the dead connection is used
        _request()
    assert _request() != first  # closed after the error; the next request reconnects


def test_a_connection_given_back_longer_ago_is_checked_and_replaced(bypass):
    bypass.LINLI_DB_ALIVE_BYPASS_S = 30.0
    first = _request()
    connection._given_back_at -= 31.0  # idle for longer than the window
    _kill(first)
    assert _request() != first  # the check found it dead and reconnected; no error


def test_zero_checks_every_request_as_django_does(bypass):
    bypass.LINLI_DB_ALIVE_BYPASS_S = 0.0
    first = _request()
    _kill(first)
    assert _request() != first


def test_a_new_connection_starts_without_a_given_back_time(bypass):
    bypass.LINLI_DB_ALIVE_BYPASS_S = 30.0
    _request()
    connection.close()
    connection.ensure_connection()
    assert connection._given_back_at is None  # never skips a check on another server's say
