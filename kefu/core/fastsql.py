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
  ``PreparedObjects``: the same for model instances with their select_related objects;
  ``PreparedValues``: ``values()`` rows by a list of ids (a list page's rows).
- ``together()``: on PostgreSQL, the INSERTs inside it whose new ids nobody reads
  (``insert(..., deferrable=True)``, ``insert_rows(..., deferrable=True)``) wait and go to the
  server as one round trip: before any other statement runs on the connection (the order of
  the writes is kept) or when the block ends. A ticket create writes its search grams, its
  first transition, its audit event and its status link this way: one round trip, not four.
  SQLite runs in the process, a round trip costs nothing there: each statement runs at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
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
    model: type[Model],
    vendor: str,
    columns: tuple[str, ...],
    rows: int,
    nulls: tuple[bool, ...],
    returning: bool = True,
) -> str:
    """The statement for ``rows`` rows; a column that is NULL in every row is written as NULL
    rather than a parameter (a ticket has 54 columns, half of them empty: fewer parameters
    to send, and psycopg caches the parsing of a statement of at most 50)."""
    quote = connections["default"].ops.quote_name
    opts = model._meta
    names = ", ".join(quote(column) for column in columns)
    row = "(" + ", ".join("NULL" if null else "%s" for null in nulls) + ")"
    sql = f"INSERT INTO {quote(opts.db_table)} ({names}) VALUES {', '.join([row] * rows)}"  # noqa: S608 (our names)
    return f"{sql} RETURNING {quote(opts.pk.column)}" if returning else sql


class _Together:
    """The INSERTs waiting to go to the server in one round trip (``together``); also the
    connection's execute wrapper, which sends them before any other statement runs."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.statements: list[tuple[str, list[Any]]] = []

    def add(self, sql: str, params: list[Any]) -> None:
        self.statements.append((sql, params))

    def flush(self) -> None:
        statements, self.statements = self.statements, []
        if not statements:
            return
        # psycopg's client-side binding (Django's default) sends a string of several
        # statements as one simple query: one round trip, and an error in any of them
        # raises here, inside the caller's transaction. Each statement is merged with its
        # values on its own (psycopg caches the parsing of each; the joined text varies).
        with self.connection.cursor() as cursor:
            sql = ";\n".join(cursor.mogrify(statement, values) for statement, values in statements)
            cursor.execute(sql)

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if self.statements:  # this statement may read what waits: send that first
            self.flush()
        return execute(sql, params, many, context)


@contextmanager
def together(*, using: str = "default") -> Iterator[None]:
    """Send the deferrable INSERTs made inside the block in one round trip (PostgreSQL).

    Must be inside ``transaction.atomic``: the writes reach the server at the latest when the
    block ends, before the commit, and an exception inside the block drops them along with
    the transaction it rolls back. Nested blocks join the outer one."""
    connection = connections[using]
    if connection.vendor != "postgresql" or getattr(connection, "_kefu_together", None):
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("fastsql.together() needs an open transaction (transaction.atomic)")
    batch = _Together(connection)
    setattr(connection, "_kefu_together", batch)  # noqa: B010 (not a declared attribute)
    try:
        with connection.execute_wrapper(batch):
            yield
            batch.flush()
    finally:
        setattr(connection, "_kefu_together", None)  # noqa: B010


def _run_insert(
    model: type[Model],
    columns: tuple[str, ...],
    rows: list[list[Any]],
    using: str,
    *,
    deferrable: bool = False,
) -> list[int] | None:
    """Run the INSERT and return the new ids in order; or, when ``deferrable`` and a
    ``together`` block is open on the connection, queue it there and return None."""
    connection = connections[using]
    nulls = tuple(all(row[i] is None for row in rows) for i in range(len(columns)))
    params = [value for row in rows for value, null in zip(row, nulls, strict=True) if not null]
    batch: _Together | None = getattr(connection, "_kefu_together", None)
    if deferrable and batch is not None:
        batch.add(_insert_sql(model, connection.vendor, columns, len(rows), nulls, False), params)
        return None
    sql = _insert_sql(model, connection.vendor, columns, len(rows), nulls)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = sorted(row[0] for row in cursor.fetchall())
    if len(ids) != len(rows):
        raise RuntimeError(f"{model._meta.label}: {len(ids)} ids for {len(rows)} rows")
    # Both databases number a multi-row VALUES insert's rows in order (Django's bulk_create
    # relies on the same).
    return ids


def insert_many(objs: Sequence[M], *, using: str = "default", deferrable: bool = False) -> None:
    """INSERT new instances of one model in one statement; sets their primary keys, or writes
    the ones they carry (an id drawn beforehand from the table's sequence). With
    ``deferrable``, inside a ``together`` block, the INSERT waits there; instances without an
    id keep none (for rows nothing reads back in the request)."""
    if not objs:
        return
    connection = connections[using]
    model = type(objs[0])
    fields = _fields(model)
    preset = all(obj.pk is not None for obj in objs)
    if preset:
        fields = (model._meta.pk, *fields)
    rows = [
        [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
        for obj in objs
    ]
    ids = _run_insert(
        model, tuple(field.column for field in fields), rows, using, deferrable=deferrable
    )
    if ids is None and not preset:
        return
    for obj, pk in zip(objs, ids or [obj.pk for obj in objs], strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using


def insert(obj: M, *, using: str = "default", deferrable: bool = False) -> M:
    """INSERT one new instance; sets its primary key (see ``insert_many`` for deferrable)."""
    insert_many([obj], using=using, deferrable=deferrable)
    return obj


def insert_rows(
    model: type[Model],
    attnames: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    using: str = "default",
    deferrable: bool = False,
) -> list[int]:
    """INSERT plain rows (values for ``attnames``, the rest of the columns NULL or the
    database's default), without making instances: for many small rows such as search grams.
    Each value goes through its field's ``get_db_prep_save``; the new ids come back in order
    (none when ``deferrable`` queued the INSERT in a ``together`` block)."""
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
    ids = _run_insert(
        model, tuple(field.column for field in fields), prepared, using, deferrable=deferrable
    )
    return ids if ids is not None else []


def instance(model: type[M], values: dict[str, Any], *, using: str = "default") -> M:
    """An instance as the ORM loads it from some columns (by attname); the rest deferred."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(using, names, [values[name] for name in names])


def _fetch(
    connection: Any, sql: str, params: list[Any], converters: dict[int, Any]
) -> list[list[Any]]:
    """Run a compiled read; its rows, each value through the converters the ORM applies."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows = []
    for row in fetched:
        values = list(row)
        for position, (functions, expression) in converters.items():
            for function in functions:
                values[position] = function(values[position], expression, connection)
        rows.append(values)
    return rows


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
        rows = _fetch(connection, sql, params, converters)
        return tuple(rows[0]) if rows else None


class PreparedObjects:
    """Model instances read by one id, the query compiled once per database connection.

    ``PreparedObjects(lambda pk: Ticket.objects.select_related("customer").filter(pk=pk))``
    then ``.all(ticket_id)`` -> the instances the queryset gives, its select_related objects
    attached, in its order; ``.first(ticket_id)`` -> the first or None. Built as Django's
    ModelIterable builds them, from the same compiler's select and converters: what costs
    here is compiling a query of five joins, not running it. The queryset must vary in that
    one value only (no "now", no scope: the caller tests those), and may not use
    annotations, only()/defer() or prefetch_related (prefetch on the result instead)."""

    def __init__(self, build: Callable[[int], QuerySet[Any]]) -> None:
        self.build = build

    def _plan(self, connection: Any) -> tuple[Any, ...]:
        plans: dict[int, Any] = connection.__dict__.setdefault("_kefu_prepared_objects", {})
        plan = plans.get(id(self))
        if plan is None:
            queryset = self.build(_MARKER)
            prefetch: tuple[Any, ...] = getattr(queryset, "_prefetch_related_lookups", ())
            if queryset.query.annotation_select or prefetch:
                raise TypeError("no annotations or prefetch_related in a prepared read")
            if queryset.query.deferred_loading != (frozenset(), True):
                raise TypeError("no only() or defer() in a prepared read")
            compiler = queryset.query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            places = [index for index, value in enumerate(params) if value == _MARKER]
            if len(places) != 1:
                raise TypeError("the queryset must use its id exactly once")
            select, klass_info = compiler.select, compiler.klass_info
            converters = compiler.get_converters([col for col, _, _ in select])
            fields = klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            init_list = [column[0].target.attname for column in select[start:end]]
            populators = get_related_populators(klass_info, select, connection.alias)
            plan = (sql, list(params), places[0], converters, klass_info["model"])
            plan = plans[id(self)] = (*plan, start, end, init_list, populators)
        return plan

    def all(self, value: int, *, using: str = "default") -> list[Any]:
        connection = connections[using]
        sql, params, place, converters, model, start, end, init_list, populators = self._plan(
            connection
        )
        params = list(params)
        params[place] = value
        found = []
        for values in _fetch(connection, sql, params, converters):
            obj = model.from_db(connection.alias, init_list, values[start:end])
            for populator in populators:
                populator.populate(values, obj)
            found.append(obj)
        return found

    def first(self, value: int, *, using: str = "default") -> Any | None:
        found = self.all(value, using=using)
        return found[0] if found else None


class PreparedValues:
    """``values()`` rows read by a list of ids, compiled once per connection and list length.

    ``PreparedValues(lambda ids: Ticket.objects.filter(id__in=ids).values("id", "number"))``
    then ``.rows(page_ids)`` -> the dicts values() gives, in its order. A list page reads its
    25 rows (with their customers, assignees and teams) this way: compiling that query cost
    as much CPU as running it. The queryset must vary in those ids only, each used once."""

    def __init__(self, build: Callable[[list[int]], QuerySet[Any]]) -> None:
        self.build = build

    def _plan(self, connection: Any, length: int) -> tuple[Any, ...]:
        plans: dict[tuple[int, int], Any] = connection.__dict__.setdefault(
            "_kefu_prepared_values", {}
        )
        plan = plans.get((id(self), length))
        if plan is None:
            markers = [_MARKER - index for index in range(length)]
            query = self.build(markers).query
            compiler = query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            places = []
            for marker in markers:
                found = [index for index, value in enumerate(params) if value == marker]
                if len(found) != 1:
                    raise TypeError("the queryset must use each of its ids exactly once")
                places.append(found[0])
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
            converters = compiler.get_converters([col for col, _, _ in compiler.select])
            plan = plans[(id(self), length)] = (sql, list(params), places, names, converters)
        return plan

    def rows(self, ids: Sequence[int], *, using: str = "default") -> list[dict[str, Any]]:
        ids = list(dict.fromkeys(ids))  # as the ORM's IN does: each id once, in order
        if not ids:
            return []
        connection = connections[using]
        sql, params, places, names, converters = self._plan(connection, len(ids))
        params = list(params)
        for place, value in zip(places, ids, strict=True):
            params[place] = value
        return [
            dict(zip(names, values, strict=True))
            for values in _fetch(connection, sql, params, converters)
        ]
