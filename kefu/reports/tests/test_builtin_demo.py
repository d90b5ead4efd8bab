"""The demo company gives every built-in section something to say about the last complete
month: a complaint spike on one air conditioner, claims and arbitration decided, calls, repairs,
and sales reps to hand the lists to."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from kefu.calls.models import Call
from kefu.core.seeding import make_context
from kefu.desk.models import Ticket
from kefu.reports.builtin import demo
from kefu.reports.builtin.common import add_months
from kefu.reports.builtin.complaints import COMPLAINTS
from kefu.reports.builtin.demo import SPIKE_PRODUCT
from kefu.reports.builtin.profitability import PROFITABILITY
from kefu.reports.tests.builtin_data import report_context


@pytest.mark.django_db
def test_demo_seed_makes_a_complaint_spike_last_month() -> None:
    # given the demo company without the desk's year of tickets (slow, and not needed here)
    out = StringIO()
    call_command(
        "seed", "--size", "demo", "--seed", "7", "--skip", "desk,calls,dispatch", stdout=out
    )
    month = add_months(timezone.localdate().replace(day=1), -1)
    ctx = report_context(month)
    # when the complaints section reads last month
    result = COMPLAINTS.build(ctx)
    # then one air conditioner stands out, with resolved complaints and compensation
    products = next(table.rows for table in result.tables if table.key == "products")
    assert products[0]["product"] == SPIKE_PRODUCT
    assert products[0]["complaints"] >= 12
    assert f"主要集中在 {SPIKE_PRODUCT}" in result.notes[0]
    figures = {figure.label: figure.value for figure in result.figures}
    assert figures["有效投诉"] > 0
    claims = {
        row["outcome"]: row["count"]
        for row in next(table.rows for table in result.tables if table.key == "claims")
    }
    assert claims["已赔付结案"] >= 1
    assert claims["拒赔后申请仲裁"] >= 1
    arbitration = {
        row["outcome"]: row["count"]
        for row in next(table.rows for table in result.tables if table.key == "arbitration")
    }
    assert arbitration["已裁决"] >= 1
    # the month has calls and repairs, so service and profitability have costs to count
    assert Call.objects.filter(offered_at__gte=ctx.start, offered_at__lt=ctx.end).count() > 300
    assert Ticket.objects.filter(type="repair", created_at__gte=ctx.start).exists()
    losses = next(table.rows for table in PROFITABILITY.build(ctx).tables if table.key == "losses")
    assert losses
    # and seeding again adds nothing
    before = Ticket.objects.count(), Call.objects.count()
    demo.seed(make_context(size="demo", seed=7, out=lambda line: None))
    assert (Ticket.objects.count(), Call.objects.count()) == before
