"""Hot-path statements that the ORM compiles once per process instead of on every call.

Django builds each statement anew: for a ticket's INSERT of 54 columns, or a customer read by
its id, building it costs several times the CPU the database spends running it, and ticket
create is benchmarked at hundreds a second (issue 4). Here the ORM's own compiler writes the
statement once; a call only prepares its values, with each field's own conversions, and runs it.

- ``insert(obj)`` / ``insert_many(objs)``: what ``save(force_insert=True)`` / ``bulk_create``
  write (each field's ``pre_save``, so ``auto_now`` and defaults hold, then
  ``get_db_prep_save``), and the new primary keys set on the instances. No ``pre_save`` or
  ``post_save`` signal is sent: only for models nothing listens to (``assert_no_save_signals``).
  ``insert_rows`` writes plain rows of a few columns without making instances.
- ``Prepared``: a read compiled from a queryset whose one varying value is an id; rows come back
  through the same converters the ORM applies (SQLite's text datetimes, say). ``instance``
  makes the model instance from such a row, as the ORM would with ``only()``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)

_MARKER = -7_000_000_000_000_000_001  # an id no row has, to find the value's place


def assert_no_save_signals(*models: type[Model]) -> None:
    """``insert`` sends no save signals: refuse a model something has started listening to."""
    for model in models:
        if pre_save.has_listeners(model) or post_save.has_listeners(model):
            raise RuntimeError(f"{model._meta.label} has save receivers; use save()")


def _fields(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    opts = model._meta
    if opts.parents or not opts.auto_field:
        raise TypeError(f"{opts.label}: only a plain model with an auto id")
    fields = tuple(
        field
        for field in opts.local_concrete_fields
        if field is not opts.auto_field and not getattr(field, "generated", False)
    )
    if any(hasattr(field, "get_placeholder") for field in fields):
        raise TypeError(f"{opts.label}: a field with its own placeholder")
    return fields


@functools.lru_cache(maxsize=512)
def _insert_sql(
    model: type[Model], vendor: str, columns: tuple[str, ...], rows: int, nulls: tuple[bool, ...]
) -> str:
    """The statement for ``rows`` rows; a column that is NULL in every row is written as NULL
    rather than a parameter (a ticket has 54 columns, half of them empty: fewer parameters
    to send, and psycopg caches the parsing of a statement of at most 50)."""
    quote = connections["default"].ops.quote_name
    opts = model._meta
    names = ", ".join(quote(column) for column in columns)
    row = "(" + ", ".join("NULL" if null else "%s" for null in nulls) + ")"
    return (
        f"INSERT INTO {quote(opts.db_table)} ({names}) "  # noqa: S608 (our names)
        f"VALUES {', '.join([row] * rows)} RETURNING {quote(opts.pk.column)}"
    )


def _run_insert(
    model: type[Model], columns: tuple[str, ...], rows: list[list[Any]], using: str
) -> list[int]:
    connection = connections[using]
    nulls = tuple(all(row[i] is None for row in rows) for i in range(len(columns)))
    sql = _insert_sql(model, connection.vendor, columns, len(rows), nulls)
    params = [value for row in rows for value, null in zip(row, nulls, strict=True) if not null]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = sorted(row[0] for row in cursor.fetchall())
    if len(ids) != len(rows):
        raise RuntimeError(f"{model._meta.label}: {len(ids)} ids for {len(rows)} rows")
    # Both databases number a multi-row VALUES insert's rows in order (Django's bulk_create
    # relies on the same).
    return ids


def insert_many(objs: Sequence[M], *, using: str = "default") -> None:
    """INSERT new instances of one model in one statement; sets their primary keys."""
    if not objs:
        return
    connection = connections[using]
    model = type(objs[0])
    fields = _fields(model)
    rows = [
        [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
        for obj in objs
    ]
    ids = _run_insert(model, tuple(field.column for field in fields), rows, using)
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using


def insert(obj: M, *, using: str = "default") -> M:
    """INSERT one new instance; sets its primary key."""
    insert_many([obj], using=using)
    return obj


def insert_rows(
    model: type[Model],
    attnames: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    using: str = "default",
) -> list[int]:
    """INSERT plain rows (values for ``attnames``, the rest of the columns NULL or the
    database's default), without making instances: for many small rows such as search grams.
    Each value goes through its field's ``get_db_prep_save``; the new ids come back in order."""
    if not rows:
        return []
    connection = connections[using]
    by_attname = {field.attname: field for field in _fields(model)}
    fields = [by_attname[name] for name in attnames]
    prepared = [
        [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, row, strict=True)
        ]
        for row in rows
    ]
    return _run_insert(model, tuple(field.column for field in fields), prepared, using)


def instance(model: type[M], values: dict[str, Any], *, using: str = "default") -> M:
    """An instance as the ORM loads it from some columns (by attname); the rest deferred."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(using, names, [values[name] for name in names])


class Prepared:
    """A read by one id, compiled once per database connection.

    ``Prepared(lambda pk: Customer.objects.filter(pk=pk).values_list("id", "name"))`` then
    ``.first(customer_id)`` -> the row as values_list gives it, or None. The queryset must
    vary in that one value only: scopes and other filters belong in the caller."""

    def __init__(self, build: Callable[[int], QuerySet[Any]]) -> None:
        self.build = build

    def _plan(self, connection: Any) -> tuple[str, list[Any], list[int], dict[int, Any]]:
        plans: dict[int, Any] = connection.__dict__.setdefault("_kefu_prepared", {})
        plan = plans.get(id(self))
        if plan is None:
            compiler = self.build(_MARKER).query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            places = [index for index, value in enumerate(params) if value == _MARKER]
            if len(places) != 1:
                raise TypeError("the queryset must use its id exactly once")
            converters = compiler.get_converters([col for col, _, _ in compiler.select])
            plan = plans[id(self)] = (sql, list(params), places, converters)
        return plan

    def first(self, value: int, *, using: str = "default") -> tuple[Any, ...] | None:
        connection = connections[using]
        sql, params, places, converters = self._plan(connection)
        params = list(params)
        for place in places:
            params[place] = value
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None or not converters:
            return tuple(row) if row is not None else None
        values = list(row)
        for position, (functions, expression) in converters.items():
            for function in functions:
                values[position] = function(values[position], expression, connection)
        return tuple(values)
