"""What the built-in sections share: month arithmetic, the JSON-safe forms of money, percent
and KPI values that the report's tables hold, words for a change between two months, and the
SQL for "seconds between two timestamps" and a median, which SQLite and PostgreSQL spell
differently."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import Expression, FloatField, Func, QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone
from django.utils.translation import gettext

from kefu.analytics.kpis import KpiValue
from kefu.reports.sections import Figure

CENT = Decimal("0.01")
TENTH = Decimal("0.1")

# KpiValue.unit → the kind of a report cell holding it
KIND_OF_UNIT = {
    "percent": "percent",
    "seconds": "decimal",
    "count": "int",
    "yuan": "money",
    "per_10k": "decimal",
    "days": "decimal",
}


def add_months(first: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) ``first``'s month."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_start(first: date) -> datetime:
    """The first instant of ``first``'s month in the business time zone."""
    return datetime.combine(first.replace(day=1), time(), tzinfo=timezone.get_current_timezone())


def month_label(first: date) -> str:
    return gettext("%(year)d年%(month)d月") % {"year": first.year, "month": first.month}


def last_day(first: date) -> date:
    return add_months(first, 1) - timedelta(days=1)


def to_decimal(value: Any) -> Decimal:
    """A database sum as an exact Decimal to the cent: SQLite hands back floats for decimal
    columns (they are stored as REAL), PostgreSQL Decimals; None is 0."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        value = repr(round(value, 2))
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_cell(value: Any) -> str:
    """A money cell of a table: "1234.56"."""
    return f"{to_decimal(value):.2f}"


def yuan(value: Any) -> str:
    """Money in words: ¥1,234.56."""
    amount = to_decimal(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def one_decimal(value: Any) -> float | None:
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(TENTH, rounding=ROUND_HALF_UP))


def share(part: int, whole: int) -> float | None:
    """``part`` as a percent (0–100, one decimal) of ``whole``; None when whole is 0."""
    if not whole:
        return None
    return one_decimal(Decimal(part) * 100 / Decimal(whole))


def kpi_cell(value: KpiValue) -> Any:
    """A KPI in a table cell or figure: None for n/a, a number otherwise (str for money)."""
    if value.value is None:
        return None
    kind = KIND_OF_UNIT.get(value.unit, "decimal")
    if kind == "money":
        return money_cell(value.value)
    if kind == "int":
        return int(value.value)
    if value.unit == "per_10k":  # small rates: 3.45 complaints per 10,000 orders
        return float(value.value.quantize(CENT, rounding=ROUND_HALF_UP))
    return one_decimal(value.value)


def kpi_figure(label: str, value: KpiValue) -> Figure:
    return Figure(label=label, value=kpi_cell(value), kind=KIND_OF_UNIT.get(value.unit, "decimal"))


def change_words(current: int, previous: int) -> str:
    """ "较上月增加 40%" / "较上月减少 20%" / "与上月持平" / "上月为 0"."""
    if current == previous:
        return gettext("与上月持平")
    if previous == 0:
        return gettext("上月为 0")
    percent = (Decimal(abs(current - previous)) * 100 / Decimal(previous)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    if current > previous:
        return gettext("较上月增加 %(percent)s%%") % {"percent": percent}
    return gettext("较上月减少 %(percent)s%%") % {"percent": percent}


def points_words(current: Any, previous: Any, unit: str) -> str:
    """The change of a rate in points: "较上月上升 0.8 个万分点"; "" when either is n/a."""
    if current is None or previous is None:
        return ""
    delta = Decimal(str(current)) - Decimal(str(previous))
    delta = delta.quantize(TENTH, rounding=ROUND_HALF_UP)
    if delta == 0:
        return gettext("与上月持平")
    if delta > 0:
        return gettext("较上月上升 %(delta)s 个%(unit)s") % {"delta": delta, "unit": unit}
    return gettext("较上月下降 %(delta)s 个%(unit)s") % {"delta": -delta, "unit": unit}


class SecondsBetween(Func):
    """Seconds from the first timestamp to the second, as a float, on SQLite and PostgreSQL."""

    output_field = FloatField()

    def __init__(self, start: Expression | str, end: Expression | str) -> None:
        super().__init__(end, start)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: Any, **extra_context: Any
    ) -> tuple[str, Any]:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra_context,
        )

    def as_postgresql(
        self, compiler: SQLCompiler, connection: Any, **extra_context: Any
    ) -> tuple[str, Any]:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)",
            arg_joiner=" - ",
            **extra_context,
        )


def median(queryset: QuerySet[Any], column: str) -> float | None:
    """The median of one numeric column of ``queryset`` (a ``values(column)`` query), computed
    in the database with a window (the middle row, or the mean of the two middle rows)."""
    sql, params = queryset.values(column).order_by().query.sql_with_params()
    name = connection.ops.quote_name(column)
    wrapped = (
        f"SELECT AVG(v) FROM (SELECT {name} AS v, ROW_NUMBER() OVER (ORDER BY {name}) AS rn, "  # noqa: S608
        f"COUNT(*) OVER () AS cnt FROM ({sql}) AS t) AS u "
        "WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2)"
    )
    with connection.cursor() as cursor:
        cursor.execute(wrapped, params)
        row = cursor.fetchone()
    return None if row is None or row[0] is None else float(row[0])
