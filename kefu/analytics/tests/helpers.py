"""Rows for the KPI tests, written straight to the tables (the KPIs read only stored fields)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kefu.calls.models import Call
from kefu.customers.models import Customer
from kefu.customers.tests.factories import CustomerFactory
from kefu.desk.models import Ticket

_seq = itertools.count(1)
DAY = date(2026, 10, 14)  # a Wednesday


def at(day: date = DAY, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=timezone.get_default_timezone())


def make_call(
    offered_at: datetime,
    *,
    wait: float | None,
    answered: bool,
    talk: float = 0,
    hold: float | None = None,
    acw: float | None = None,
    **fields: Any,
) -> Call:
    n = next(_seq)
    ended = offered_at + timedelta(seconds=(wait or 0) + talk)
    values: dict[str, Any] = {
        "call_id": f"T-{n}",
        "caller": f"+8613900{n:06d}",
        "direction": Call.Direction.INBOUND,
        "status": Call.Status.ENDED,
        "offered_at": offered_at,
        "answered_at": offered_at + timedelta(seconds=wait or 0) if answered else None,
        "ended_at": ended,
        "wait_seconds": None if wait is None else Decimal(str(wait)),
        "talk_seconds": Decimal(str(talk)) if answered else None,
        "hold_seconds": None if hold is None else Decimal(str(hold)),
        "acw_seconds": None if acw is None else Decimal(str(acw)),
        "outcome": Call.Outcome.ANSWERED if answered else Call.Outcome.ABANDONED,
    }
    values.update(fields)
    return Call.objects.create(**values)


def make_ticket(created_at: datetime, **fields: Any) -> Ticket:
    n = next(_seq)
    values: dict[str, Any] = {
        "number": f"KT{n:08d}",
        "type": Ticket.Type.INQUIRY,
        "channel": Ticket.Channel.WEB,
        "status": Ticket.Status.OPEN,
        "subject": f"测试工单 {n}",
        "created_at": created_at,
    }
    values.update(fields)
    return Ticket.objects.create(**values)


def make_customer(**fields: Any) -> Customer:
    created = CustomerFactory(**fields)
    assert isinstance(created, Customer)
    return created
