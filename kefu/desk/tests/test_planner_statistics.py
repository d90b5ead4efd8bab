"""The query planner's statistics: SQLite is asked for them nightly; PostgreSQL keeps its own."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import connection

from kefu.core.tasks import database_analyze_task
from kefu.desk.models import Ticket

pytestmark = pytest.mark.django_db


def _ticket_statistics() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return []
        cursor.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'desk_ticket'")
        return list(cursor.fetchall())


def test_the_nightly_job_gives_sqlite_statistics_and_leaves_postgresql_alone(
    open_ticket: Callable[..., Ticket],
) -> None:
    open_ticket()
    out = io.StringIO()
    call_command("analyze_database", stdout=out)
    if connection.vendor == "postgresql":
        assert "autovacuum" in out.getvalue()
        assert database_analyze_task.call_local().startswith("skipped")
        return
    # SQLite: the tickets' indexes now have their row counts for the planner
    assert out.getvalue().strip() == "analyzed"
    stats = dict(_ticket_statistics())
    assert stats["desk_ticket_queue"].startswith("1 ")
    assert database_analyze_task.call_local() == "analyzed"
