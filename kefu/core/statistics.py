"""The query planner's statistics.

PostgreSQL keeps its own (autovacuum analyses a table after enough of it changed). SQLite keeps
none unless asked: without them its planner guesses, and at a million tickets it guessed the
"all" queue's first page into reading a third of the table (195 ms) instead of walking the
newest tickets (1 ms). A nightly job (core.database_analyze) and the large seed ask for them.
"""

from __future__ import annotations

from django.db import connection


def planner_statistics_refresh() -> str:
    """Refresh the planner's statistics where the database does not: ANALYZE on SQLite (3 s
    for the whole file at a million tickets). Returns what was done."""
    if connection.vendor != "sqlite":
        return "skipped: PostgreSQL keeps its own statistics (autovacuum)"
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return "analyzed"
