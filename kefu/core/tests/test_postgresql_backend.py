"""The PostgreSQL backend's health check (kefu.core.postgresql): no round trip while the
connection is quiet, a reconnect once the server has ended it.

The tests open their own connection to the machine's PostgreSQL server (the suite's URL, or
the CI default), whichever database the rest of the suite runs on."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import OperationalError, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper

from kefu.core.postgresql.base import DatabaseWrapper, _quiet
from kefu.settings import _database

URL = (
    os.environ.get("KEFU_TEST_DATABASE_URL")
    or os.environ.get("KEFU_CI_POSTGRES_URL")
    or "postgres://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def pg(django_db_blocker: Any) -> Iterator[DatabaseWrapper]:
    """A connection of its own (not the suite's test database, which it never touches)."""
    config = _database(URL)
    assert config["ENGINE"] == "kefu.core.postgresql"
    settings_dict = connections.configure_settings({"default": config})["default"]
    wrapper = DatabaseWrapper(settings_dict, alias="health")
    with django_db_blocker.unblock():
        try:
            wrapper.ensure_connection()
        except OperationalError as exc:
            pytest.skip(f"PostgreSQL at {URL} does not answer: {exc}")
        try:
            yield wrapper
        finally:
            wrapper.close()


def _pid(pg: DatabaseWrapper) -> int:
    with pg.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def _end_from_elsewhere(pg: DatabaseWrapper, pid: int) -> None:
    """End the backend from another connection, as a server restart or an administrator does,
    and wait for the server's goodbye to reach the socket."""
    with psycopg.connect(URL, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while _quiet(pg.connection.pgconn.socket):
        assert time.monotonic() < deadline, "the server's goodbye never arrived"
        time.sleep(0.01)


def test_a_quiet_connection_is_usable_without_a_query(
    pg: DatabaseWrapper, monkeypatch: Any
) -> None:
    _pid(pg)
    asked: list[str] = []

    def select_one(self: Any) -> bool:
        asked.append("SELECT 1")
        return True

    monkeypatch.setattr(DjangoWrapper, "is_usable", select_one)
    assert pg.is_usable()
    assert asked == []  # the socket answered: no round trip


def test_a_connection_inside_a_transaction_is_checked_by_a_query(
    pg: DatabaseWrapper, monkeypatch: Any
) -> None:
    asked: list[str] = []

    def select_one(self: Any) -> bool:
        asked.append("SELECT 1")
        return True

    pg.set_autocommit(False)
    _pid(pg)  # a transaction is open now
    monkeypatch.setattr(DjangoWrapper, "is_usable", select_one)
    assert pg.is_usable()
    assert asked == ["SELECT 1"]
    pg.rollback()
    pg.set_autocommit(True)


def test_a_connection_the_server_ended_is_replaced_before_the_next_query(
    pg: DatabaseWrapper,
) -> None:
    old = _pid(pg)
    _end_from_elsewhere(pg, old)
    assert not pg.is_usable()
    # What Django does at the start of a request (close_old_connections) and before its first
    # query: the check fails, the connection is closed, and the query runs on a new one.
    pg.health_check_done = False  # type: ignore[attr-defined]
    assert _pid(pg) != old


def test_without_the_check_the_ended_connection_fails_the_query(pg: DatabaseWrapper) -> None:
    """The case the check exists for: the first query on an ended connection raises."""
    _end_from_elsewhere(pg, _pid(pg))
    pg.health_check_done = True  # type: ignore[attr-defined]  # as if checked already: nothing checks before the query
    with pytest.raises(OperationalError):
        _pid(pg)
