"""Ticket KPIs, each on a hand-built set whose expected value is worked out in the comments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kefu.analytics.kpis import Slice, backlog_ageing, kpi, kpi_breakdown, kpi_series
from kefu.analytics.tests.helpers import DAY, at, make_customer, make_ticket
from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.orders.models import Order

pytestmark = pytest.mark.django_db

St = Ticket.Status
NEXT, PREV = DAY + timedelta(days=1), DAY - timedelta(days=1)
TICKET_KEYS = ["fcr", "sla_response", "sla_resolution", "reopen_rate"]


def test_an_empty_day_is_na_and_the_backlog_zero() -> None:
    for key in TICKET_KEYS:
        value = kpi(key, Slice.day(DAY))
        assert (value.numerator, value.denominator, value.value) == (Decimal(0), Decimal(0), None)
    backlog = kpi("backlog", Slice.day(DAY))
    assert (backlog.value, backlog.display()) == (Decimal(0), "0")
    assert kpi("complaint_rate", Slice.day(DAY)).display() == "—"


def test_sla_resolution_counts_breached_open_tickets(org: dict[str, Any]) -> None:
    due = at(DAY, 12)
    resolved = {"status": St.RESOLVED, "resolution_due": due}
    make_ticket(at(PREV), resolved_at=at(DAY, 11), **resolved)  # met
    make_ticket(at(PREV), resolved_at=at(DAY, 13), **resolved)  # late
    make_ticket(at(PREV), resolution_due=due, team=org["team_a"])  # breached, still open
    make_ticket(at(PREV), resolution_due=at(NEXT, 12))  # not due yet: not counted
    make_ticket(at(PREV, 8), resolved_at=at(PREV, 9), **resolved)  # resolved the day before
    make_ticket(at(PREV), resolution_due=due, status=St.CANCELLED, resolved_at=at(DAY, 9))
    make_ticket(at(PREV), resolved_at=at(NEXT, 9), **resolved)  # open at the day's end, due in it
    make_ticket(at(PREV), resolved_at=at(DAY, 9), status=St.RESOLVED)  # no SLA
    merged = make_ticket(at(PREV), resolved_at=at(DAY, 9), **resolved)
    make_ticket(at(PREV), resolved_at=at(DAY, 9), merged_into=merged, **resolved)
    # counted: met, late, open, resolved next day, the one merged into → 2 met of 5
    value = kpi("sla_resolution", Slice.day(DAY))
    assert (value.numerator, value.denominator, value.display()) == (
        Decimal(2),
        Decimal(5),
        "40.0%",
    )
    # the breached-open ticket is team A's: 0 of 1
    assert kpi("sla_resolution", Slice.day(DAY, team_id=org["team_a"].pk)).display() == "0.0%"
    rows = kpi_breakdown("sla_resolution", Slice.day(DAY), "team")
    assert [(label, v.numerator, v.denominator) for _k, label, v in rows] == [
        ("客服一组", Decimal(0), Decimal(1)),
        ("（未指定）", Decimal(2), Decimal(4)),
    ]
    # the day after: the ticket resolved late on it counts again, as resolved (late)
    assert kpi("sla_resolution", Slice.day(NEXT)).display() == "0.0%"


def test_sla_response_stops_at_the_first_reply_or_the_resolution() -> None:
    due = at(DAY, 12)
    make_ticket(at(PREV), first_response_due=due, first_responded_at=at(DAY, 11))  # met
    make_ticket(  # resolved with no reply before the due time: met
        at(PREV), first_response_due=due, resolved_at=at(DAY, 10), status=St.RESOLVED
    )
    make_ticket(at(PREV), first_response_due=due, first_responded_at=at(DAY, 13))  # late
    make_ticket(at(PREV), first_response_due=due)  # breached, open
    make_ticket(at(PREV), first_response_due=due, first_responded_at=at(NEXT, 9))  # breached
    make_ticket(at(PREV), first_response_due=at(PREV, 12), first_responded_at=at(PREV, 11))
    value = kpi("sla_response", Slice.day(DAY))
    assert (value.numerator, value.denominator, value.display()) == (
        Decimal(2),
        Decimal(5),
        "40.0%",
    )


def test_backlog_is_what_was_still_open_at_the_end(org: dict[str, Any]) -> None:
    two_days = DAY - timedelta(days=2)
    make_ticket(at(two_days), team=org["team_a"])  # open
    make_ticket(at(two_days), resolved_at=at(NEXT, 9), status=St.CLOSED)  # open at the end
    make_ticket(at(two_days), resolved_at=at(DAY, 12), status=St.RESOLVED)  # resolved in it
    make_ticket(at(NEXT))  # created after
    make_ticket(at(two_days), status=St.CANCELLED, resolved_at=at(DAY, 9), closed_at=at(DAY, 9))
    make_ticket(at(two_days), status=St.WITHDRAWN, closed_at=at(DAY, 9))
    first = make_ticket(at(two_days))
    make_ticket(at(two_days), merged_into=first, status=St.CLOSED)
    # open at the end of DAY: the first, the one resolved next day, and `first` → 3
    assert kpi("backlog", Slice.day(DAY)).display() == "3"
    assert kpi("backlog", Slice.day(DAY, team_id=org["team_a"].pk)).value == Decimal(1)
    series = kpi_series("backlog", Slice(at(PREV, 0), at(NEXT + timedelta(days=1), 0)), "day")
    assert [(day, value.value) for day, value in series] == [
        (PREV, Decimal(6)),
        (DAY, Decimal(3)),
        (NEXT, Decimal(3)),  # created NEXT joins, resolved NEXT leaves
    ]


def test_backlog_now_reads_the_open_statuses() -> None:
    today = timezone.localdate()
    make_ticket(timezone.now() - timedelta(hours=1))  # open
    make_ticket(timezone.now() - timedelta(hours=1), status=St.IN_PROGRESS)
    make_ticket(timezone.now() - timedelta(hours=1), status=St.RESOLVED, resolved_at=timezone.now())
    make_ticket(timezone.now() - timedelta(hours=1), status=St.CLOSED, closed_at=timezone.now())
    assert kpi("backlog", Slice.day(today)).value == Decimal(2)


def test_backlog_ageing_buckets(org: dict[str, Any]) -> None:
    moment = at(DAY, 15)
    for age in (timedelta(hours=12), timedelta(days=1), timedelta(days=2), timedelta(days=5)):
        make_ticket(moment - age, team=org["team_a"])
    make_ticket(moment - timedelta(days=10))
    make_ticket(moment - timedelta(days=40))
    make_ticket(moment - timedelta(days=3), resolved_at=moment - timedelta(days=1))
    assert backlog_ageing(moment) == [
        ("lt1d", "不足1天", 1),
        ("1to3d", "1–3天", 2),  # exactly one day old is no longer under a day
        ("3to7d", "3–7天", 1),
        ("7to30d", "7–30天", 1),
        ("gt30d", "30天以上", 1),
    ]
    assert [n for _k, _l, n in backlog_ageing(moment, team_id=org["team_a"].pk)] == [1, 2, 1, 0, 0]


def test_fcr_counts_eligible_first_contacts() -> None:
    c = [make_customer() for _ in range(8)]
    done: dict[str, Any] = {"status": St.RESOLVED, "resolved_at": at(DAY, 16)}
    make_ticket(at(), customer=c[0], **done)  # success
    make_ticket(at(), customer=c[1], **done)  # repeat within 7 days: fails
    make_ticket(at(DAY + timedelta(days=3)), customer=c[1])
    make_ticket(at(), customer=c[2], **done)  # not first: one 5 days before
    make_ticket(at(DAY - timedelta(days=5)), customer=c[2])
    make_ticket(at(), customer=c[3], type=Ticket.Type.COMPLAINT, **done)  # first complaint
    make_ticket(at(DAY - timedelta(days=2)), customer=c[3])  # (an inquiry, another type)
    make_ticket(at(), customer=c[4], reopen_count=1, **done)  # reopened: fails
    make_ticket(at(), customer=c[5])  # not resolved: fails
    make_ticket(at(), customer=c[6], **done)  # neighbours 8 days away: first and success
    make_ticket(at(DAY - timedelta(days=8)), customer=c[6])
    make_ticket(at(DAY + timedelta(days=8)), customer=c[6])
    make_ticket(at(), **done)  # no customer: not eligible
    make_ticket(at(), customer=c[7], type=Ticket.Type.REPAIR, **done)  # repairs: first-time fix
    make_ticket(at(), customer=c[7], status=St.CANCELLED)
    # eligible: c0 c1 c3 c4 c5 c6 → 6; solved first time: c0 c3 c6 → 3
    value = kpi("fcr", Slice.day(DAY))
    assert (value.numerator, value.denominator, value.display()) == (
        Decimal(3),
        Decimal(6),
        "50.0%",
    )
    rows = kpi_breakdown("fcr", Slice.day(DAY), "ticket_type")
    assert [(key, label, v.display()) for key, label, v in rows] == [
        ("inquiry", "咨询", "40.0%"),
        ("complaint", "投诉", "100.0%"),
    ]
    assert kpi("fcr", Slice.day(DAY, ticket_type="repair")).value is None
    # W = 1 day: c2 (5 days) becomes first and c1's repeat (3 days) no longer counts → 5 of 7
    assert kpi("fcr", Slice.day(DAY), window_days=1).display() == "71.4%"


def test_reopen_rate() -> None:
    done: dict[str, Any] = {"status": St.CLOSED, "resolved_at": at(DAY, 12)}
    make_ticket(at(PREV), reopen_count=1, **done)
    for _ in range(3):
        make_ticket(at(PREV), **done)
    make_ticket(at(PREV), reopen_count=2, status=St.CANCELLED, resolved_at=at(DAY, 12))
    make_ticket(at(PREV), reopen_count=1, status=St.CLOSED, resolved_at=at(PREV, 12))
    make_ticket(at(PREV), reopen_count=1, status=St.IN_PROGRESS)  # reopened, not resolved again
    value = kpi("reopen_rate", Slice.day(DAY, channel="web"))
    assert (value.numerator, value.denominator, value.display()) == (
        Decimal(1),
        Decimal(4),
        "25.0%",
    )
    assert kpi("reopen_rate", Slice.day(DAY, channel="email")).value is None


def _order(customer: Customer, day: date) -> Order:
    return Order.objects.create(
        customer=customer,
        order_no=f"SO{Order.objects.count() + 1:06d}",
        date=day,
        amount=Decimal("1000.00"),
        content_hash="x",
    )


def test_complaint_rate_counts_valid_complaints_per_10000_orders(
    org: dict[str, Any],
) -> None:
    gold, plain = make_customer(tier=Customer.Tier.GOLD), make_customer()
    october = date(2026, 10, 1)
    for customer, day in ((gold, date(2026, 10, 1)), (gold, date(2026, 10, 31))):
        _order(customer, day)
    for day in (date(2026, 10, 15),) * 3:
        _order(plain, day)
    _order(plain, date(2026, 11, 1))  # next month
    complaint: dict[str, Any] = {"type": Ticket.Type.COMPLAINT, "status": St.INVESTIGATING}
    make_ticket(at(), liability="ours", tier="gold", **complaint)
    make_ticket(at(), liability="supplier", **complaint)
    make_ticket(at(), liability="carrier", team=org["team_a"], **complaint)
    make_ticket(at(), liability="customer", **complaint)  # not valid
    make_ticket(at(), **complaint)  # liability not yet determined
    make_ticket(at(date(2026, 11, 2)), liability="ours", **complaint)  # next month
    # 3 valid complaints ÷ 5 orders × 10,000 = 6,000
    value = kpi("complaint_rate", Slice.month(october))
    assert (value.numerator, value.denominator, value.display()) == (
        Decimal(3),
        Decimal(5),
        "6000.00‱",
    )
    assert kpi("complaint_rate", Slice.month(october, tier="gold")).display() == "5000.00‱"
    assert kpi("complaint_rate", Slice.month(october, team_id=org["team_a"].pk)).value is None
    rows = kpi_breakdown("complaint_rate", Slice.month(october), "tier")
    assert [(key, v.numerator, v.denominator) for key, _l, v in rows] == [
        ("gold", Decimal(1), Decimal(2)),
        ("ordinary", Decimal(0), Decimal(3)),
        ("", Decimal(2), Decimal(0)),  # complaints recorded without a tier
    ]


def test_series_buckets_are_clipped_to_the_slice(make_user: Callable[..., Any]) -> None:
    october = Slice.month(date(2026, 10, 1))
    series = kpi_series("answer_rate", october, "week")
    assert [day for day, _v in series] == [
        date(2026, 9, 28),
        date(2026, 10, 5),
        date(2026, 10, 12),
        date(2026, 10, 19),
        date(2026, 10, 26),
    ]
    assert len(kpi_series("answer_rate", october, "day")) == 31
    assert [day for day, _v in kpi_series("answer_rate", october, "month")] == [october.start_date]
