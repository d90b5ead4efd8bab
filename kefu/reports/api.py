"""/api/v1/reports: the monthly report (客服月报) as JSON, and its archive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.api.auth import AuthedRequest
from kefu.api.pagination import PageQuery, paginate
from kefu.api.schemas import ERRORS
from kefu.reports.models import MonthlyReport
from kefu.reports.services import month_parse, report_archive_list, report_get_or_generate

router = Router(tags=["reports"])


class MonthlyQuery(Schema):
    month: str = Field("", description="月份 YYYY-MM，例如 2026-10")
    refresh: bool = Field(False, description="true：按当前数据重新生成并另存一份（需生成权限）")


class MovedCustomerOut(Schema):
    customer_id: int
    name: str
    reason: str


class CustomersOut(Schema):
    churned: list[MovedCustomerOut]
    at_risk: list[MovedCustomerOut]
    anomalous: list[MovedCustomerOut]
    rising: list[MovedCustomerOut]
    falling: list[MovedCustomerOut]
    new: list[MovedCustomerOut]
    won_back: list[MovedCustomerOut]


class MonthlyReportOut(Schema):
    report_id: int
    month: str
    generated_at: str
    generated_by: str | None
    trigger: str
    customers: CustomersOut
    sections: list[dict[str, Any]]


class ArchiveItemOut(Schema):
    id: int
    month: str
    generated_at: str
    generated_by: str | None
    trigger: str
    trigger_display: str
    duration_ms: int


class ArchiveListOut(Schema):
    items: list[ArchiveItemOut]
    count: int


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def monthly_report_out(report: MonthlyReport) -> dict[str, Any]:
    return {"report_id": report.pk, **report.content}


@router.get(
    "/monthly",
    response={200: MonthlyReportOut, **ERRORS},
    summary="客服月报（已存档则返回存档；refresh=true 重新生成并存档）",
)
def monthly_report(request: AuthedRequest, query: Query[MonthlyQuery]) -> dict[str, Any]:
    month = month_parse(query.month)
    report = report_get_or_generate(
        month=month,
        actor=request.auth,
        trigger=MonthlyReport.Trigger.API,
        refresh=query.refresh,
    )
    return monthly_report_out(report)


@router.get(
    "/monthly/archive",
    response={200: ArchiveListOut, **ERRORS},
    summary="月报存档列表（月份、生成时间、生成人、触发方式）",
)
def monthly_report_archive(request: AuthedRequest, page: Query[PageQuery]) -> dict[str, Any]:
    reports, count = paginate(
        report_archive_list(user=request.auth), page=page.page, page_size=page.page_size
    )
    return {
        "items": [
            {
                "id": report.pk,
                "month": report.month_key,
                "generated_at": _local(report.generated_at),
                "generated_by": report.generated_by_name if report.generated_by else None,
                "trigger": report.trigger,
                "trigger_display": str(report.get_trigger_display()),
                "duration_ms": report.duration_ms,
            }
            for report in reports
        ],
        "count": count,
    }
