"""GET /api/v1/reports/monthly and /monthly/archive: permissions, archive semantics, bad month."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from kefu.org.models import User
from kefu.reports.models import MonthlyReport

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_movements_section")]

URL = "/api/v1/reports/monthly"
ARCHIVE = "/api/v1/reports/monthly/archive"


def test_reading_a_month_generates_it_once_then_returns_the_archive(
    fake_classify: list[Any], api_as: Callable[[User], Any], sales: User, customers: dict[str, Any]
) -> None:
    first = api_as(sales).get(URL, month="2026-10")
    assert first.status_code == 200
    body = first.json()
    assert body["month"] == "2026-10"
    assert body["generated_by"] == "sales1"
    assert body["trigger"] == "api"
    assert body["customers"]["falling"] == [
        {
            "customer_id": customers["falling"].pk,
            "name": "华东机电有限公司",
            "reason": "近3月订单额较前3月下降62%，最近一次下单已过97天",
        }
    ]
    assert body["customers"]["won_back"] == []
    assert body["sections"][0]["key"] == "movements"

    second = api_as(sales).get(URL, month="2026-10").json()
    assert second == body
    assert len(fake_classify) == 1
    assert MonthlyReport.objects.count() == 1
    assert body["report_id"] == MonthlyReport.objects.get().pk


def test_refresh_regenerates_and_archives_anew(
    fake_classify: list[Any], api_as: Callable[[User], Any], manager: User
) -> None:
    first = api_as(manager).get(URL, month="2026-10").json()

    refreshed = api_as(manager).get(URL, month="2026-10", refresh="true")

    assert refreshed.status_code == 200
    assert refreshed.json()["report_id"] != first["report_id"]
    assert MonthlyReport.objects.filter(month=date(2026, 10, 1)).count() == 2
    assert (
        api_as(manager).get(URL, month="2026-10").json()["report_id"]
        == (refreshed.json()["report_id"])
    )


def test_refresh_needs_the_generate_permission(
    fake_classify: list[Any], api_as: Callable[[User], Any], sales: User
) -> None:
    api_as(sales).get(URL, month="2026-10")

    answer = api_as(sales).get(URL, month="2026-10", refresh="true")

    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == "您没有重新生成客服月报的权限。"
    assert MonthlyReport.objects.count() == 1


def test_roles_without_the_view_permission_get_403(
    fake_classify: list[Any], api_as: Callable[[User | None], Any], agent: User
) -> None:
    assert api_as(agent).get(URL, month="2026-10").status_code == 403
    assert api_as(agent).get(ARCHIVE).status_code == 403
    assert api_as(None).get(URL, month="2026-10").status_code == 401
    assert MonthlyReport.objects.count() == 0


@pytest.mark.parametrize("month", ["", "2026-13", "2026-1", "October", "2026-10-01"])
def test_a_bad_month_is_422_in_chinese(
    fake_classify: list[Any], api_as: Callable[[User], Any], manager: User, month: str
) -> None:
    answer = api_as(manager).get(URL, month=month)

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["message"] == "月份格式应为 YYYY-MM，例如 2026-10。"
    assert error["fields"] == {"month": ["月份格式应为 YYYY-MM，例如 2026-10。"]}
    assert MonthlyReport.objects.count() == 0


def test_a_future_month_is_400_and_nothing_is_archived(
    fake_classify: list[Any], api_as: Callable[[User], Any], manager: User
) -> None:
    answer = api_as(manager).get(URL, month="2031-02")

    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "2031年02月 尚未到来，无法生成月报。"
    assert MonthlyReport.objects.count() == 0


def test_archive_lists_months_newest_first_with_who_and_how(
    fake_classify: list[Any], api_as: Callable[[User], Any], manager: User, finance: User
) -> None:
    api_as(manager).get(URL, month="2026-09")
    api_as(finance).get(URL, month="2026-10")
    from kefu.reports.services import report_generate

    report_generate(month=date(2026, 10, 1), actor=None, trigger="schedule")

    answer = api_as(finance).get(ARCHIVE)

    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 3
    rows = [(i["month"], i["generated_by"], i["trigger"]) for i in body["items"]]
    assert rows == [
        ("2026-10", None, "schedule"),
        ("2026-10", "finance1", "api"),
        ("2026-09", "manager", "api"),
    ]
    assert body["items"][0]["trigger_display"] == "定时生成"
    assert body["items"][0]["generated_at"].endswith("+08:00")
