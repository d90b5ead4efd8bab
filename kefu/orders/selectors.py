"""Reading orders: always through the customers the caller may see (scope follows the customer)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.exceptions import Forbidden, NotFound
from kefu.customers.access import customer_get_for_user, customers_for_user
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.org.models import User

MAX_ID = 2**63 - 1


def _require_view(user: User | AnonymousUser) -> None:
    if not user.has_perm("orders.view_order"):
        raise Forbidden(_("您没有查看订单的权限。"))


def order_list(
    *, user: User | AnonymousUser, customer_id: int | None = None, q: str = ""
) -> QuerySet[Order]:
    """Orders of the customers the user may see; one customer's when ``customer_id`` is given
    (404 when that customer is out of scope, like its page)."""
    _require_view(user)
    orders = Order.objects.select_related("customer")
    if customer_id is not None:
        customer = customer_get_for_user(user=user, customer_id=customer_id)
        orders = orders.filter(customer=customer)
    else:
        orders = orders.filter(customer__in=customers_for_user(user).values("pk"))
    q = q.strip()
    if q:
        orders = orders.filter(Q(order_no__startswith=q) | Q(customer__name__contains=q))
    return orders


def order_get_for_user(*, user: User | AnonymousUser, order_id: int) -> Order:
    _require_view(user)
    if not 0 < order_id <= MAX_ID:
        raise NotFound(_("订单不存在。"))
    order = (
        Order.objects.select_related("customer")
        .prefetch_related("lines")
        .filter(pk=order_id, customer__in=customers_for_user(user).values("pk"))
        .first()
    )
    if order is None:
        raise NotFound(_("订单不存在。"))
    return order


def payment_status(order: Order, today: dt.date | None = None) -> str:
    """ "paid", "overdue" (unpaid past its due date) or "unpaid"."""
    if order.paid_date is not None:
        return "paid"
    today = today or timezone.localdate()
    if order.due_date is not None and order.due_date < today:
        return "overdue"
    return "unpaid"


def monthly_figures(customer: Customer, *, months: int = 24) -> list[dict[str, Any]]:
    """Revenue and gross profit by calendar month for the last ``months`` months (this one
    included), zero-filled: one aggregate query on (customer, date)."""
    today = timezone.localdate()
    first = dt.date(today.year, today.month, 1)
    year, month = first.year, first.month - (months - 1)
    while month <= 0:
        month += 12
        year -= 1
    start = dt.date(year, month, 1)
    money: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)
    rows = (
        Order.objects.filter(customer=customer, date__gte=start)
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(
            revenue=Coalesce(Sum("amount"), Value(Decimal(0)), output_field=money),
            profit=Coalesce(Sum(F("amount") - F("cost")), Value(Decimal(0)), output_field=money),
        )
        .order_by("month")
    )
    found = {}
    for row in rows:
        key = row["month"]
        if isinstance(key, dt.datetime):
            key = key.date()
        found[(key.year, key.month)] = row
    figures = []
    y, m = start.year, start.month
    for _i in range(months):
        month_row = found.get((y, m))
        revenue = month_row["revenue"] if month_row else Decimal(0)
        profit = month_row["profit"] if month_row else Decimal(0)
        figures.append(
            {"month": f"{y:04d}-{m:02d}", "revenue": f"{revenue:.2f}", "profit": f"{profit:.2f}"}
        )
        m += 1
        if m > 12:
            m, y = 1, y + 1
    return figures
