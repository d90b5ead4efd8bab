"""Generating and archiving the monthly report: the document, the movements section, archive
semantics, refresh, bad months, a failing section, the command and the scheduled task."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.customers.models import Customer
from kefu.org.models import User
from kefu.reports.models import MonthlyReport, ReportSettings
from kefu.reports.sections import Figure, ReportContext, Section, SectionResult, Table
from kefu.reports.services import report_current, report_generate, report_get_or_generate
from kefu.reports.tasks import monthly_report_task
from kefu.tiering.models import TierChange

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_movements_section")]

OCTOBER = date(2026, 10, 1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_generate_builds_the_document_and_archives_it(
    fake_classify: list[tuple[date, Any]], manager: User, customers: dict[str, Any]
) -> None:
    report = report_generate(month=OCTOBER, actor=manager, trigger="manual")

    assert fake_classify[0][0] == OCTOBER
    assert isinstance(fake_classify[0][1], ReportSettings)
    assert report.month == OCTOBER
    assert report.generated_by == manager
    assert report.trigger == "manual"
    content = report.content
    assert content["month"] == "2026-10"
    assert content["generated_by"] == "manager"
    assert content["generated_at"].endswith("+08:00")
    assert content["customers"]["falling"] == [
        {
            "customer_id": customers["falling"].pk,
            "name": "华东机电有限公司",
            "reason": "近3月订单额较前3月下降62%，最近一次下单已过97天",
        }
    ]
    assert [c["name"] for c in content["customers"]["churned"]] == ["青岛海工贸易"]
    assert set(content["customers"]) == {
        "churned",
        "at_risk",
        "anomalous",
        "rising",
        "falling",
        "new",
        "won_back",
    }
    assert content["customers"]["rising"] == []
    assert [s["key"] for s in content["sections"]] == ["movements"]
    assert MonthlyReport.objects.count() == 1
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.CREATE, object_type="reports.monthlyreport"
    )
    assert (event.actor, event.object_id) == (manager, str(report.pk))
    assert event.changes == {"month": "2026-10", "trigger": "manual", "failed_sections": []}


def test_movements_section_lays_out_counts_tables_and_chart(
    fake_classify: list[tuple[date, Any]], manager: User, customers: dict[str, Any]
) -> None:
    section = report_generate(month=OCTOBER, actor=manager, trigger="manual").content["sections"][0]

    assert section["title"] == "客户动态"
    assert section["failed"] is False
    figures = {f["label"]: f["value"] for f in section["figures"]}
    assert figures == {
        "流失": 1,
        "流失预警": 0,
        "异动": 0,
        "上升": 0,
        "下降": 1,
        "新客户": 0,
        "赢回": 0,
        "稳定": 5,
        "规模较小未评估": 3,
        "等级上调": 0,
        "等级下调": 0,
    }
    tables = {t["key"]: t for t in section["tables"]}
    assert tables["movements_falling"]["title"] == "下降客户"
    assert tables["movements_falling"]["rows"] == [
        {
            "customer_id": customers["falling"].pk,
            "name": "华东机电有限公司",
            "reason": "近3月订单额较前3月下降62%，最近一次下单已过97天",
            "owner": "rep",
            "r3": "38000.00",
            "base": "100000.00",
            "base_kind": "P3",
            "t12": "250000.50",
            "days_since_last": 97,
        }
    ]
    churned = tables["movements_churned"]["rows"][0]
    assert (churned["owner"], churned["r3"], churned["t12"]) == ("—", None, "12000.00")
    chart = section["charts"][0]
    assert chart["kind"] == "bar"
    assert chart["categories"][:2] == ["流失", "流失预警"]
    assert chart["series"][0]["data"] == [1, 0, 0, 0, 1, 0, 0]
    assert section["notes"][0] == (
        "本月流失 1 家，流失预警 0 家，异动 0 家；上升 0 家，下降 1 家；新客户 0 家，赢回 0 家。"
    )


def test_tier_moves_of_the_month_only(
    fake_classify: list[tuple[date, Any]], manager: User, customers: dict[str, Any]
) -> None:
    falling, churned = customers["falling"], customers["churned"]

    def change(who: Any, old: str, new: str, at: datetime, reason: str) -> None:
        row = TierChange.objects.create(
            customer=who, from_tier=old, to_tier=new, kind="nightly", reason=reason
        )
        TierChange.objects.filter(pk=row.pk).update(created_at=at)

    # 2026-10-01 00:30 in Shanghai is 2026-09-30 16:30 UTC: October's.
    change(falling, "gold", "silver", datetime(2026, 10, 1, 0, 30, tzinfo=SHANGHAI), "毛利下降")
    person = Customer.objects.create(name="张三丰", kind=Customer.Kind.PERSON)
    change(person, "ordinary", "silver", datetime(2026, 10, 20, tzinfo=SHANGHAI), "订单增长")
    change(churned, "silver", "gold", datetime(2026, 10, 31, 23, 59, tzinfo=SHANGHAI), "大单")
    # 2026-11-01 00:00 in Shanghai: November's, not in the report.
    change(falling, "silver", "ordinary", datetime(2026, 11, 1, tzinfo=SHANGHAI), "不计")
    change(falling, "diamond", "gold", datetime(2026, 9, 30, 23, 59, tzinfo=SHANGHAI), "不计")

    section = report_generate(month=OCTOBER, actor=manager, trigger="manual").content["sections"][0]

    tier_moves = next(t for t in section["tables"] if t["key"] == "tier_moves")
    assert [
        (r["date"], r["name"], r["from_tier"], r["to_tier"], r["reason"])
        for r in tier_moves["rows"]
    ] == [
        ("2026-10-01", "华东机电有限公司", "金", "银", "毛利下降"),
        ("2026-10-20", "张**", "普通", "银", "订单增长"),  # a person's name is masked
        ("2026-10-31", "青岛海工贸易", "银", "金", "大单"),
    ]
    figures = {f["label"]: f["value"] for f in section["figures"]}
    assert (figures["等级上调"], figures["等级下调"]) == (2, 1)
    assert section["notes"][1] == "本月客户等级上调 2 次，下调 1 次。"


class _Boom:
    key = "boom"
    title = "会出错的章节"
    order = 15

    def build(self, ctx: ReportContext) -> SectionResult:
        raise RuntimeError("数据源不可用")


class _BadSql:
    key = "bad_sql"
    title = "查询出错的章节"
    order = 16

    def build(self, ctx: ReportContext) -> SectionResult:
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM no_such_table")
        raise AssertionError("unreachable")


class _After:
    key = "after"
    title = "后续章节"
    order = 20

    def build(self, ctx: ReportContext) -> SectionResult:
        movements = ctx.shared["movements"]
        return SectionResult(
            key=self.key,
            title=self.title,
            figures=[
                Figure("下降客户", len(movements.by_status["falling"]), "int"),
                Figure("报告订单数", MonthlyReport.objects.count(), "int"),
            ],
            tables=[Table("t", "表", [], [])],
            charts=[],
            notes=[f"{ctx.start.isoformat()} – {ctx.end.isoformat()}"],
        )


def test_a_failing_section_is_recorded_and_the_others_still_build(
    fake_classify: list[tuple[date, Any]],
    manager: User,
    extra_sections: Callable[[Section], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    for section in (_After(), _BadSql(), _Boom()):
        extra_sections(section)  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR, logger="kefu.reports.services"):
        report = report_generate(month=OCTOBER, actor=manager, trigger="manual")

    sections = report.content["sections"]
    assert [s["key"] for s in sections] == ["movements", "boom", "bad_sql", "after"]
    boom, bad_sql, after = sections[1:]
    assert boom["failed"] is True
    assert boom["error"] == "RuntimeError: 数据源不可用"
    assert boom["title"] == "会出错的章节"
    assert bad_sql["failed"] is True
    # The later section still reads the database (a savepoint kept PostgreSQL's transaction
    # usable) and what the movements section shared.
    assert after["failed"] is False
    assert after["figures"][0]["value"] == 1
    assert after["notes"] == ["2026-10-01T00:00:00+08:00 – 2026-11-01T00:00:00+08:00"]
    assert "section boom failed" in caplog.text
    assert "section bad_sql failed" in caplog.text
    assert MonthlyReport.objects.count() == 1
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE)
    assert event.changes["failed_sections"] == ["boom", "bad_sql"]


def test_refresh_archives_anew_and_the_latest_is_current(
    fake_classify: list[tuple[date, Any]], manager: User, sales: User
) -> None:
    first = report_get_or_generate(month=OCTOBER, actor=sales, trigger="api")
    again = report_get_or_generate(month=OCTOBER, actor=sales, trigger="api")
    assert again.pk == first.pk
    assert len(fake_classify) == 1

    refreshed = report_get_or_generate(month=OCTOBER, actor=manager, trigger="api", refresh=True)

    assert refreshed.pk != first.pk
    assert len(fake_classify) == 2
    assert MonthlyReport.objects.filter(month=OCTOBER).count() == 2
    current = report_current(month=OCTOBER)
    assert current is not None
    assert current.pk == refreshed.pk


def test_refresh_and_manual_generation_need_the_permission(
    fake_classify: list[tuple[date, Any]], sales: User, agent: User
) -> None:
    report_get_or_generate(month=OCTOBER, actor=sales, trigger="api")
    with pytest.raises(Forbidden):
        report_get_or_generate(month=OCTOBER, actor=sales, trigger="api", refresh=True)
    with pytest.raises(Forbidden):
        report_generate(month=OCTOBER, actor=sales, trigger="manual")
    # A month nobody generated yet: a reader's first look generates it.
    assert report_generate(month=date(2026, 9, 1), actor=sales, trigger="manual").pk
    with pytest.raises(Forbidden):
        report_get_or_generate(month=OCTOBER, actor=agent, trigger="api")
    assert MonthlyReport.objects.count() == 2


@pytest.mark.parametrize(
    ("month", "code", "message"),
    [
        (date(2030, 1, 1), "month_in_future", "2030年01月 尚未到来，无法生成月报。"),
        (
            date(2025, 12, 1),
            "month_before_data",
            "2025年12月 没有任何订单或工单数据（最早的数据在 2026-01-10），无法生成月报。",
        ),
    ],
)
def test_months_in_the_future_or_before_any_data_are_refused(
    fake_classify: list[tuple[date, Any]], manager: User, month: date, code: str, message: str
) -> None:
    with pytest.raises(ApplicationError) as refused:
        report_generate(month=month, actor=manager, trigger="manual")

    assert (refused.value.status, refused.value.code, refused.value.message) == (
        400,
        code,
        message,
    )
    assert MonthlyReport.objects.count() == 0
    assert fake_classify == []


def test_the_month_of_the_first_order_can_be_reported(
    fake_classify: list[tuple[date, Any]], manager: User
) -> None:
    report = report_generate(month=date(2026, 1, 1), actor=manager, trigger="manual")
    assert report.content["month"] == "2026-01"


def test_no_data_at_all_is_refused(db: None, manager: User) -> None:
    with pytest.raises(ApplicationError) as refused:
        report_generate(month=OCTOBER, actor=manager, trigger="manual")
    assert refused.value.code == "month_before_data"


def test_command_generates_once_and_refreshes_on_request(
    fake_classify: list[tuple[date, Any]],
) -> None:
    out = StringIO()
    call_command("monthly_report", "--month", "2026-10", stdout=out)
    assert "2026-10: archived report #" in out.getvalue()
    assert " s (build " in out.getvalue()

    out = StringIO()
    call_command("monthly_report", "--month", "2026-10", stdout=out)
    assert "already archived" in out.getvalue()
    assert MonthlyReport.objects.count() == 1

    call_command("monthly_report", "--month", "2026-10", "--refresh", stdout=StringIO())
    reports = list(MonthlyReport.objects.all())
    assert len(reports) == 2
    assert {(r.trigger, r.generated_by_id) for r in reports} == {("schedule", None)}


@pytest.mark.parametrize("bad", ["2026-13", "26-10", "2026/10"])
def test_command_refuses_a_bad_month(fake_classify: list[tuple[date, Any]], bad: str) -> None:
    with pytest.raises(CommandError, match="月份格式应为 YYYY-MM"):
        call_command("monthly_report", "--month", bad, stdout=StringIO())
    assert MonthlyReport.objects.count() == 0


def test_scheduled_task_archives_last_month_as_the_worker(
    fake_classify: list[tuple[date, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kefu.reports.services.previous_month", lambda: OCTOBER)

    report_id = monthly_report_task.call_local()

    report = MonthlyReport.objects.get(pk=report_id)
    assert (report.month, report.trigger, report.generated_by) == (OCTOBER, "schedule", None)
    assert report.content["generated_by"] is None
    assert report.generated_by_name == "系统定时任务"


def test_previous_month_wraps_the_year() -> None:
    from kefu.reports.services import previous_month

    assert previous_month(date(2026, 1, 15)) == date(2025, 12, 1)
    assert previous_month(date(2026, 11, 1)) == date(2026, 10, 1)
