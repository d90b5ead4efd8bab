"""Per-day counters behind human-readable numbers (GD20261125-000123, PG20261125-0007)."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.db.models import Model


def daily_counter_next(counter: type[Model], day: date) -> int:
    """The day's next value from a counter table with columns (day unique, last): one upsert
    that returns the new value. The row stays locked (PostgreSQL) or the database
    write-locked (SQLite) until the caller's transaction commits, so concurrent callers queue
    here and a rollback gives the value back: unique and gap-free."""
    table = counter._meta.db_table
    last = connection.ops.quote_name("last")
    sql = (
        f"INSERT INTO {table} (day, {last}) VALUES (%s, 1) "  # noqa: S608 (names are ours)
        f"ON CONFLICT (day) DO UPDATE SET {last} = {table}.{last} + 1 RETURNING {last}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datefield_value(day)])
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
