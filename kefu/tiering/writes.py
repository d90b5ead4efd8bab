"""Writing a recompute's results in bulk.

On PostgreSQL the rows go in with COPY (into the change log directly, and through temporary
tables for the UPDATE of Customer.tier and the upsert of CustomerTierState): the first
recompute of 100,000 customers writes ~100,000 rows to each table, and building that many
parameters through the ORM alone took longer than the whole 30-second budget. Elsewhere
(SQLite) the ORM's bulk_create / update do it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from kefu.customers.models import Customer
from kefu.tiering.models import CustomerTierState, TierChange

BATCH = 2_000
STATE_FIELDS = [
    "computed_tier",
    "measure_value",
    "low_since_quarter",
    "low_quarters",
    "last_low_quarter",
    "pinned_tier",
    "pin_reason",
    "pin_expires_on",
    "pinned_by",
    "evaluated_at",
]
_STATE_COLUMNS = ["customer_id", *(f if f != "pinned_by" else "pinned_by_id" for f in STATE_FIELDS)]
_CHANGE_COLUMNS = [
    "created_at",
    "updated_at",
    "customer_id",
    "from_tier",
    "to_tier",
    "kind",
    "reason",
    "figures",
    "rule_set_id",
    "actor_id",
]


def write_results(
    *,
    changes: list[TierChange],
    moves: dict[str, list[int]],
    states: list[CustomerTierState],
    now: datetime,
) -> None:
    if connection.vendor == "postgresql":
        _write_postgresql(changes=changes, moves=moves, states=states, now=now)
        return
    TierChange.objects.bulk_create(changes, batch_size=BATCH)
    for tier, ids in moves.items():
        for start in range(0, len(ids), BATCH):
            Customer.objects.filter(pk__in=ids[start : start + BATCH]).update(
                tier=tier, updated_at=now
            )
    CustomerTierState.objects.update(evaluated_at=now)
    CustomerTierState.objects.bulk_create(
        states,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=STATE_FIELDS,
    )


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with cursor.copy(f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _write_postgresql(
    *,
    changes: list[TierChange],
    moves: dict[str, list[int]],
    states: list[CustomerTierState],
    now: datetime,
) -> None:
    q = connection.ops.quote_name
    customers = q(Customer._meta.db_table)
    state_table = q(CustomerTierState._meta.db_table)
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor, for COPY
        _copy(
            cursor,
            TierChange._meta.db_table,
            _CHANGE_COLUMNS,
            (
                (
                    now,
                    now,
                    c.customer_id,
                    c.from_tier,
                    c.to_tier,
                    c.kind,
                    c.reason,
                    json.dumps(c.figures, ensure_ascii=False),
                    c.rule_set_id,
                    c.actor_id,
                )
                for c in changes
            ),
        )
        if moves:
            wrapper.execute(
                "CREATE TEMP TABLE kefu_tier_move (id bigint PRIMARY KEY, tier varchar(16)) "
                "ON COMMIT DROP"
            )
            _copy(
                cursor,
                "kefu_tier_move",
                ["id", "tier"],
                ((pk, tier) for tier, ids in moves.items() for pk in ids),
            )
            wrapper.execute(
                f"UPDATE {customers} AS c SET tier = m.tier, updated_at = %s "  # noqa: S608
                "FROM kefu_tier_move AS m WHERE c.id = m.id",
                [now],
            )
            wrapper.execute("DROP TABLE kefu_tier_move")
        wrapper.execute(f"UPDATE {state_table} SET evaluated_at = %s", [now])  # noqa: S608
        if states:
            wrapper.execute(
                f"CREATE TEMP TABLE kefu_tier_state (LIKE {state_table}) ON COMMIT DROP"
            )
            _copy(
                cursor,
                "kefu_tier_state",
                _STATE_COLUMNS,
                ([getattr(s, c) for c in _STATE_COLUMNS] for s in states),
            )
            columns = ", ".join(q(c) for c in _STATE_COLUMNS)
            updates = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in _STATE_COLUMNS[1:])
            wrapper.execute(
                f"INSERT INTO {state_table} ({columns}) "  # noqa: S608
                f"SELECT {columns} FROM kefu_tier_state "
                f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
            )
            wrapper.execute("DROP TABLE kefu_tier_state")
