"""Running a service from several threads at once against a real database.

PostgreSQL: each thread opens its own connection to the test database. SQLite: the suite's
in-memory database cannot be shared by concurrent writers (shared-cache locks fail at once
instead of waiting), so the test database is copied to a file for the duration, where
IMMEDIATE transactions queue on the busy timeout exactly as in production.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from django.db import connection, connections

T = TypeVar("T")


@contextmanager
def shared_database(tmp_path: Path) -> Iterator[None]:
    """Make the test database reachable from new threads' connections (see the module)."""
    if connection.vendor != "sqlite":
        yield
        return
    settings_dict = connection.settings_dict
    original = settings_dict["NAME"]
    path = tmp_path / "concurrency.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    # In WAL already, as a running server's file is after its first connection: otherwise the
    # threads' first connections race to switch the journal mode (the settings' init command),
    # and that switch fails at once with "database is locked" instead of waiting.
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    # This thread keeps its in-memory connection (closing it would drop the test database);
    # connections opened by other threads read the new name and use the file.
    settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        settings_dict["NAME"] = original


def in_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on a connection of its own (the database the other threads wrote)."""
    return unwrap(run_threads(1, lambda _i: work()))[0]  # type: ignore[no-any-return]


def run_threads(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(i)`` in ``count`` threads started together; results (or the exception
    each raised) in thread order."""
    barrier = threading.Barrier(count)
    results: list[T | BaseException] = [RuntimeError("not run")] * count

    def body(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except BaseException as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def unwrap(results: list[Any]) -> list[Any]:
    errors = [result for result in results if isinstance(result, BaseException)]
    if errors:
        raise errors[0]
    return results
