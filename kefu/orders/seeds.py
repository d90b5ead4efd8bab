"""Orders from the sales system for the demo company and the benchmark.

24 complete months ending on the last day of the month before today, with the patterns the
tiering, credit and monthly report have to show: a Pareto spread of customer sizes, seasonality
(air conditioning peaks in early summer, Spring Festival is quiet), customers rising, falling,
at risk, churned, won back and new, one anomalous spike (a ¥400,000 month after months of about
¥100,000), margins of 10–40 %, and payment mostly on time with some late and some unpaid past
the due date.

Rows are built as tuples with ids assigned here and written in bulk (executemany on SQLite,
COPY on PostgreSQL): ``--size large`` writes 2,000,000 order lines. On SQLite the large seed
turns ``synchronous`` off for its own connection while it writes: a crash mid-seed may lose the
benchmark data, which is acceptable for throw-away data and never done for the demo.

No ``orders_changed`` is sent: the credit and tiering seeders run next and evaluate everyone.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kefu.core.seeding import SeedContext
from kefu.customers.models import Customer
from kefu.customers.seeds import month_window
from kefu.orders.models import Order, OrderLine

SOURCE = "erp"
LARGE_LINES = 2_000_000
LARGE_MEAN_LINES = 3.5  # lines per order in the large seed (uniform 1–6)
LARGE_CHUNK = 2_000  # customers per write
PARETO_MEAN = 4.5  # mean of min(paretovariate(1.16), 200): a customer's relative size

# Month → demand factor: air conditioning sells in May–July, little around the Spring Festival.
SEASON = {
    1: 0.85,
    2: 0.6,
    3: 0.9,
    4: 1.0,
    5: 1.2,
    6: 1.35,
    7: 1.3,
    8: 1.1,
    9: 0.95,
    10: 0.9,
    11: 1.0,
    12: 1.15,
}
# (product, unit price in fen), cheapest first.
PRODUCTS: tuple[tuple[str, int], ...] = (
    ("铜管 φ9.52（米）", 45_00),
    ("空调安装辅材包", 280_00),
    ("上门安装服务", 300_00),
    ("PP/CTO/RO 滤芯套装", 399_00),
    ("延保服务 2年", 600_00),
    ("冷媒 R32（瓶）", 650_00),
    ("RO-600G 家用净水器", 1_999_00),
    ("KFR-35GW/BP3 挂式空调", 2_899_00),
    ("UF-1000 中央净水机", 4_500_00),
    ("KFR-72LW/BP2 柜式空调", 6_999_00),
    ("RO-2000G 商用净水器", 8_800_00),
    ("CT-100 冷却塔", 36_000_00),
    ("LSJ-20 工业冷水机", 46_000_00),
    ("MDV-280W 多联机中央空调", 52_000_00),
    ("SA-37A 螺杆空压机", 78_000_00),
    ("LSQWRF-65M 风冷模块机组", 128_000_00),
)
_PRICES = [price for _name, price in PRODUCTS]
_LINE_COUNTS = (1, 2, 3, 4, 5, 6)
_LINE_WEIGHTS = (26, 24, 20, 14, 10, 6)  # demo: mostly short orders
SPIKE_ORDER = 315_000_00
PAYERS = (("good", 0.72), ("slow", 0.16), ("late", 0.08), ("bad", 0.04))

ORDER_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "source",
    "order_no",
    "customer_id",
    "date",
    "due_date",
    "paid_date",
    "amount",
    "cost",
    "content_hash",
    "credit_hold",
)
LINE_COLUMNS = ("order_id", "line_no", "product", "quantity", "amount", "cost")


# ---------------------------------------------------------------------------------------------
# one order


@dataclass
class SeedOrder:
    customer_id: int
    date: dt.date
    due_date: dt.date
    paid_date: dt.date | None
    lines: list[tuple[str, int, int, int]]  # product, quantity, amount (fen), cost (fen)
    order_no: str = ""

    @property
    def amount(self) -> int:
        return sum(line[2] for line in self.lines)

    @property
    def cost(self) -> int:
        return sum(line[3] for line in self.lines)


def yuan(fen: int) -> str:
    """12345 → "123.45" (exact; no float on the way)."""
    return f"{fen // 100}.{fen % 100:02d}"


def content_hash(order: SeedOrder) -> str:
    """The same digest as kefu.orders.services.content_hash (its normal form: customer, dates,
    lines sorted, two decimals), built from strings so 2,000,000 lines hash quickly; a test
    checks the two agree, so re-importing a seeded order is a no-op."""
    normal = {
        "customer": order.customer_id,
        "date": order.date.isoformat(),
        "due_date": order.due_date.isoformat() if order.due_date else None,
        "paid_date": order.paid_date.isoformat() if order.paid_date else None,
        "lines": sorted(
            [product, f"{quantity}.00", yuan(amount), yuan(cost)]
            for product, quantity, amount, cost in order.lines
        ),
    }
    text = json.dumps(normal, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_lines(rng: random.Random, target: int, count: int) -> list[tuple[str, int, int, int]]:
    """``count`` lines worth about ``target`` fen: products priced near each line's share,
    a small discount, a margin of 10–40 %."""
    lines = []
    share = max(target // count, 1)
    for _ in range(count):
        top = bisect.bisect_right(_PRICES, share * 1.3) - 1
        index = max(0, top - rng.randrange(3)) if top >= 0 else 0
        product, price = PRODUCTS[index]
        quantity = max(1, round(share / price))
        amount = int(quantity * price * (0.85 + 0.15 * rng.random()))
        cost = int(amount * (0.6 + 0.3 * rng.random()))  # margin 10–40 %
        lines.append((product, quantity, amount, cost))
    return lines


def payment(
    rng: random.Random, payer: str, ordered: dt.date, days: int, today: dt.date
) -> tuple[dt.date, dt.date | None]:
    """(due date, paid date or None when not paid by today)."""
    due = ordered + timedelta(days=days)
    if days == 0:
        return due, ordered if ordered <= today else None  # cash on order
    if payer == "good":
        paid = due - timedelta(days=rng.randrange(0, days // 2 + 1))
        if rng.random() < 0.04:
            paid = due + timedelta(days=rng.randrange(1, 11))
    elif payer == "slow":
        paid = due + timedelta(days=rng.randrange(1, 31))
    elif payer == "late":
        paid = due + timedelta(days=rng.randrange(20, 76))
    else:
        if rng.random() < 0.3:
            return due, None  # never paid
        paid = due + timedelta(days=rng.randrange(30, 121))
    paid = max(paid, ordered)
    return due, paid if paid <= today else None


def _payer(rng: random.Random) -> str:
    roll = rng.random()
    for name, share in PAYERS:
        if roll < share:
            return name
        roll -= share
    return "good"


# ---------------------------------------------------------------------------------------------
# demo: month by month per customer profile


@dataclass
class Months:
    start: dt.date
    end: dt.date
    today: dt.date
    firsts: list[dt.date] = field(default_factory=list)

    def __post_init__(self) -> None:
        current = self.start
        while current <= self.end:
            self.firsts.append(current)
            current = (current + timedelta(days=32)).replace(day=1)

    def last_day(self, index: int) -> dt.date:
        if index + 1 < len(self.firsts):
            return self.firsts[index + 1] - timedelta(days=1)
        return self.end


def _demo_customer_orders(
    rng: random.Random, customer: Customer, profile: str, months: Months
) -> list[SeedOrder]:
    if profile == "prospect":
        return []
    start, end, today = months.start, months.end, months.today
    is_company = customer.kind == Customer.Kind.COMPANY
    days = customer.payment_days
    payer = _payer(rng) if days else "good"
    first = max(start, customer.cooperation_since or start)
    last = end
    if profile == "churned":
        last = end - timedelta(days=rng.randrange(200, 480))
        if last - first < timedelta(days=90):
            first = start
    elif profile == "at_risk":
        last = end - timedelta(days=rng.randrange(65, 140))
        if last - first < timedelta(days=120):
            first = start
    elif profile == "won_back":
        last = end - timedelta(days=rng.randrange(250, 400))
    if is_company:
        weight = min(rng.paretovariate(1.16), 80.0)
        if profile in ("rising", "falling", "at_risk"):
            weight = max(weight, 4 + 6 * rng.random())
        per_month = min(6.0, 0.25 + weight / 6)
        if profile in ("rising", "falling"):
            per_month = max(per_month, 1.5)
        elif profile == "at_risk":
            per_month = max(per_month, 1.2)
        monthly = 1_500_00 * weight
    else:
        per_month = 0.07
        monthly = per_month * rng.randrange(2_000_00, 15_000_00)
    if profile == "spike":
        per_month, monthly = 4.0, 108_000_00  # ~¥100,000 a month after discounts
    mult_recent = {
        "rising": 1.6,
        "falling": rng.choice((0.5, 0.5, 0.3)),
    }.get(profile, 1.0)

    orders: list[SeedOrder] = []

    def add(day: dt.date, target: float) -> None:
        count = rng.choices(_LINE_COUNTS, _LINE_WEIGHTS)[0] if is_company else rng.choice((1, 1, 2))
        lines = make_lines(rng, max(int(target), 100_00), count)
        due, paid = payment(rng, payer, day, days, today)
        orders.append(SeedOrder(customer.pk, day, due, paid, lines))

    for index, month_first in enumerate(months.firsts):
        month_last = months.last_day(index)
        low, high = max(first, month_first), min(last, month_last)
        if low > high or profile == "new":
            continue
        share = ((high - low).days + 1) / ((month_last - month_first).days + 1)
        season = 1.0 if profile == "spike" else SEASON[month_first.month]
        expected = per_month * season * share
        count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        recent = index >= len(months.firsts) - 3
        for _ in range(count):
            day = low + timedelta(days=rng.randrange((high - low).days + 1))
            noise = rng.uniform(0.9, 1.1) if profile == "spike" else rng.lognormvariate(0, 0.3)
            add(day, monthly * season / per_month * noise * (mult_recent if recent else 1.0))
    report_first = months.firsts[-1]
    if profile == "spike":
        # One outsized order in the report month: about ¥400,000 against ~¥100,000 before.
        add(report_first + timedelta(days=rng.randrange(5, 20)), SPIKE_ORDER)
        for _ in range(20):  # discounts and whole quantities drift: keep the month at ~¥400,000
            if abs(orders[-1].amount - SPIKE_ORDER) < SPIKE_ORDER // 20:
                break
            orders[-1].lines = make_lines(rng, SPIKE_ORDER, len(orders[-1].lines))
    if profile in ("new", "won_back"):
        begin = max(report_first, customer.cooperation_since or report_first)
        for _ in range(rng.randrange(1, 4)):
            add(begin + timedelta(days=rng.randrange((end - begin).days + 1)), monthly * 1.2)
    if not orders and profile not in ("churned",):
        # A person who bought nothing in two years still bought once: one order in the window.
        add(first + timedelta(days=rng.randrange(max((last - first).days, 0) + 1)), monthly * 10)
    return orders


def _number(orders: list[SeedOrder], taken: dict[str, int]) -> None:
    """SO202501-000123: per month, in date order, after the numbers already taken."""
    orders.sort(key=lambda o: (o.date, o.customer_id))
    for order in orders:
        prefix = f"SO{order.date:%Y%m}"
        taken[prefix] = taken.get(prefix, 0) + 1
        order.order_no = f"{prefix}-{taken[prefix]:06d}"


def _taken_numbers() -> dict[str, int]:
    taken: dict[str, int] = {}
    for order_no in Order.objects.filter(source=SOURCE, order_no__startswith="SO").values_list(
        "order_no", flat=True
    ):
        prefix, _sep, number = order_no.partition("-")
        if number.isdigit():
            taken[prefix] = max(taken.get(prefix, 0), int(number))
    return taken


# ---------------------------------------------------------------------------------------------
# writing


class Writer:
    """Writes orders and their lines with ids assigned here: executemany on SQLite, COPY on
    PostgreSQL. Use inside one transaction."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.orders_table = Order._meta.db_table
        self.lines_table = OrderLine._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {self.orders_table}")  # noqa: S608
            row = cursor.fetchone()
        self.next_id: int = int(row[0]) + 1 if row else 1
        self.stamp = connection.ops.adapt_datetimefield_value(timezone.now())
        self.orders = 0
        self.lines = 0

    def write(self, orders: Sequence[SeedOrder]) -> None:
        order_rows: list[tuple[Any, ...]] = []
        line_rows: list[tuple[Any, ...]] = []
        for order in orders:
            order_id = self.next_id
            self.next_id += 1
            order_rows.append(
                (
                    order_id,
                    self.stamp,
                    self.stamp,
                    SOURCE,
                    order.order_no,
                    order.customer_id,
                    order.date.isoformat(),
                    order.due_date.isoformat(),
                    order.paid_date.isoformat() if order.paid_date else None,
                    yuan(order.amount),
                    yuan(order.cost),
                    content_hash(order),
                    False,
                )
            )
            for number, (product, quantity, amount, cost) in enumerate(order.lines, start=1):
                line_rows.append(
                    (order_id, number, product, f"{quantity}.00", yuan(amount), yuan(cost))
                )
        self._insert(self.orders_table, ORDER_COLUMNS, order_rows)
        self._insert(self.lines_table, LINE_COLUMNS, line_rows)
        self.orders += len(order_rows)
        self.lines += len(line_rows)

    def _insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        raw: Any = connection.connection
        names = ", ".join(columns)
        if self.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608

    def finish(self) -> None:
        """PostgreSQL: move the id sequence past the ids assigned here."""
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                top = f"SELECT COALESCE(MAX(id), 1) FROM {self.orders_table}"  # noqa: S608
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({top}))",
                    [self.orders_table],
                )


# ---------------------------------------------------------------------------------------------
# large: volume, same shapes, cheaper per order


def _large_orders(
    rng: random.Random,
    customers: Iterable[tuple[int, int]],
    scale: float,
    months: Months,
    budget: list[int],
) -> Iterator[SeedOrder]:
    """Orders for (customer id, payment days) pairs until ``budget[0]`` lines are used."""
    start, end, today = months.start, months.end, months.today
    span = (end - start).days
    recent = months.firsts[-3]
    for customer_id, days in customers:
        if budget[0] <= 0:
            return
        weight = min(rng.paretovariate(1.16), 200.0)
        count = max(1, int(weight * scale + rng.random()))
        roll = rng.random()
        first, last, mult = start, end, 1.0
        if roll < 0.10:  # churned
            last = end - timedelta(days=rng.randrange(200, 500))
        elif roll < 0.14:  # at risk
            last = end - timedelta(days=rng.randrange(60, 140))
        elif roll < 0.15:  # new this month
            first = months.firsts[-1]
        elif roll < 0.23:
            mult = 1.6  # rising
        elif roll < 0.31:
            mult = 0.5  # falling
        elif roll < 0.50:
            first = start + timedelta(days=rng.randrange(span))  # joined during the window
        width = (last - first).days + 1
        payer = _payer(rng) if days else "good"
        order_value = 800_00 * weight**0.5 * (1 + 2 * rng.random())
        for _ in range(count):
            lines_n = min(rng.randrange(1, 7), budget[0])
            if lines_n <= 0:
                return
            budget[0] -= lines_n
            day = first + timedelta(days=rng.randrange(width))
            target = order_value * SEASON[day.month] * (mult if day >= recent else 1.0)
            due, paid = payment(rng, payer, day, days, today)
            yield SeedOrder(customer_id, day, due, paid, make_lines(rng, int(target), lines_n))


def _seed_large(ctx: SeedContext, months: Months) -> None:
    ids = ctx.shared.get("large_customer_ids")
    if ids:
        pairs = _payment_days_for(ids)
    else:  # customers seeded earlier: those without any order
        pairs = list(
            Customer.objects.filter(orders__isnull=True)
            .order_by("pk")
            .values_list("pk", "payment_days")
        )
    if not pairs:
        ctx.out("  no customers for large orders")
        return
    rng = random.Random(ctx.seed * 7919 + 11)  # noqa: S311 (demo data)
    # Orders per customer = Pareto weight × scale, scaled so the lines come to the target on
    # average; the budget cuts the last order, and a top-up round fills any shortfall.
    scale = LARGE_LINES / LARGE_MEAN_LINES / len(pairs) / PARETO_MEAN
    budget = [LARGE_LINES]
    taken = _taken_numbers()
    writer = Writer()
    sqlite_fast = writer.vendor == "sqlite" and not connection.in_atomic_block
    if sqlite_fast:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
    try:
        with transaction.atomic():
            rounds = 0
            while budget[0] > 0 and rounds < 20:
                rounds += 1
                for index in range(0, len(pairs), LARGE_CHUNK):
                    chunk = pairs[index : index + LARGE_CHUNK]
                    orders = list(_large_orders(rng, chunk, scale, months, budget))
                    _number(orders, taken)
                    writer.write(orders)
                    if budget[0] <= 0:
                        break
            writer.finish()
    finally:
        if sqlite_fast:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
    ctx.out(f"  {writer.orders} orders, {writer.lines} order lines (large)")


def _payment_days_for(ids: list[int]) -> list[tuple[int, int]]:
    low, high = min(ids), max(ids)
    wanted = set(ids)
    rows = Customer.objects.filter(pk__gte=low, pk__lte=high).order_by("pk")
    return [pair for pair in rows.values_list("pk", "payment_days") if pair[0] in wanted]


# ---------------------------------------------------------------------------------------------


def seed(ctx: SeedContext) -> None:
    today = timezone.localdate()
    start, end = month_window(today)
    months = Months(start, end, today)
    if ctx.size == "large":
        _seed_large(ctx, months)
        return
    if Order.objects.filter(source=SOURCE).exists():
        ctx.out("  orders exist; demo orders not added again")
        return
    profiles: dict[int, str] = ctx.shared.get("order_profiles", {})
    ids = ctx.shared.get("demo_customer_ids")
    customers = Customer.objects.order_by("pk")
    if ids is not None:
        customers = customers.filter(pk__in=ids)
    orders: list[SeedOrder] = []
    for customer in customers:
        profile = profiles.get(
            customer.pk,
            "prospect" if customer.lifecycle_stage == Customer.Stage.PROSPECT else "stable",
        )
        orders += _demo_customer_orders(ctx.rng, customer, profile, months)
    _number(orders, _taken_numbers())
    with transaction.atomic():
        writer = Writer()
        for index in range(0, len(orders), 5_000):
            writer.write(orders[index : index + 5_000])
        writer.finish()
    ctx.out(f"  {writer.orders} orders, {writer.lines} order lines, {start} – {end}")
