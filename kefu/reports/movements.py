"""Customer movements of the monthly report (客服月报): who is churned, at risk, anomalous,
rising, falling, new or won back at the end of a month, with the reason in words and figures.

The rules are domain.md §3, evaluated in this order for every customer not merged into another:

1. 新客户 new: the customer's first order ever falls in the report month.
2. 回流 won back: the customer was churned at the end of the month before (days since the last
   order > L, L computed from the orders up to then) and orders in the report month.
3. Eligibility: ≥ 2 orders and ≥ ¥10,000 in T12; everyone else is counted as ``small`` (customers
   who existed at the month's end without any order included).
4. 流失 churned: days since the last order > L = max(180, 3 × gap), or the customer ended the
   relationship (``lifecycle_stage == "ended"``).
5. 流失预警 at risk: days since the last order > max(45, 2 × gap), or ≥ (1 − 20 %) × L.
6. 异动 anomalous: any anomaly flag (below).
7. 上升 rising: R3 ≥ 1.2 · B and R3 − B ≥ ¥5,000.
8. 下降 falling: R3 ≤ 0.8 · B and B − R3 ≥ ¥5,000; a drop of ≥ 50 % is 严重下滑 (severe).
9. 稳定 stable otherwise.

Definitions, at the end of month M (days are counted to the month's last day):

- R3 = revenue of months M-2..M, P3 = M-5..M-3, Y3 = M-14..M-12, T12 = M-11..M. Revenue is
  ``Order.amount``; negative orders are returns and net out. Orders after the month are ignored,
  so a past month is classified as it stood then.
- Months before a customer's first order count in no base and no anomaly window: the base B is
  Y3 when the customer has ≥ 15 months of history (its first order in M-14 or earlier, so the whole
  of Y3 is covered), else P3 when the whole of P3 is covered (first order in M-5 or earlier), else
  there is no base and the customer can be neither rising nor falling.
- Gap = the median of the days between the customer's consecutive order days (several orders on
  one day count as one purchase); 90 days with a single order day.

Anomaly flags (``figures["flags"]``):

- ``revenue_z``: the month's revenue has |modified z| ≥ 3.5 against the previous 12 months (only
  months from the first order on, at least 6 of them): z = 0.6745 (x − median) / MAD; when MAD is 0,
  z = (x − median) / (1.253314 × mean absolute deviation from the median); both 0: no flag.
- ``big_order``: one order in the month ≥ 3 × the median (positive) order value of the previous
  12 months.
- ``overdue``: a new overdue > 30 days: an order whose due date + 30 days falls in the month and
  that is unpaid at the month's end.
- ``exposure``: ``credit_exposure`` ≥ 90 % of ``credit_limit`` (limit > 0). The customer row
  holds only the current exposure, so for a past month this is today's figure.
- ``complaints``: ≥ 2 valid complaints created in the month (ticket type complaint, liability
  ours, supplier or carrier).
- ``complaint_open``: a complaint (any liability) created more than 15 days before the month's
  end and still not closed at it (``closed_at`` empty or later).
- ``category_shift``: the share of the customer's top product of the 12 months before R3
  (OrderLine.product: there is no product category) moved ≥ 30 points in R3, for customers who
  bought in the month with at least 3 orders in each window (compared month by month, one or two
  orders always "shift": on the large seed half the customers were flagged).

Left out: "key contact changed" (contacts keep no history of who was primary when) and "DSO up
≥ 15 days" (needs receivables balances by month, which the order table does not hold cheaply:
payments are a single ``paid_date`` per order, no partial payments or invoices).

How it is computed: one SQL query reads every order up to the month's end as three integers
(customer, day number, amount in fen), straight into numpy arrays; everything per customer (month
revenue matrix, first and last order, median gaps, windows, z-scores) is columnar numpy. The flags
that need other tables (overdue, complaints, product shares, credit) are GROUP BY queries. Only the
customers who end up in a list are read as rows, for their names and owners.

Each status list is ordered by T12 revenue, largest first (then customer id).

Performance (2026-11-26, this 2-core machine shared with four other sessions, whose benches
also ran on the same PostgreSQL server: load average 4.4 to 7.4 during the runs, so these are
upper bounds; ``kefu seed --size demo`` then ``--size large``: 100,500 customers, 579,400 orders,
2,020,051 order lines, 1,000,360 tickets; October 2026 classified: 750 churned, 2,832 at risk,
3,468 anomalous, 2,243 rising, 1,935 falling, 3,068 new, 2,230 won back, 5,159 stable, 76,611
small, the same on both databases)::

    KEFU_DATABASE_URL=... /usr/bin/time -v kefu customer_movements --month 2026-10

    SQLite      classify 6.2 s, 5.8 s          peak RSS of the whole command 263 MiB
    PostgreSQL  classify 11.7 s, 7.3 s         peak RSS 266 MiB (after ANALYZE)
                (7.1 s and 7.8 s for the same call from a script with a timer per query)

The process itself used 4.8-5.2 s of CPU on SQLite (queries included) and 3.8 s on PostgreSQL
(the server's share not counted), Django's start included: the rest of each run was waiting for
a core. On PostgreSQL the product-share join is 3 of the 7 s (a hash join over all 2,000,000
order lines, 1.7-2.1 s in EXPLAIN ANALYZE), the order read 1.0 s, the complaints 0.4-0.5 s.
Without ANALYZE (a freshly seeded PostgreSQL before autovacuum got to it) the product
share join took 26 s: the planner had no statistics for the order lines.

On SQLite the largest part is the complaints query (the candidates' tickets read through
``desk_ticket_customer``: ticket rows are wide and there is no index on type).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import connection
from django.utils.translation import get_language, gettext, gettext_lazy

from kefu.core.phones import mask_name

STATUSES: tuple[str, ...] = (
    "churned",
    "at_risk",
    "anomalous",
    "rising",
    "falling",
    "new",
    "won_back",
)

FLAGS: tuple[str, ...] = (
    "revenue_z",
    "big_order",
    "overdue",
    "exposure",
    "complaints",
    "complaint_open",
    "category_shift",
)

FLAG_LABELS: dict[str, Any] = {
    "revenue_z": gettext_lazy("月订单额异常"),
    "big_order": gettext_lazy("大额订单"),
    "overdue": gettext_lazy("新增逾期"),
    "exposure": gettext_lazy("信用占用接近额度"),
    "complaints": gettext_lazy("本月多次有效投诉"),
    "complaint_open": gettext_lazy("投诉久未结案"),
    "category_shift": gettext_lazy("产品结构变化"),
}

VALID_COMPLAINT_LIABILITIES: tuple[str, ...] = ("ours", "supplier", "carrier")

_translated: dict[tuple[str | None, str], str] = {}


def _(message: str) -> str:
    """gettext, remembered per language: a month lists thousands of reasons built from a dozen
    sentences, and gettext's thread-local catalogue lookups cost more than the formatting."""
    key = (get_language(), message)
    text = _translated.get(key)
    if text is None:
        text = _translated[key] = gettext(message)
    return text


IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class MovementRules:
    """The thresholds of domain.md §3 (defaults), editable by a manager in ReportSettings."""

    min_orders_t12: int = 2
    min_revenue_t12: Decimal = Decimal("10000")
    seasonal_base_months: int = 15  # Y3 as base with at least this many months of history, else P3
    default_gap_days: int = 90
    churn_min_days: int = 180
    churn_gap_multiple: Decimal = Decimal("3")
    at_risk_min_days: int = 45
    at_risk_gap_multiple: Decimal = Decimal("2")
    at_risk_margin: Decimal = Decimal("0.20")  # within 20 % of L
    rising_ratio: Decimal = Decimal("1.2")
    rising_min_delta: Decimal = Decimal("5000")
    falling_ratio: Decimal = Decimal("0.8")
    falling_min_delta: Decimal = Decimal("5000")
    severe_drop: Decimal = Decimal("0.5")
    anomaly_z: Decimal = Decimal("3.5")
    anomaly_min_months: int = 6
    big_order_multiple: Decimal = Decimal("3")
    overdue_days: int = 30
    exposure_ratio: Decimal = Decimal("0.9")
    complaints_in_month: int = 2
    complaint_open_days: int = 15
    category_share_points: Decimal = Decimal("30")


@dataclass(frozen=True)
class Movement:
    customer_id: int
    name: str
    status: str
    reason: str
    figures: dict[str, Any]
    owner_id: int | None
    owner_name: str


@dataclass
class Movements:
    month: date
    by_status: dict[str, list[Movement]] = field(
        default_factory=lambda: {status: [] for status in STATUSES}
    )
    stable: int = 0
    small: int = 0
    duration: float = 0.0  # seconds the classification took (the command prints it)

    def counts(self) -> dict[str, int]:
        return {status: len(self.by_status[status]) for status in STATUSES}

    def api_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {
            status: [
                {"customer_id": m.customer_id, "name": m.name, "reason": m.reason}
                for m in self.by_status[status]
            ]
            for status in STATUSES
        }


# ---------------------------------------------------------------------------------------------
# Small helpers: money, percentages, exact ratio comparisons on integer fen


def _fen(value: Decimal) -> int:
    return int((value * 100).to_integral_value(ROUND_HALF_UP))


def _money(fen: int | np.integer[Any]) -> str:
    """¥1,234.56 (house style)."""
    return f"¥{Decimal(int(fen)).scaleb(-2):,.2f}"


def _money_figure(fen: int | np.integer[Any]) -> str:
    """'1234.56', as report table cells carry money."""
    return f"{Decimal(int(fen)).scaleb(-2):.2f}"


def _round(value: float, places: int = 0) -> str:
    quantum = Decimal(1).scaleb(-places)
    return str(Decimal(repr(float(value))).quantize(quantum, ROUND_HALF_UP))


def _ratio(value: Decimal) -> tuple[int, int]:
    numerator, denominator = value.as_integer_ratio()
    return numerator, denominator


def _ge_ratio(left: IntArray, ratio: Decimal, right: IntArray) -> BoolArray:
    """left ≥ ratio × right, exactly (integers, no float rounding at the boundary)."""
    num, den = _ratio(ratio)
    return np.asarray(left * den >= right * num)


def _le_ratio(left: IntArray, ratio: Decimal, right: IntArray) -> BoolArray:
    num, den = _ratio(ratio)
    return np.asarray(left * den <= right * num)


def _number(value: float) -> int | float:
    """A JSON figure: 30 rather than 30.0, 30.5 stays."""
    return int(value) if float(value).is_integer() else float(value)


def _month_index(day: date) -> int:
    """Months since 1970-01, as numpy's datetime64[M] counts them."""
    return (day.year - 1970) * 12 + day.month - 1


def _day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _month_label(index: int) -> str:
    return _("%(month)d月") % {"month": index % 12 + 1}


def _next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _grouped_median(groups: IntArray, values: FloatArray, size: int) -> tuple[FloatArray, IntArray]:
    """Median of ``values`` per group id in [0, size); NaN where a group is empty."""
    order = np.lexsort((values, groups))
    sorted_values = values[order]
    counts = np.bincount(groups, minlength=size).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    median = np.full(size, np.nan)
    has = counts > 0
    low = starts[has] + (counts[has] - 1) // 2
    high = starts[has] + counts[has] // 2
    median[has] = (sorted_values[low] + sorted_values[high]) / 2
    return median, counts


# ---------------------------------------------------------------------------------------------
# Reading the database: integers only, straight into numpy


def _fetch_int_columns(sql: str, params: Sequence[Any], width: int) -> IntArray:
    """Rows of integers as an (n, width) int64 array, read in chunks (no list of all rows)."""
    chunks: list[IntArray] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(200_000)
            if not rows:
                break
            flat = itertools.chain.from_iterable(rows)
            chunks.append(
                np.fromiter(flat, dtype=np.int64, count=len(rows) * width).reshape(-1, width)
            )
    if not chunks:
        return np.zeros((0, width), dtype=np.int64)
    return np.concatenate(chunks)


def _sql_day(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def _sql_bigint(expression: str) -> str:
    return f"CAST({expression} AS BIGINT)" if connection.vendor == "postgresql" else expression


def _sql_fen(expression: str) -> str:
    kind = "BIGINT" if connection.vendor == "postgresql" else "INTEGER"
    return f"CAST(ROUND({expression} * 100) AS {kind})"


def _db_datetime(value: datetime) -> Any:
    """An aware datetime as the backend stores it (SQLite: naive UTC text; a raw aware value
    would compare as text with its +08:00 offset, 8 hours off)."""
    return connection.ops.adapt_datetimefield_value(value)


def _tables() -> dict[str, str]:
    from kefu.customers.models import Customer
    from kefu.desk.models import Ticket
    from kefu.orders.models import Order, OrderLine

    return {
        "customer": Customer._meta.db_table,
        "order": Order._meta.db_table,
        "line": OrderLine._meta.db_table,
        "ticket": Ticket._meta.db_table,
    }


@dataclass
class _Window:
    month: date
    next_month: date
    last_day: date
    start: datetime  # aware, Asia/Shanghai
    end: datetime
    m: int  # month index of the report month
    end_day: int  # day number of the month's last day
    start_day: int  # day number of the month's first day


def _window(month: date) -> _Window:
    first = month.replace(day=1)
    following = _next_month(first)
    zone = ZoneInfo(settings.TIME_ZONE)
    return _Window(
        month=first,
        next_month=following,
        last_day=following - timedelta(days=1),
        start=datetime(first.year, first.month, 1, tzinfo=zone),
        end=datetime(following.year, following.month, 1, tzinfo=zone),
        m=_month_index(first),
        end_day=_day_number(following) - 1,
        start_day=_day_number(first),
    )


# ---------------------------------------------------------------------------------------------
# The classification


def classify_customers(month: date, rules: MovementRules | None = None) -> Movements:
    """Every customer's movement at the end of ``month`` (any day of it), by domain.md §3."""
    started = time.monotonic()
    rules = rules or MovementRules()
    win = _window(month)
    tables = _tables()
    qn = connection.ops.quote_name

    # 1. The population: customers not merged into another, that existed by the month's end or
    #    ordered by then, with their two row-level facts (ended, exposure) as integers.
    exp_num, exp_den = _ratio(rules.exposure_ratio)
    population = _fetch_int_columns(
        f"SELECT id, CASE WHEN lifecycle_stage = 'ended' THEN 1 ELSE 0 END, "  # noqa: S608 (our table names, numbers)
        f"CASE WHEN credit_limit > 0 AND credit_exposure * {exp_den} >= credit_limit * {exp_num} "
        f"THEN 1 ELSE 0 END, CASE WHEN created_at < %s THEN 1 ELSE 0 END "
        f"FROM {qn(tables['customer'])} WHERE merged_into_id IS NULL",
        [_db_datetime(win.end)],
        4,
    )
    ids = population[:, 0]
    size = len(ids)
    movements = Movements(month=win.month)
    if size == 0:
        movements.duration = time.monotonic() - started
        return movements
    position = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    position[ids] = np.arange(size)
    ended = population[:, 1] == 1
    exposure_hit = population[:, 2] == 1
    existed = population[:, 3] == 1

    # 2. Every order up to the month's end: (customer, day, fen), sorted by customer then day,
    #    with the overdue flag's test (due date + 30 days in the month, unpaid at the month's
    #    end), so that flag needs no query of its own. Packed two integers a row (customer ×
    #    65536 + day, fen × 2 + overdue): half the Python objects to convert for 500,000+ rows.
    raw = _fetch_int_columns(
        f"SELECT {_sql_bigint('customer_id')} * 65536 + {_sql_day('date')}, "  # noqa: S608 (our table names, numbers)
        f"{_sql_fen('amount')} * 2 + CASE WHEN due_date >= %s AND due_date < %s AND amount > 0 "
        f"AND (paid_date IS NULL OR paid_date > %s) THEN 1 ELSE 0 END "
        f"FROM {qn(tables['order'])} WHERE date < %s",
        [
            win.month - timedelta(days=rules.overdue_days),
            win.next_month - timedelta(days=rules.overdue_days),
            win.last_day,
            win.next_month,
        ],
        2,
    )
    customer_of = raw[:, 0] >> 16
    known = customer_of <= ids.max()
    who = position[customer_of[known]]
    keep = who >= 0
    who = who[keep]
    day = (raw[known, 0] & 0xFFFF)[keep]
    fen = (raw[known, 1] >> 1)[keep]
    overdue = (raw[known, 1] & 1)[keep] == 1
    del raw, customer_of, known, keep
    order = np.lexsort((day, who))
    who, day, fen, overdue = who[order], day[order], fen[order], overdue[order]
    del order
    month_of = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)

    # Purchases (positive orders) date the customer: first and last order, gaps, order counts.
    # Returns (negative orders) only net out of revenue.
    bought = fen > 0
    b_who, b_day, b_month = who[bought], day[bought], month_of[bought]
    orders_all = np.bincount(b_who, minlength=size)
    has_orders = orders_all > 0
    existed |= has_orders
    ends = np.cumsum(orders_all)
    starts = ends - orders_all
    first_day = np.full(size, -1, dtype=np.int64)
    last_day = np.full(size, -1, dtype=np.int64)
    first_day[has_orders] = b_day[starts[has_orders]]
    last_day[has_orders] = b_day[ends[has_orders] - 1]
    first_month = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    first_month[has_orders] = b_month[starts[has_orders]]

    # Month revenue and purchase counts, months M-14..M (column 14 is the report month).
    span = 15

    def month_matrix(groups: IntArray, months: IntArray, weights: IntArray | None) -> IntArray:
        col = months - (win.m - (span - 1))
        inside = col >= 0
        flat = groups[inside] * span + col[inside]
        summed = np.bincount(
            flat, weights=None if weights is None else weights[inside], minlength=size * span
        )
        return np.rint(summed).astype(np.int64).reshape(size, span)

    revenue = month_matrix(who, month_of, fen)
    counts = month_matrix(b_who, b_month, None)

    def window_sum(matrix: IntArray, first_offset: int, last_offset: int) -> IntArray:
        """Sum of months M+first_offset..M+last_offset (offsets ≤ 0)."""
        return np.asarray(matrix[:, span - 1 + first_offset : span + last_offset].sum(axis=1))

    r3 = window_sum(revenue, -2, 0)
    p3 = window_sum(revenue, -5, -3)
    y3 = window_sum(revenue, -14, -12)
    t12 = window_sum(revenue, -11, 0)
    t12_orders = window_sum(counts, -11, 0)
    this_month = counts[:, span - 1] > 0

    # Gap (median days between distinct purchase days), now and at the end of the month before.
    same = np.zeros(len(b_who), dtype=np.bool_)
    same[1:] = b_who[1:] == b_who[:-1]
    step = np.zeros(len(b_who), dtype=np.int64)
    step[1:] = b_day[1:] - b_day[:-1]
    is_gap = same & (step > 0)

    def gaps(mask: BoolArray) -> FloatArray:
        median, _counts = _grouped_median(b_who[mask], step[mask].astype(np.float64), size)
        return np.where(np.isnan(median), float(rules.default_gap_days), median)

    gap = gaps(is_gap)
    before = b_day < win.start_day
    gap_before = gaps(is_gap & before)
    orders_before = np.bincount(b_who[before], minlength=size)
    last_before = np.full(size, -1, dtype=np.int64)
    had_before = orders_before > 0
    last_before[had_before] = b_day[starts[had_before] + orders_before[had_before] - 1]

    churn_mult = float(rules.churn_gap_multiple)
    limit = np.maximum(float(rules.churn_min_days), churn_mult * gap)
    limit_before = np.maximum(float(rules.churn_min_days), churn_mult * gap_before)
    days_since = np.where(has_orders, win.end_day - last_day, -1)
    days_since_before = win.start_day - 1 - last_before

    # 3. The statuses in their order.
    status = np.full(size, "", dtype=object)
    new = has_orders & (first_month == win.m)
    won_back = ~new & had_before & this_month & (days_since_before > limit_before)
    eligible = (
        ~new
        & ~won_back
        & (t12_orders >= rules.min_orders_t12)
        & (t12 >= _fen(rules.min_revenue_t12))
    )
    small = existed & ~new & ~won_back & ~eligible
    churned_by_days = eligible & (days_since > limit)
    churned = eligible & (churned_by_days | ended)
    at_risk_days = np.maximum(
        float(rules.at_risk_min_days), float(rules.at_risk_gap_multiple) * gap
    )
    at_risk = (
        eligible
        & ~churned
        & ((days_since > at_risk_days) | (days_since >= (1 - float(rules.at_risk_margin)) * limit))
    )
    open_rest = eligible & ~churned & ~at_risk

    flags = _anomaly_flags(
        rules, win, tables, position, ids, open_rest, who, fen, overdue, month_of, first_month,
        revenue, counts, exposure_hit,
    )  # fmt: skip
    any_flag = np.zeros(size, dtype=np.bool_)
    for hit, _detail in flags.values():
        any_flag |= hit
    anomalous = open_rest & any_flag

    history = win.m - first_month + 1
    # a base window must lie wholly on or after the first order's month
    use_y3 = (history >= rules.seasonal_base_months) & (first_month <= win.m - 14)
    has_base = use_y3 | (first_month <= win.m - 5)
    base = np.where(use_y3, y3, p3)
    rest = open_rest & ~anomalous & has_base
    rising = (
        rest & _ge_ratio(r3, rules.rising_ratio, base) & (r3 - base >= _fen(rules.rising_min_delta))
    )
    falling = (
        rest
        & ~rising
        & _le_ratio(r3, rules.falling_ratio, base)
        & (base - r3 >= _fen(rules.falling_min_delta))
    )
    severe = falling & (base > 0) & _ge_ratio(base - r3, rules.severe_drop, base)

    for name, mask in (
        ("new", new),
        ("won_back", won_back),
        ("churned", churned),
        ("at_risk", at_risk),
        ("anomalous", anomalous),
        ("rising", rising),
        ("falling", falling),
    ):
        status[mask & (status == "")] = name
    stable = eligible & (status == "")
    movements.stable = int(stable.sum())
    movements.small = int(small.sum())

    # 4. The listed customers, as rows: names, owners and the reason in words.
    listed = np.flatnonzero(status != "")
    # the most valuable first: T12 revenue, then the customer id
    listed = listed[np.lexsort((ids[listed], -t12[listed]))]
    people = _customer_rows([int(ids[i]) for i in listed])
    exposure_rows = _exposure_rows(
        [int(ids[i]) for i in listed if status[i] == "anomalous" and exposure_hit[i]]
    )
    for i in listed:
        customer_id = int(ids[i])
        name, owner_id, owner_name = people.get(customer_id, ("", None, ""))
        figures: dict[str, Any] = {
            "r3": _money_figure(r3[i]),
            "base": _money_figure(base[i]) if has_base[i] else None,
            "base_kind": ("Y3" if use_y3[i] else "P3") if has_base[i] else None,
            "t12": _money_figure(t12[i]),
            "t12_orders": int(t12_orders[i]),
            "days_since_last": int(days_since[i]) if has_orders[i] else None,
            "gap_days": _number(gap[i]),
            "churn_days": _number(limit[i]),
            "first_order": str(np.datetime64(int(first_day[i]), "D")) if has_orders[i] else None,
            "last_order": str(np.datetime64(int(last_day[i]), "D")) if has_orders[i] else None,
            "flags": [key for key in FLAGS if flags[key][0][i]],
            "severe": bool(severe[i]),
        }
        kind = str(status[i])
        if kind == "new":
            reason = _("首次下单于%(first)s，本月订单额%(amount)s") % {
                "first": figures["first_order"],
                "amount": _money(revenue[i, span - 1]),
            }
        elif kind == "won_back":
            figures["days_silent"] = int(days_since_before[i])
            reason = _(
                "已%(days)d天未下单（流失阈值%(limit)s天）后于本月重新下单，本月订单额%(amount)s"
            ) % {
                "days": days_since_before[i],
                "limit": _number(limit_before[i]),
                "amount": _money(revenue[i, span - 1]),
            }
        elif kind == "churned":
            if churned_by_days[i]:
                reason = _("已%(days)d天未下单（流失阈值%(limit)s天，平均下单间隔%(gap)s天）") % {
                    "days": days_since[i],
                    "limit": _number(limit[i]),
                    "gap": _number(gap[i]),
                }
            else:
                figures["ended"] = True
                reason = _("客户已终止合作，最近一次下单已过%(days)d天") % {"days": days_since[i]}
        elif kind == "at_risk":
            reason = _(
                "已%(days)d天未下单（预警阈值%(risk)s天，流失阈值%(limit)s天，"
                "平均下单间隔%(gap)s天）"
            ) % {
                "days": days_since[i],
                "risk": _number(at_risk_days[i]),
                "limit": _number(limit[i]),
                "gap": _number(gap[i]),
            }
        elif kind == "anomalous":
            details: list[str] = []
            for key in FLAGS:
                hit, detail = flags[key]
                if not hit[i]:
                    continue
                if key == "exposure":
                    details.append(exposure_rows.get(customer_id, _("信用占用接近额度")))
                else:
                    details.append(detail[customer_id])
            reason = _("；").join(details)
        else:  # rising, falling
            reason = _movement_reason(
                kind,
                r3=int(r3[i]),
                base=int(base[i]),
                y3=bool(use_y3[i]),
                days=int(days_since[i]),
                severe=bool(severe[i]),
            )
        movements.by_status[kind].append(
            Movement(
                customer_id=customer_id,
                name=name,
                status=kind,
                reason=reason,
                figures=figures,
                owner_id=owner_id,
                owner_name=owner_name,
            )
        )
    movements.duration = time.monotonic() - started
    return movements


def _movement_reason(kind: str, *, r3: int, base: int, y3: bool, days: int, severe: bool) -> str:
    period = _("去年同期") if y3 else _("前3月")
    if base <= 0:
        return _("近3月订单额%(r3)s，%(period)s订单额%(base)s") % {
            "r3": _money(r3),
            "period": period,
            "base": _money(base),
        }
    percent = _round(abs(r3 - base) / base * 100)
    if kind == "rising":
        return _("近3月订单额较%(period)s上升%(percent)s%%（%(r3)s，%(period)s%(base)s）") % {
            "period": period,
            "percent": percent,
            "r3": _money(r3),
            "base": _money(base),
        }
    text = _("近3月订单额较%(period)s下降%(percent)s%%，最近一次下单已过%(days)d天") % {
        "period": period,
        "percent": percent,
        "days": days,
    }
    if severe:
        return _("严重下滑：%(text)s") % {"text": text}
    return text


# ---------------------------------------------------------------------------------------------
# Anomaly flags: each (hit mask over the population, {customer id: sentence}); sentences only for
# the customers who can be listed as anomalous (the candidates).


Flag = tuple[BoolArray, dict[int, str]]
SHIFT_MIN_ORDERS = 3  # orders in each window before a product-mix shift counts


def _anomaly_flags(
    rules: MovementRules,
    win: _Window,
    tables: dict[str, str],
    position: IntArray,
    ids: IntArray,
    candidates: BoolArray,
    who: IntArray,
    fen: IntArray,
    overdue: BoolArray,
    month_of: IntArray,
    first_month: IntArray,
    revenue: IntArray,
    counts: IntArray,
    exposure_hit: BoolArray,
) -> dict[str, Flag]:
    size = len(ids)
    label = _month_label(win.m)
    flags: dict[str, Flag] = {}

    # revenue_z: the month against the previous 12 (months from the first order on).
    span = revenue.shape[1]
    previous = revenue[:, span - 13 : span - 1].astype(np.float64)  # months M-12..M-1
    months = np.arange(win.m - 12, win.m)
    valid = months[None, :] >= first_month[:, None]
    enough = candidates & (valid.sum(axis=1) >= rules.anomaly_min_months)
    hit = np.zeros(size, dtype=np.bool_)
    detail: dict[int, str] = {}
    rows = np.flatnonzero(enough)
    if len(rows):
        prev = np.where(valid[rows], previous[rows], np.nan)
        current = revenue[rows, span - 1].astype(np.float64)
        median = np.nanmedian(prev, axis=1)
        deviation = np.abs(prev - median[:, None])
        mad = np.nanmedian(deviation, axis=1)
        mean_ad = np.nanmean(deviation, axis=1)
        z = np.zeros(len(rows))
        by_mad = mad > 0
        z[by_mad] = 0.6745 * (current[by_mad] - median[by_mad]) / mad[by_mad]
        by_mean = ~by_mad & (mean_ad > 0)
        z[by_mean] = (current[by_mean] - median[by_mean]) / (1.253314 * mean_ad[by_mean])
        flagged = np.abs(z) >= float(rules.anomaly_z)
        hit[rows[flagged]] = True
        for row, x, med, score in zip(
            rows[flagged], current[flagged], median[flagged], z[flagged], strict=True
        ):
            if med > 0:
                text = _("%(month)s订单额%(amount)s，为前12个月中位数的%(ratio)s倍") % {
                    "month": label,
                    "amount": _money(int(x)),
                    "ratio": _round(x / med, 1),
                }
            else:
                text = _("%(month)s订单额%(amount)s，前12个月月订单额中位数为%(median)s") % {
                    "month": label,
                    "amount": _money(int(x)),
                    "median": _money(int(med)),
                }
            detail[int(ids[row])] = text + _("（修正Z值%(z)s）") % {"z": _round(score, 1)}
    flags["revenue_z"] = (hit, detail)

    # big_order: one order of the month ≥ 3 × the median order of the previous 12 months.
    hit = np.zeros(size, dtype=np.bool_)
    detail = {}
    positive = (fen > 0) & candidates[who]
    earlier = positive & (month_of >= win.m - 12) & (month_of < win.m)
    median, counted = _grouped_median(who[earlier], fen[earlier].astype(np.float64), size)
    in_month = positive & (month_of == win.m)
    biggest = np.zeros(size, dtype=np.int64)
    np.maximum.at(biggest, who[in_month], fen[in_month])
    num, den = _ratio(rules.big_order_multiple)
    has_median = counted > 0
    safe_median = np.where(has_median, median, 0.0)
    hit = has_median & (biggest > 0) & (biggest * den >= safe_median * num)
    for row in np.flatnonzero(hit):
        detail[int(ids[row])] = _(
            "%(month)s单笔订单%(amount)s，为前12个月订单中位数的%(ratio)s倍"
        ) % {
            "month": label,
            "amount": _money(int(biggest[row])),
            "ratio": _round(biggest[row] / safe_median[row], 1),
        }
    flags["big_order"] = (hit, detail)

    qn = connection.ops.quote_name
    candidate_ids = [int(value) for value in ids[candidates]]

    def per_customer(sql: str, params: Sequence[Any], width: int) -> IntArray:
        """``sql`` (IDS where the test of the candidates' ids goes, None in ``params`` at its place)
        over the candidates only, in chunks: each reads its rows through the customer index
        instead of scanning the table."""
        at = list(params).index(None)
        parts = [
            _fetch_int_columns(
                sql.replace("IDS", test), [*params[:at], *ids, *params[at + 1 :]], width
            )
            for test, ids in _id_tests(candidate_ids)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.int64)

    # overdue: due date + 30 days in the month, unpaid at the month's end (tested in SQL).
    late = overdue & candidates[who]
    late_count = np.bincount(who[late], minlength=size)
    late_fen = np.rint(np.bincount(who[late], weights=fen[late], minlength=size)).astype(np.int64)
    hit = late_count > 0
    detail = {}
    for row in np.flatnonzero(hit):
        detail[int(ids[row])] = _("新增逾期超%(days)d天未付订单%(count)d笔，共%(amount)s") % {
            "days": rules.overdue_days,
            "count": late_count[row],
            "amount": _money(int(late_fen[row])),
        }
    flags["overdue"] = (hit, detail)

    # exposure: from the customer row (the sentence is written with the figures later).
    flags["exposure"] = (exposure_hit & candidates, {})

    # complaints: valid ones created in the month; one open too long at the month's end.
    placeholders = ", ".join(["%s"] * len(VALID_COMPLAINT_LIABILITIES))
    start, end = _db_datetime(win.start), _db_datetime(win.end)
    open_before = _db_datetime(win.end - timedelta(days=rules.complaint_open_days))
    rows = per_customer(
        f"SELECT customer_id, "  # noqa: S608 (our table names, numbers)
        f"SUM(CASE WHEN created_at >= %s AND liability IN ({placeholders}) THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN created_at < %s AND (closed_at IS NULL OR closed_at >= %s) "
        f"THEN 1 ELSE 0 END) "
        f"FROM {qn(tables['ticket'])} WHERE customer_id IDS AND type = 'complaint' "
        f"AND created_at < %s AND (created_at >= %s OR closed_at IS NULL OR closed_at >= %s) "
        f"GROUP BY customer_id",
        [start, *VALID_COMPLAINT_LIABILITIES, open_before, end, None, end, start, end],
        3,
    )  # fmt: skip
    many = np.zeros(size, dtype=np.bool_)
    many_detail: dict[int, str] = {}
    stale = np.zeros(size, dtype=np.bool_)
    stale_detail: dict[int, str] = {}
    for customer_id, valid_count, open_count in cast(list[list[int]], rows.tolist()):
        if valid_count >= rules.complaints_in_month:
            many[position[customer_id]] = True
            many_detail[customer_id] = _("%(month)s有效投诉%(count)d件") % {
                "month": label,
                "count": valid_count,
            }
        if open_count > 0:
            stale[position[customer_id]] = True
            stale_detail[customer_id] = _("有%(count)d件投诉受理超过%(days)d天仍未结案") % {
                "count": open_count,
                "days": rules.complaint_open_days,
            }
    flags["complaints"] = (many, many_detail)
    flags["complaint_open"] = (stale, stale_detail)

    # A product mix needs volume to mean anything: one or two orders a month always "shift".
    # So the last 3 months (R3) are compared with the 12 before them, for customers who bought
    # in the report month, with at least SHIFT_MIN_ORDERS orders in each window.
    recent_orders = counts[:, span - 3 :].sum(axis=1)
    before_orders = counts[:, span - 15 : span - 3].sum(axis=1)
    enough_mix = (
        (counts[:, span - 1] > 0)
        & (recent_orders >= SHIFT_MIN_ORDERS)
        & (before_orders >= SHIFT_MIN_ORDERS)
    )
    flags["category_shift"] = _category_shift(
        rules, win, tables, position, ids, candidates & enough_mix
    )
    return flags


def _category_shift(
    rules: MovementRules,
    win: _Window,
    tables: dict[str, str],
    position: IntArray,
    ids: IntArray,
    candidates: BoolArray,
) -> Flag:
    """Product shares of the last 3 months (R3) against the 12 months before them, for the
    candidates: the earlier window's top product moving ≥ 30 points is a flag."""
    size = len(ids)
    hit = np.zeros(size, dtype=np.bool_)
    detail: dict[int, str] = {}
    qn = connection.ops.quote_name
    order_table, line_table = qn(tables["order"]), qn(tables["line"])
    recent_start = _add_months(win.month, -2)
    previous_start = _add_months(win.month, -14)
    sql = (
        f"SELECT o.customer_id, l.product, "  # noqa: S608 (our table names, numbers)
        f"{_sql_fen('SUM(CASE WHEN o.date >= %s THEN l.amount ELSE 0 END)')}, "
        f"{_sql_fen('SUM(CASE WHEN o.date < %s THEN l.amount ELSE 0 END)')} "
        f"FROM {order_table} o JOIN {line_table} l ON l.order_id = o.id "
        f"WHERE o.customer_id IDS AND o.date >= %s AND o.date < %s "
        f"GROUP BY o.customer_id, l.product"
    )
    customers: list[int] = []
    products: list[str] = []
    amounts: list[tuple[int, int]] = []
    wanted = [int(value) for value in ids[candidates]]
    with connection.cursor() as cursor:
        for test, chunk in _id_tests(wanted):
            cursor.execute(
                sql.replace("IDS", test),
                [recent_start, recent_start, *chunk, previous_start, win.next_month],
            )
            for customer_id, product, current, previous in cursor.fetchall():
                customers.append(customer_id)
                products.append(product)
                amounts.append((current, previous))
    if not customers:
        return hit, detail
    customer = np.array(customers, dtype=np.int64)
    sums = np.array(amounts, dtype=np.int64)
    group = position[customer]
    current = sums[:, 0].astype(np.float64)
    previous = sums[:, 1].astype(np.float64)
    total_current = np.bincount(group, weights=current, minlength=size)
    total_previous = np.bincount(group, weights=previous, minlength=size)
    # the top product of the previous 12 months per customer: the last row of each customer
    # sorted by amount; equal amounts go to the product name first in order (the rows come
    # from GROUP BY in no fixed order)
    _names, rank = np.unique(np.array(products, dtype=object), return_inverse=True)
    order = np.lexsort((-rank, previous, group))
    last = np.flatnonzero(np.r_[group[order][1:] != group[order][:-1], True])
    top = order[last]
    top = top[(total_current[group[top]] > 0) & (total_previous[group[top]] > 0)]
    share_before = previous[top] / total_previous[group[top]] * 100
    share_now = current[top] / total_current[group[top]] * 100
    moved = np.abs(share_now - share_before) >= float(rules.category_share_points)
    for row, before, now in zip(top[moved], share_before[moved], share_now[moved], strict=True):
        hit[group[row]] = True
        detail[customers[row]] = _(
            "产品「%(product)s」占比由此前12个月的%(before)s%%变为近3个月的%(after)s%%"
        ) % {"product": products[row], "before": _round(before, 1), "after": _round(now, 1)}
    return hit, detail


# ---------------------------------------------------------------------------------------------
# Rows for the listed customers only


def _id_tests(values: list[int]) -> Iterable[tuple[str, list[Any]]]:
    """(SQL test, parameters) pieces that together select ``values`` of a column: on
    PostgreSQL one ``= ANY(array)`` (the planner picks a single scan or index walk), on SQLite
    ``IN`` lists of 500, each walked through the column's index."""
    if not values:
        return
    if connection.vendor == "postgresql":
        yield "= ANY(%s)", [values]
        return
    for chunk in _chunks(values):
        yield f"IN ({', '.join(['%s'] * len(chunk))})", chunk


def _chunks(values: list[int], size: int = 500) -> Iterable[list[int]]:
    for index in range(0, len(values), size):
        yield values[index : index + size]


def _customer_rows(customer_ids: list[int]) -> dict[int, tuple[str, int | None, str]]:
    """id → (display name, owner id, owner name); persons' names masked (张**)."""
    from kefu.customers.models import Customer
    from kefu.org.models import User

    owners = {
        user_id: display or username
        for user_id, display, username in User.objects.values_list("id", "display_name", "username")
    }
    table = connection.ops.quote_name(Customer._meta.db_table)
    rows: dict[int, tuple[str, int | None, str]] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(customer_ids):
            cursor.execute(
                f"SELECT id, name, kind, owner_id FROM {table} "  # noqa: S608 (our table name)
                f"WHERE id IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            for customer_id, name, kind, owner_id in cursor.fetchall():
                shown = mask_name(name) if kind == Customer.Kind.PERSON else name
                rows[customer_id] = (shown, owner_id, owners.get(owner_id, ""))
    return rows


def _exposure_rows(customer_ids: list[int]) -> dict[int, str]:
    from kefu.customers.models import Customer

    rows: dict[int, str] = {}
    for chunk in _chunks(customer_ids):
        for customer_id, exposure, limit in Customer.objects.filter(pk__in=chunk).values_list(
            "id", "credit_exposure", "credit_limit"
        ):
            percent = _round(float(exposure / limit * 100)) if limit else "—"
            rows[customer_id] = _("信用占用%(exposure)s，已达额度%(limit)s的%(percent)s%%") % {
                "exposure": _money(_fen(exposure)),
                "limit": _money(_fen(limit)),
                "percent": percent,
            }
    return rows


def rules_from(values: dict[str, Any]) -> MovementRules:
    """A MovementRules from a mapping holding (some of) its fields, e.g. a settings row."""
    names = {f.name for f in fields(MovementRules)}
    return MovementRules(**{key: value for key, value in values.items() if key in names})
