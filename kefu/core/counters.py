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
    value, _id = daily_counter_next_with_id(counter, day, None)
    return value


def daily_counter_next_with_id(
    counter: type[Model], day: date, model: type[Model] | None
) -> tuple[int, int | None]:
    """``daily_counter_next``, and on PostgreSQL the next id of ``model``'s table drawn from
    its sequence in the same statement (None on SQLite, or without a model): the caller can
    then write the new row without waiting for its id to come back (kefu.core.fastsql). A
    rolled-back transaction leaves a gap in the ids, as it always could, never in the day's
    numbers."""
    table = counter._meta.db_table
    last = connection.ops.quote_name("last")
    upsert = (
        f"INSERT INTO {table} (day, {last}) VALUES (%s, 1) "  # noqa: S608 (names are ours)
        f"ON CONFLICT (day) DO UPDATE SET {last} = {table}.{last} + 1 RETURNING {last}"
    )
    params = [connection.ops.adapt_datefield_value(day)]
    with_id = model is not None and connection.vendor == "postgresql"
    if with_id:
        assert model is not None
        upsert = (
            f"WITH c AS ({upsert}) SELECT c.{last}, "  # noqa: S608 (names are ours)
            "nextval(pg_get_serial_sequence(%s, %s)) FROM c"
        )
        params += [connection.ops.quote_name(model._meta.db_table), model._meta.pk.column]
    with connection.cursor() as cursor:
        cursor.execute(upsert, params)
        row = cursor.fetchone()
    assert row is not None
    return int(row[0]), (int(row[1]) if with_id else None)
