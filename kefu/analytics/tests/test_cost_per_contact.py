"""Cost per contact: the months' costs, prorated by days, ÷ answered inbound calls + tickets
that did not come by phone."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from kefu.analytics.kpis import Slice, kpi, kpi_breakdown
from kefu.analytics.models import ServiceCost
from kefu.analytics.tests.helpers import DAY, at, make_call, make_ticket
from kefu.calls.models import Call
from kefu.desk.models import Ticket

pytestmark = pytest.mark.django_db


def _costs(month: date, total: int) -> None:
    # split over two categories: the KPI adds every category of the month
    ServiceCost.objects.create(month=month, category="staff", amount=Decimal(total - 1000))
    ServiceCost.objects.create(month=month, category="sms", amount=Decimal(1000))


def test_cost_per_contact_on_a_day(org: dict[str, Any]) -> None:
    _costs(date(2026, 10, 1), 31000)  # October: 31 days → ¥1,000 a day
    for minute in range(3):
        make_call(at(minute=minute), wait=5, answered=True, talk=60)
    make_call(at(minute=5), wait=30, answered=False)  # not handled
    make_call(at(minute=6), wait=0, answered=True, talk=60, direction=Call.Direction.OUTBOUND)
    make_ticket(at(), channel=Ticket.Channel.WEB)
    make_ticket(at(), channel=Ticket.Channel.EMAIL, status=Ticket.Status.CANCELLED)
    make_ticket(at(), channel=Ticket.Channel.PHONE)  # its call is the contact
    # ¥1,000 ÷ (3 calls + 2 tickets) = ¥200
    value = kpi("cost_per_contact", Slice.day(DAY))
    assert (value.numerator, value.denominator, value.display()) == (
        Decimal("1000.00"),
        Decimal(5),
        "¥200.00",
    )
    # not sliceable: n/a rather than the centre's cost over one team's contacts
    assert kpi("cost_per_contact", Slice.day(DAY, team_id=org["team_a"].pk)).value is None
    assert kpi_breakdown("cost_per_contact", Slice.day(DAY), "channel") == []


def test_cost_per_contact_spans_months_and_needs_every_months_costs() -> None:
    oct31, nov1 = date(2026, 10, 31), date(2026, 11, 1)
    both = Slice(Slice.day(oct31).start, Slice.day(nov1).end)
    make_ticket(at(oct31))
    make_ticket(at(nov1))
    _costs(date(2026, 10, 1), 31000)
    assert kpi("cost_per_contact", both).value is None  # November has no costs yet: n/a
    _costs(nov1, 60000)  # 30 days → ¥2,000 a day
    value = kpi("cost_per_contact", both)
    assert (value.numerator, value.denominator, value.display()) == (
        Decimal("3000.00"),
        Decimal(2),
        "¥1,500.00",
    )
    month = kpi("cost_per_contact", Slice.month(nov1))
    assert (month.numerator, month.denominator) == (Decimal("60000.00"), Decimal(1))


def test_no_contacts_is_na() -> None:
    _costs(date(2026, 10, 1), 31000)
    value = kpi("cost_per_contact", Slice.day(DAY + timedelta(days=1)))
    assert (value.numerator, value.denominator, value.display()) == (
        Decimal("1000.00"),
        Decimal(0),
        "—",
    )
