"""The complaints section on a month whose every figure is counted by hand (October 2026, with
September as the month before), and on an empty month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from kefu.customers.models import Asset, Customer
from kefu.reports.builtin.complaints import COMPLAINTS
from kefu.reports.sections import SectionResult
from kefu.reports.tests.builtin_data import at, order, report_context, step, ticket

OCTOBER = date(2026, 10, 1)
AIRCON = "KFR-35GW/BP3 挂式空调"
PURIFIER = "RO-600G 家用净水器"


def _figures(result: SectionResult) -> dict[str, Any]:
    return {figure.label: figure.value for figure in result.figures}


def _table(result: SectionResult, key: str) -> list[dict[str, Any]]:
    return next(table.rows for table in result.tables if table.key == key)


@pytest.fixture
def october(org: dict[str, Any]) -> dict[str, Any]:
    company = Customer.objects.create(name="杭州甲机电有限公司")
    person = Customer.objects.create(name="张三丰", kind=Customer.Kind.PERSON)
    unit = Asset.objects.create(customer=company, product_model=AIRCON)
    purifier_order = order(person, "2026-09-20", "1999.00", "1500.00", products=(PURIFIER, "滤芯"))
    order(company, "2026-10-08", "20000.00", "15000.00")
    order(company, "2026-10-20", "10000.00", "8000.00")
    repair, service = org["repair"], org["service"]
    closed = "closed"
    # October's complaints: three on the air conditioner, one on the purifier order, one on
    # nothing; c5 at 23:30 on the 31st is still October in Asia/Shanghai
    ticket(
        "complaint",
        at("2026-10-02", "09:00"),
        status=closed,
        customer=company,
        asset=unit,
        liability="ours",
        root_cause="product",
        responsible_department=repair,
        compensation_amount=Decimal("500"),
        resolved_at=at("2026-10-03", "09:00"),  # 24 h
        closed_at=at("2026-10-03", "09:00"),
    )
    ticket(
        "complaint",
        at("2026-10-05", "10:00"),
        status=closed,
        customer=company,
        asset=unit,
        liability="supplier",
        root_cause="product",
        responsible_department=repair,
        compensation_amount=Decimal("1500"),
        resolved_at=at("2026-10-05", "16:00"),  # 6 h
        closed_at=at("2026-10-05", "16:00"),
    )
    ticket(
        "complaint",
        at("2026-10-06"),
        status="investigating",
        customer=company,
        asset=unit,
        liability="customer",  # not valid
        root_cause="installation",
        responsible_department=repair,
    )
    ticket(
        "complaint",
        at("2026-10-10", "10:00"),
        status=closed,
        customer=person,
        order=purifier_order,
        liability="carrier",
        root_cause="delivery",
        responsible_department=service,
        compensation_amount=Decimal("200"),
        resolved_at=at("2026-10-12", "10:00"),  # 48 h
        closed_at=at("2026-10-12", "10:00"),
    )
    ticket("complaint", at("2026-10-31", "23:30"), customer=company)
    # not October: November's first minute, and September's two (one on the air conditioner,
    # resolved on 1 October after 12 h, one on nothing)
    ticket("complaint", at("2026-11-01", "00:00"), customer=company, asset=unit)
    ticket(
        "complaint",
        at("2026-09-30", "23:59"),
        status=closed,
        customer=company,
        asset=unit,
        liability="ours",
        compensation_amount=Decimal("300"),
        resolved_at=at("2026-10-01", "11:59"),  # 12 h
        closed_at=at("2026-10-01", "11:59"),
    )
    ticket("complaint", at("2026-09-12"), customer=person)
    # claims: settled, rejected, appealed, open (two), and one settled in September
    ticket(
        "claim",
        at("2026-10-03"),
        status=closed,
        customer=company,
        compensation_amount=Decimal("5000"),
        closed_at=at("2026-10-15"),
    )
    ticket("claim", at("2026-10-08"), status="rejected", closed_at=at("2026-10-20"))
    ticket("claim", at("2026-10-01"), status="arbitration", closed_at=at("2026-10-22"))
    ticket("claim", at("2026-09-15"), status="proposed", compensation_amount=Decimal("800"))
    ticket("claim", at("2026-10-25"), status="docs_review")
    ticket(
        "claim",
        at("2026-09-01"),
        status=closed,
        compensation_amount=Decimal("1000"),
        closed_at=at("2026-09-20"),
    )
    # arbitration: one filed, accepted and decided in October; one dismissed in October; one
    # enforced and closed in October after a September decision
    a1 = ticket("arbitration", at("2026-10-22"), status="decided", compensation_amount=3000)
    step(a1, "accepted", at("2026-10-23"))
    step(a1, "evidence", at("2026-10-24"))
    step(a1, "decided", at("2026-10-28"))
    a2 = ticket("arbitration", at("2026-09-10"), status="dismissed", closed_at=at("2026-10-02"))
    step(a2, "dismissed", at("2026-10-02"))
    a3 = ticket(
        "arbitration",
        at("2026-08-01"),
        status=closed,
        compensation_amount=Decimal("1000"),
        closed_at=at("2026-10-30"),
    )
    step(a3, "decided", at("2026-09-05"))
    step(a3, "enforced", at("2026-10-10"))
    step(a3, "closed", at("2026-10-30"))
    return {"company": company, "person": person}


def test_complaints_section_counts_the_month_by_hand(october: dict[str, Any]) -> None:
    # when
    result = COMPLAINTS.build(report_context(OCTOBER))
    # then the month's volume, validity and timing
    figures = _figures(result)
    assert figures == {
        "投诉量": 5,
        "有效投诉": 3,
        "投诉客户数": 2,
        "投诉率（每万单）": 15000.0,  # 3 valid complaints ÷ 2 orders of October × 10,000
        "上月投诉量": 2,
        "本月解决投诉": 4,  # 24 h, 6 h, 48 h, and September's 12 h
        "平均解决时长（小时）": 22.5,  # (24 + 6 + 48 + 12) / 4
        "解决时长中位数（小时）": 18.0,  # (12 + 24) / 2
        "赔偿金额": "7500.00",  # complaints 500 + 1500 + 200 + 300, the settled claim 5000
    }
    assert _table(result, "root_causes") == [
        {"cause": "产品质量", "complaints": 2, "valid": 2, "share": 40.0},
        {"cause": "未判定", "complaints": 1, "valid": 0, "share": 20.0},
        {"cause": "物流运输", "complaints": 1, "valid": 1, "share": 20.0},
        {"cause": "安装维修", "complaints": 1, "valid": 0, "share": 20.0},
    ]
    assert _table(result, "products") == [
        {"product": AIRCON, "complaints": 3, "valid": 2, "previous": 1, "share": 60.0},
        {"product": PURIFIER, "complaints": 1, "valid": 1, "previous": 0, "share": 20.0},
        {"product": "未关联产品", "complaints": 1, "valid": 0, "previous": 1, "share": 20.0},
    ]
    assert _table(result, "departments") == [
        {"department": "维修部", "complaints": 3, "valid": 2, "share": 60.0},
        {"department": "客服部", "complaints": 1, "valid": 1, "share": 20.0},
        {"department": "未指定", "complaints": 1, "valid": 0, "share": 20.0},
    ]
    assert _table(result, "claims") == [
        {"outcome": "本月新增理赔", "count": 4, "amount": "5000.00"},
        {"outcome": "已赔付结案", "count": 1, "amount": "5000.00"},
        {"outcome": "已拒赔", "count": 1, "amount": "0.00"},
        {"outcome": "拒赔后申请仲裁", "count": 1, "amount": "0.00"},
        {"outcome": "月末未结", "count": 2, "amount": "800.00"},
    ]
    assert _table(result, "arbitration") == [
        {"outcome": "本月立案申请", "count": 1, "amount": "3000.00"},
        {"outcome": "已受理", "count": 1, "amount": "3000.00"},
        {"outcome": "不予受理", "count": 1, "amount": "0.00"},
        {"outcome": "已裁决", "count": 1, "amount": "3000.00"},
        {"outcome": "已执行", "count": 1, "amount": "1000.00"},
        {"outcome": "已关闭", "count": 1, "amount": "1000.00"},
        {"outcome": "月末未结", "count": 1, "amount": "3000.00"},
    ]
    # and in words, against September
    assert result.notes[0] == (
        f"本月受理投诉 5 件（上月 2 件），较上月增加 150%，主要集中在 {AIRCON}（3 件，上月 1 件）。"
    )
    # September: 1 valid complaint ÷ 1 order × 10,000
    assert "有效投诉 3 件，投诉率 15000.00 件/万单，较上月上升 5000.0 个万分点。" in result.notes
    assert "最主要的原因是产品质量（2 件，占 40.0%）。" in result.notes
    assert "本月结案赔付 ¥7,500.00，其中投诉 ¥2,500.00、理赔 ¥5,000.00。" in result.notes
    charts = {chart.key: chart for chart in result.charts}
    assert charts["products"].categories == [AIRCON, PURIFIER, "未关联产品"]
    assert charts["products"].series[0]["data"] == [3, 1, 1]
    assert result.as_dict()["key"] == "complaints"


def test_complaints_section_of_an_empty_month_says_so(db: None) -> None:
    result = COMPLAINTS.build(report_context(OCTOBER))
    figures = _figures(result)
    assert figures["投诉量"] == 0
    assert figures["平均解决时长（小时）"] is None
    assert figures["解决时长中位数（小时）"] is None
    assert figures["赔偿金额"] == "0.00"
    assert _table(result, "root_causes") == []
    assert _table(result, "products") == []
    assert [row["count"] for row in _table(result, "claims")] == [0, 0, 0, 0, 0]
    assert result.charts == []
    assert result.notes == ["本月与上月均无投诉。"]
