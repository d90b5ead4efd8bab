"""What orders put on the customer archive page and into customer search (registered in
OrdersConfig.ready): the 24-month chart with the last orders, order timeline events, and
"find the customer by an order number"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.customers.archive import ArchivePanel, TimelineEvent
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.orders.selectors import monthly_figures, payment_status
from kefu.org.models import User

MIN_PREFIX = 4  # shorter fragments of an order number would match half the archive


def search_by_order_no(q: str) -> QuerySet[Any] | None:
    """Customers with an order whose number is the query, as typed or in capitals (4+
    characters, no spaces: order numbers have none). Exact, not a prefix: a prefix match
    cannot use the order-number index (LIKE under PostgreSQL's collation, SQLite's NOCASE
    LIKE) and would scan every order on every 4+ character search."""
    q = q.strip()
    if len(q) < MIN_PREFIX or len(q) > 64 or " " in q:
        return None
    return (
        Order.objects.filter(order_no__in=sorted({q, q.upper()}))
        .values_list("customer_id", flat=True)
        .order_by()
    )


def _can_view(user: User) -> bool:
    return user.has_perm("orders.view_order")


def panel_context(customer: Customer, user: User) -> dict[str, Any]:
    figures = monthly_figures(customer, months=24)
    recent = list(Order.objects.filter(customer=customer).order_by("-date", "-id")[:10])
    today = timezone.localdate()
    for order in recent:
        order.payment_status = payment_status(order, today)  # type: ignore[attr-defined]
    return {
        "monthly": figures,
        "chart_id": f"order-figures-{customer.pk}",
        "recent": recent,
        "total_revenue": sum((Decimal(f["revenue"]) for f in figures), Decimal(0)),
        "total_profit": sum((Decimal(f["profit"]) for f in figures), Decimal(0)),
    }


ORDERS_PANEL = ArchivePanel(
    key="orders",
    title=gettext_lazy("订单"),
    template="orders/panels/_orders.html",
    context=panel_context,
    allowed=_can_view,
    order=50,  # after the half-width tier (20) and credit (30) panels, which pair up
    wide=True,
)


def order_timeline(customer: Customer, user: User, limit: int) -> list[TimelineEvent]:
    """The customer's latest orders as timeline events (dated at local noon of the order date:
    orders carry a date, not a time)."""
    if not _can_view(user):
        return []
    zone = timezone.get_current_timezone()
    events = []
    for order in Order.objects.filter(customer=customer).order_by("-date", "-id")[:limit]:
        at = dt.datetime.combine(order.date, dt.time(12, 0), tzinfo=zone)
        status = payment_status(order)
        detail = _("金额 ¥%(amount)s，毛利 ¥%(profit)s") % {
            "amount": f"{order.amount:,.2f}",
            "profit": f"{order.gross_profit:,.2f}",
        }
        if status == "overdue":
            detail += _("；逾期未付")
        events.append(
            TimelineEvent(
                at=at,
                kind="order",
                title=_("订单 %(no)s") % {"no": order.order_no},
                detail=detail,
                url=reverse("orders:list") + f"?q={order.order_no}",
                icon=_("单"),
                extra={"order_id": order.pk, "payment_status": status},
            )
        )
    return events
