"""The figures a tier is computed from, per customer, over the trailing twelve months (T12).

One GROUP BY over Order (its amount and cost are the line totals already) gives revenue, cost
and order count for every customer that ordered in T12; the credit grade comes from the customer
row. Nothing here runs a query per customer.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Sum

from kefu.customers.models import Customer
from kefu.orders.models import Order

ZERO = Decimal("0.00")
CREDIT_POINTS = {"A": 4, "B": 3, "C": 2, "D": 1}
MEASURES = ("revenue_t12", "gross_profit_t12", "order_count_t12", "credit_grade")


@dataclass
class CustomerFigures:
    customer_id: int
    tier: str  # the current tier (Customer.tier)
    credit_grade: str
    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    orders: int = 0

    @property
    def has_cost(self) -> bool:
        return self.cost != ZERO

    @property
    def gross_profit(self) -> Decimal:
        """Revenue minus cost; revenue itself when the orders carry no cost (domain.md §3:
        "ABC on T12 gross profit (else revenue)")."""
        return self.revenue - self.cost if self.has_cost else self.revenue

    @property
    def credit_points(self) -> int:
        return CREDIT_POINTS.get(self.credit_grade, 0)

    def value(self, measure: str) -> Decimal:
        if measure == "revenue_t12":
            return self.revenue
        if measure == "gross_profit_t12":
            return self.gross_profit
        if measure == "order_count_t12":
            return Decimal(self.orders)
        if measure == "credit_grade":
            return Decimal(self.credit_points)
        raise ValueError(measure)


def t12_window(today: date) -> tuple[date, date]:
    """The first and last day of the trailing twelve months ending on ``today`` (inclusive)."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return year_ago + timedelta(days=1), today


def figures_for_all(today: date) -> dict[int, CustomerFigures]:
    """Every customer that is not merged into another, with its T12 figures (two queries).

    Erased customers stay in: erasure anonymises a person, it keeps the orders and statistics.
    """
    figures = {
        pk: CustomerFigures(customer_id=pk, tier=tier, credit_grade=grade)
        for pk, tier, grade in Customer.objects.filter(merged_into__isnull=True)
        .order_by()
        .values_list("pk", "tier", "credit_grade")
    }
    first, last = t12_window(today)
    totals = (
        Order.objects.filter(date__gte=first, date__lte=last)
        .order_by()
        .values("customer_id")
        .annotate(revenue=Sum("amount"), cost=Sum("cost"), orders=Count("id"))
        .values_list("customer_id", "revenue", "cost", "orders")
    )
    # Fetched whole (one row per customer): a server-side cursor (iterator()) makes PostgreSQL
    # favour a fast-start plan, an index walk over every order instead of scan + sort.
    for customer_id, revenue, cost, orders in totals:
        row = figures.get(customer_id)
        if row is None:  # merged away: its orders moved or it no longer counts
            continue
        row.revenue = Decimal(revenue or 0).quantize(ZERO)
        row.cost = Decimal(cost or 0).quantize(ZERO)
        row.orders = int(orders)
    return figures


def percentile_ranks(values: dict[int, Decimal]) -> dict[int, Decimal]:
    """Each value's percentile rank, 0–100: the share of the others strictly below it (the
    lowest value scores 0, the highest 100, ties share the lower rank)."""
    n = len(values)
    if n == 0:
        return {}
    if n == 1:
        return dict.fromkeys(values, Decimal(100))
    ordered = sorted(values.values())
    return {
        key: Decimal(100 * bisect.bisect_left(ordered, value)) / Decimal(n - 1)
        for key, value in values.items()
    }


def weighted_scores(
    figures: dict[int, CustomerFigures], weights: dict[str, Decimal]
) -> dict[int, Decimal]:
    """Σ weight × percentile rank of each weighted measure, 0–100, two decimals."""
    scores = dict.fromkeys(figures, Decimal(0))
    for measure, weight in weights.items():
        if not weight:
            continue
        ranks = percentile_ranks({pk: row.value(measure) for pk, row in figures.items()})
        for pk, rank in ranks.items():
            scores[pk] += weight * rank
    return {pk: score.quantize(ZERO) for pk, score in scores.items()}
