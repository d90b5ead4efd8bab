"""Helpers for the built-in sections' tests: a report context for a month, tickets, orders and
calls written straight to the tables at given times (the sections read the tables, not the
workflow that fills them)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kefu.calls.models import Call
from kefu.customers.models import Customer
from kefu.desk.models import Ticket, TicketTransition
from kefu.orders.models import Order, OrderLine
from kefu.reports.builtin.common import add_months, month_start
from kefu.reports.models import ReportSettings
from kefu.reports.sections import ReportContext

_numbers = itertools.count(1)


def at(day: str, clock: str = "10:00") -> datetime:
    """An aware Asia/Shanghai datetime: at("2026-10-02", "09:30")."""
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime.combine(
        date.fromisoformat(day), time(hour, minute), tzinfo=timezone.get_current_timezone()
    )


def report_context(month: date, **shared: Any) -> ReportContext:
    return ReportContext(
        month=month,
        start=month_start(month),
        end=month_start(add_months(month, 1)),
        settings=ReportSettings.load(),
        shared=dict(shared),
    )


def ticket(ticket_type: str, created: datetime, *, status: str = "", **fields: Any) -> Ticket:
    initial = {
        "complaint": Ticket.Status.REGISTERED,
        "claim": Ticket.Status.SUBMITTED,
        "arbitration": Ticket.Status.FILED,
    }.get(ticket_type, Ticket.Status.NEW)
    number = next(_numbers)
    return Ticket.objects.create(
        number=f"GD-T{number:06d}",
        type=ticket_type,
        channel=fields.pop("channel", Ticket.Channel.PHONE),
        status=status or initial,
        subject=fields.pop("subject", f"测试工单 {number}"),
        created_at=created,
        **fields,
    )


def step(ticket_: Ticket, to_status: str, moment: datetime) -> None:
    TicketTransition.objects.create(ticket=ticket_, to_status=to_status, created_at=moment)


def order(
    customer: Customer,
    day: str,
    amount: str,
    cost: str,
    *,
    products: tuple[str, ...] = ("测试产品",),
    **fields: Any,
) -> Order:
    number = next(_numbers)
    made = Order.objects.create(
        order_no=f"SO-T{number:06d}",
        customer=customer,
        date=date.fromisoformat(day),
        amount=Decimal(amount),
        cost=Decimal(cost),
        content_hash=f"{number:064d}",
        **fields,
    )
    share = Decimal(amount) / len(products)
    for line_no, product in enumerate(products, start=1):
        OrderLine.objects.create(
            order=made, line_no=line_no, product=product, quantity=Decimal(1), amount=share
        )
    return made


def call(customer: Customer | None, offered: datetime, *, answered: bool = True) -> Call:
    number = next(_numbers)
    return Call.objects.create(
        call_id=f"CALL-T{number:06d}",
        caller="+8613800000000",
        customer=customer,
        offered_at=offered,
        status=Call.Status.ENDED,
        outcome=Call.Outcome.ANSWERED if answered else Call.Outcome.ABANDONED,
        answered_at=offered if answered else None,
        wait_seconds=Decimal(5),
        talk_seconds=Decimal(60) if answered else None,
    )
