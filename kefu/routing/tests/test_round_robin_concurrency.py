"""Round robin under concurrency, on whichever database the suite runs (SQLite by default,
PostgreSQL with KEFU_TEST_DATABASE_URL): routes run in threads, each on its own connection.

The suite's SQLite database is in memory with a shared cache, whose table locks fail at once
instead of waiting; production runs on a file (WAL, IMMEDIATE transactions, busy timeout). So on
SQLite the threads run against a file copy of the test database with the production options.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from kefu.org.models import User
from kefu.routing.engine import RouteDecision, route
from kefu.routing.tests.helpers import online, rule

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def _threads_on_a_real_database(tmp_path: Path) -> Iterator[None]:
    if connection.vendor != "sqlite":
        yield
        return
    copy = tmp_path / "routing.sqlite3"
    target = sqlite3.connect(copy)
    connection.ensure_connection()
    connection.connection.backup(target)
    target.close()
    # Threads open their connections from these settings; the main thread keeps its own.
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(connections.settings["default"], "NAME", str(copy))
        yield


def _route_in_threads(count: int) -> list[RouteDecision]:
    barrier = threading.Barrier(count)
    decisions: list[RouteDecision] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            decision = route(ticket_type="complaint")
            with lock:
                decisions.append(decision)
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return decisions


def test_concurrent_round_robin_never_gives_one_agent_two_in_a_row(
    make_user: Callable[..., User], org: dict[str, Any], tmp_path: Path
) -> None:
    # given two online agents of the rule's team
    first = make_user("rr-a", "agent", teams=("team_a",))
    second = make_user("rr-b", "agent", teams=("team_a",))
    online(first, second)
    rule("投诉轮流", team=org["team_a"], ticket_type="complaint")

    # when eight routes run at the same moment, twice over
    with _threads_on_a_real_database(tmp_path):
        decisions = _route_in_threads(8) + _route_in_threads(8)

    # then the cursor moved one step per route: an exact split, nobody twice in a row
    assert Counter(d.assignee_id for d in decisions) == {first.pk: 8, second.pk: 8}
    assert all(d.team_id == org["team_a"].pk for d in decisions)
