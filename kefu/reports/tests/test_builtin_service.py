"""The service section on October 2026: scenario 8's ten calls (domain.md §7) on the 15th, and
four tickets whose SLA, FCR, reopen and backlog figures are counted by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from kefu.calls.models import Call
from kefu.customers.models import Customer
from kefu.org.models import User
from kefu.reports.builtin.service import SERVICE
from kefu.reports.sections import SectionResult
from kefu.reports.tests.builtin_data import at, ticket

OCTOBER = date(2026, 10, 1)


def _table(result: SectionResult, key: str) -> list[dict[str, Any]]:
    return next(table.rows for table in result.tables if table.key == key)


@pytest.fixture
def october(org: dict[str, Any], agent: User) -> None:
    # scenario 8: 7 answered after 5, 10, 15, 18, 25, 40 and 60 s (talk 1,260 s, hold 120 s,
    # ACW 420 s in all), 3 abandoned after 3, 12 and 45 s; every caller different
    offered = at("2026-10-15", "10:00")
    answered = [
        (5, 180, 120, 60),
        (10, 180, 0, 60),
        (15, 180, 0, 60),
        (18, 180, 0, 60),
        (25, 180, 0, 60),
        (40, 180, 0, 60),
        (60, 180, 0, 60),
    ]
    for index, (wait, talk, hold, acw) in enumerate(answered):
        Call.objects.create(
            call_id=f"S8-A{index}",
            caller=f"+861380000000{index}",
            status=Call.Status.ENDED,
            outcome=Call.Outcome.ANSWERED,
            agent=agent,
            offered_at=offered,
            answered_at=offered + timedelta(seconds=wait),
            ended_at=offered + timedelta(seconds=wait + talk + hold + acw),
            wait_seconds=Decimal(wait),
            talk_seconds=Decimal(talk),
            hold_seconds=Decimal(hold),
            acw_seconds=Decimal(acw),
        )
    for index, wait in enumerate((3, 12, 45)):
        Call.objects.create(
            call_id=f"S8-B{index}",
            caller=f"+861390000000{index}",
            status=Call.Status.ENDED,
            outcome=Call.Outcome.ABANDONED,
            offered_at=offered,
            ended_at=offered + timedelta(seconds=wait),
            wait_seconds=Decimal(wait),
        )
    team_a, team_b = org["team_a"], org["team_b"]
    customers = [Customer.objects.create(name=f"客户{n}") for n in range(4)]
    # t1: responded and resolved in time (team A)
    ticket(
        "inquiry",
        at("2026-10-05", "10:00"),
        status="closed",
        customer=customers[0],
        team=team_a,
        first_response_due=at("2026-10-05", "12:00"),
        first_responded_at=at("2026-10-05", "11:00"),
        resolution_due=at("2026-10-06", "10:00"),
        resolved_at=at("2026-10-06", "09:00"),
        closed_at=at("2026-10-07", "09:00"),
    )
    # t2: late on both clocks, and reopened once (team B)
    ticket(
        "inquiry",
        at("2026-10-10", "10:00"),
        status="closed",
        customer=customers[1],
        team=team_b,
        first_response_due=at("2026-10-10", "12:00"),
        first_responded_at=at("2026-10-10", "13:00"),
        resolution_due=at("2026-10-12", "10:00"),
        resolved_at=at("2026-10-14", "10:00"),
        closed_at=at("2026-10-15", "10:00"),
        reopen_count=1,
    )
    # t3: never answered, both clocks breached in October, still open at its end (team B)
    ticket(
        "inquiry",
        at("2026-10-20", "10:00"),
        status="in_progress",
        customer=customers[2],
        team=team_b,
        first_response_due=at("2026-10-20", "12:00"),
        resolution_due=at("2026-10-25", "10:00"),
    )
    # t4: opened on the last evening, no clock (team A)
    ticket(
        "inquiry",
        at("2026-10-31", "20:00"),
        status="new",
        customer=customers[3],
        team=team_a,
    )


def test_service_section_reports_the_month_by_hand(october: None) -> None:
    from kefu.reports.tests.builtin_data import report_context

    result = SERVICE.build(report_context(OCTOBER))
    figures = {figure.label: figure.value for figure in result.figures}
    assert figures == {
        "首次响应 SLA 达成率": 33.3,  # t1 met; t2 late; t3 due in October, never answered
        "解决 SLA 达成率": 33.3,
        "接通率": 70.0,
        "放弃率（不含 5 秒内短弃）": 22.2,  # 2 / 9
        "放弃率（原始）": 30.0,
        "服务水平 80/20": 50.0,  # 4 / (7 + 1)
        "服务水平 80/20（严格口径）": 40.0,  # 4 / 10
        "平均应答速度（秒）": 24.7,  # 173 / 7
        "平均处理时长（秒）": 257.1,  # 1,800 / 7
        "首次解决率": 25.0,  # t1 of four first contacts (t2 reopened, t3 and t4 open)
        "重开率": 50.0,  # t2 of the two resolved
        "24 小时重复来电率": 0.0,
        "72 小时重复来电率": 0.0,
        "单次接触成本": None,  # no service cost entered for October
        "月末积压工单": 2,
    }
    kinds = {figure.label: figure.kind for figure in result.figures}
    assert kinds["接通率"] == "percent"
    assert kinds["单次接触成本"] == "money"
    assert kinds["月末积压工单"] == "int"
    comparison = {row["kpi"]: row for row in _table(result, "kpis")}
    assert comparison["接通率"] == {
        "kpi": "接通率",
        "unit": "%",
        "value": 70.0,
        "previous": None,  # no call in September
        "change": None,
    }
    assert comparison["月末积压工单"] == {
        "kpi": "月末积压工单",
        "unit": "张",
        "value": 2.0,
        "previous": 0.0,
        "change": 2.0,
    }
    assert comparison["平均处理时长（秒）"]["unit"] == "秒"
    assert _table(result, "ageing") == [
        {"bucket": "不足1天", "tickets": 1},
        {"bucket": "1–3天", "tickets": 0},
        {"bucket": "3–7天", "tickets": 0},
        {"bucket": "7–30天", "tickets": 1},
        {"bucket": "30天以上", "tickets": 0},
    ]
    teams = {row["group"]: row for row in _table(result, "by_team")}
    assert (teams["客服一组"]["sla_response"], teams["客服一组"]["backlog"]) == (100.0, 1)
    assert (teams["客服二组"]["sla_response"], teams["客服二组"]["backlog"]) == (0.0, 1)
    assert teams["客服二组"]["reopen_rate"] == 100.0
    # the agent (a member of team A) answered all seven calls
    assert teams["客服一组"]["asa"] == 24.7
    assert "answer_rate" not in teams["客服一组"]
    agents = {row["group"]: row for row in _table(result, "by_agent")}
    assert agents["agent"]["aht"] == 257.1
    daily = next(chart for chart in result.charts if chart.key == "daily")
    assert len(daily.categories) == 31
    assert daily.categories[14] == "10-15"
    answer = daily.series[0]["data"]
    assert answer[14] == 70.0
    assert answer[13] is None
    assert result.notes == [
        "首次响应 SLA 达成率 33.3%。",
        "解决 SLA 达成率 33.3%。",
        "服务水平 50.0%，低于 80/20 目标。",
        "平均应答速度 24.7 秒（不含放弃来电，同期放弃率 22.2%）。",
        "截至 2026-10-31 日终积压工单 2 张，其中超过 7 天的 1 张。",
    ]


def test_service_section_of_an_empty_month_is_all_na(db: None) -> None:
    from kefu.reports.tests.builtin_data import report_context

    result = SERVICE.build(report_context(OCTOBER))
    figures = {figure.label: figure.value for figure in result.figures}
    assert figures["接通率"] is None
    assert figures["首次响应 SLA 达成率"] is None
    assert figures["月末积压工单"] == 0
    assert _table(result, "by_team") == []
    assert [row["tickets"] for row in _table(result, "ageing")] == [0, 0, 0, 0, 0]
    assert result.notes == ["截至 2026-10-31 日终没有积压工单。"]
