"""The profitability section: five customers over the 12 months to October 2026 (November 2025
to October 2026), every revenue, profit and service cost counted by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.org.models import User
from kefu.reports.builtin.profitability import PROFITABILITY
from kefu.reports.sections import SectionResult
from kefu.reports.tests.builtin_data import at, call, order, report_context, ticket

OCTOBER = date(2026, 10, 1)


def _table(result: SectionResult, key: str) -> list[dict[str, Any]]:
    return next(table.rows for table in result.tables if table.key == key)


@pytest.fixture
def customers(db: None) -> dict[str, Customer]:
    rep = User.objects.create_user(username="sales_li", display_name="李销售")
    tiers = Customer.Tier
    a = Customer.objects.create(name="甲公司", tier=tiers.GOLD, owner=rep)
    b = Customer.objects.create(name="王小明", kind=Customer.Kind.PERSON, tier=tiers.ORDINARY)
    c = Customer.objects.create(name="丙公司", tier=tiers.ORDINARY)
    d = Customer.objects.create(name="丁公司", tier=tiers.SILVER, owner=rep)
    e = Customer.objects.create(name="戊公司", tier=tiers.DIAMOND)
    # A: ¥15,000 revenue, ¥4,000 profit in the window (the orders either side are outside);
    # 4 tickets (one a repair) and 5 answered calls: 4 × 30 + 5 × 8 + 1 × 150 = ¥310
    order(a, "2026-03-10", "10000", "7000")
    order(a, "2026-10-31", "5000", "4000")
    order(a, "2025-10-31", "99999", "0")
    order(a, "2026-11-01", "8888", "0")
    for day in ("2025-11-01", "2026-02-02", "2026-10-31"):
        ticket("inquiry", at(day, "00:00" if day == "2025-11-01" else "23:59"), customer=a)
    ticket("repair", at("2026-07-07"), customer=a)
    ticket("inquiry", at("2025-10-31", "23:59"), customer=a)  # before the window
    kept = ticket("inquiry", at("2026-05-05"), customer=a)
    ticket("inquiry", at("2026-05-05"), customer=a, merged_into=kept, status="closed")
    Ticket.objects.filter(pk=kept.pk).update(customer=None)  # the kept one is not A's
    for month in range(1, 6):
        call(a, at(f"2026-0{month}-15"))
    call(a, at("2026-04-16"), answered=False)
    call(a, at("2026-11-01", "00:00"))
    # B, a person: ¥200 profit against 2 repairs and 2 calls: 2 × 180 + 2 × 8 = ¥376
    order(b, "2026-06-01", "1000", "800")
    ticket("repair", at("2026-06-03"), customer=b)
    ticket("repair", at("2026-09-03"), customer=b)
    call(b, at("2026-06-02"))
    call(b, at("2026-09-02"))
    # C: no order, one inquiry (¥30); D: sold below cost (−¥100), no service; E: the big one
    ticket("inquiry", at("2026-08-08"), customer=c)
    order(d, "2026-01-15", "2000", "2100")
    order(e, "2026-05-01", "200000", "150000")
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_profitability_totals_by_tier_and_lists_the_losses(
    customers: dict[str, Customer],
) -> None:
    result = PROFITABILITY.build(report_context(OCTOBER))
    assert _table(result, "by_tier") == [
        {
            "tier": "钻石",
            "customers": 1,
            "revenue": "200000.00",
            "profit": "50000.00",
            "service_cost": "0.00",
            "margin": "50000.00",
            "margin_rate": 25.0,
            "tickets": 0,
            "calls": 0,
            "repairs": 0,
            "losses": 0,
        },
        {
            "tier": "金",
            "customers": 1,
            "revenue": "15000.00",
            "profit": "4000.00",
            "service_cost": "310.00",
            "margin": "3690.00",
            "margin_rate": 24.6,
            "tickets": 4,
            "calls": 5,
            "repairs": 1,
            "losses": 0,
        },
        {
            "tier": "银",
            "customers": 1,
            "revenue": "2000.00",
            "profit": "-100.00",
            "service_cost": "0.00",
            "margin": "-100.00",
            "margin_rate": -5.0,
            "tickets": 0,
            "calls": 0,
            "repairs": 0,
            "losses": 1,
        },
        {
            "tier": "普通",
            "customers": 2,
            "revenue": "1000.00",
            "profit": "200.00",
            "service_cost": "406.00",
            "margin": "-206.00",
            "margin_rate": -20.6,
            "tickets": 3,
            "calls": 2,
            "repairs": 2,
            "losses": 2,
        },
    ]
    losses = _table(result, "losses")
    assert [(row["customer"], row["margin"]) for row in losses] == [
        ("王**", "-176.00"),  # a person's name is masked
        ("丁公司", "-100.00"),
        ("丙公司", "-30.00"),
    ]
    assert losses[1]["owner"] == "李销售"
    assert losses[0] == {
        "customer_id": customers["b"].pk,
        "customer": "王**",
        "tier": "普通",
        "owner": "",
        "revenue": "1000.00",
        "profit": "200.00",
        "service_cost": "376.00",
        "margin": "-176.00",
        "tickets": 2,
        "calls": 2,
        "repairs": 2,
    }
    figures = {figure.label: figure.value for figure in result.figures}
    assert figures == {
        "近12个月营业额": "218000.00",
        "近12个月毛利": "54100.00",
        "近12个月服务成本": "716.00",
        "扣除服务成本后利润": "53384.00",
        "服务成本超过毛利的客户": 3,
    }
    assert result.notes[0].startswith("统计期间为近12个月（2025年11月至2026年10月）")
    assert "3 位客户的服务成本超过其毛利；亏损最大的 3 位合计亏损 ¥306.00。" in result.notes


def test_profitability_follows_the_unit_costs_of_the_settings(
    customers: dict[str, Customer],
) -> None:
    ctx = report_context(OCTOBER)
    ctx.settings.unit_cost_ticket = Decimal("10.00")
    ctx.settings.unit_cost_call = Decimal("0.00")
    ctx.settings.unit_cost_repair = Decimal("0.00")
    result = PROFITABILITY.build(ctx)
    # B now costs 2 × 10 = ¥20 < ¥200 profit; C costs ¥10; D still loses ¥100
    assert [(row["customer"], row["service_cost"]) for row in _table(result, "losses")] == [
        ("丁公司", "0.00"),
        ("丙公司", "10.00"),
    ]


def test_profitability_of_an_empty_company_is_empty(db: None) -> None:
    result = PROFITABILITY.build(report_context(OCTOBER))
    assert _table(result, "by_tier") == []
    assert _table(result, "losses") == []
    assert result.charts == []
    assert {figure.label: figure.value for figure in result.figures}["近12个月营业额"] == "0.00"
    assert len(result.notes) == 1
