"""/sla/calendar/ pages: who may see them, the coverage banner, company days, the notice form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from kefu.org.models import User
from kefu.sla.models import CalendarDay, HolidayNotice
from kefu.web.nav import items_for

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user("sysadmin", "admin")


def _notice_post(**overrides: str) -> dict[str, str]:
    data = {
        "year": "2031",
        "title": "国办发明电〔2030〕X号",
        "period_0_name": "元旦",
        "period_0_start": "2031-01-01",
        "period_0_end": "2031-01-01",
        "period_6_name": "国庆节",
        "period_6_start": "2031-10-01",
        "period_6_end": "2031-10-07",
        "makeup_0_day": "2031-09-28",
        "makeup_1_day": "2031-10-12",
    }
    data.update(overrides)
    return data


def test_the_calendar_is_for_managers_and_admins(
    manager: User, admin_user: User, agent: User, supervisor: User
) -> None:
    for user in (manager, admin_user):
        assert "sla" in [item.key for item in items_for(user)]
        assert _client(user).get("/sla/calendar/").status_code == 200
    for user in (agent, supervisor):
        assert "sla" not in [item.key for item in items_for(user)]
        response = _client(user).get("/sla/calendar/")
        assert response.status_code == 403
        assert "您没有维护工作日历的权限" in response.content.decode()
        assert _client(user).post("/sla/calendar/notice/", _notice_post()).status_code == 403
        assert _client(user).post("/sla/calendar/days/", {"date": "2031-01-02"}).status_code == 403
    assert HolidayNotice.objects.count() == 0
    assert CalendarDay.objects.count() == 0
    assert Client().get("/sla/calendar/").status_code == 302  # to the login page


def test_the_page_shows_the_year_and_warns_about_an_uncovered_one(manager: User) -> None:
    page = _client(manager).get("/sla/calendar/?year=2025").content.decode()
    assert 'data-date="2025-10-11" data-workday="1"' in page  # 调休 Saturday
    assert 'data-date="2025-10-08" data-workday="0"' in page
    page = _client(manager).get("/sla/calendar/?year=2031").content.decode()
    assert 'data-testid="coverage-warning"' in page
    assert "2031 年的法定节假日安排尚未录入，SLA 计时暂按周一至周五上班计算。" in page
    assert 'data-date="2031-01-01" data-workday="1"' in page  # Mon–Fri fallback


def test_a_notice_entered_on_the_page_covers_the_year(manager: User) -> None:
    client = _client(manager)
    form = client.get("/sla/calendar/notice/?year=2031").content.decode()
    assert 'value="国庆节"' in form  # the rows come prefilled with the statutory holidays
    response = client.post("/sla/calendar/notice/", _notice_post())
    assert response.status_code == 302
    assert response["Location"] == "/sla/calendar/?year=2031"
    page = client.get(response["Location"]).content.decode()
    assert "已录入 2031 年节假日安排，共 10 天。" in page
    assert "2031 年的法定节假日安排尚未录入" not in page
    assert 'data-date="2031-01-01" data-workday="0"' in page
    assert 'data-date="2031-09-28" data-workday="1"' in page
    # the form for that year shows what was entered
    again = client.get("/sla/calendar/notice/?year=2031").content.decode()
    assert 'value="2031-10-07"' in again
    assert 'value="国庆节调休上班"' in again


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {
                "period_5_name": "中秋节",
                "period_5_start": "2031-10-06",
                "period_5_end": "2031-10-08",
            },
            "period_5_start",
            "“中秋节”与“国庆节”的日期重叠。",
        ),
        ({"period_0_start": "2030-12-31"}, "period_0_start", "2030-12-31 不在 2031 年内。"),
        (
            {"makeup_0_day": "2031-09-29"},
            "makeup_0_day",
            "2031-09-29 是工作日（周一至周五），调休上班日只能是周六或周日。",
        ),
        ({"makeup_0_day": "2031-13-01"}, "makeup_0_day", "请输入有效日期（YYYY-MM-DD）。"),
        ({"year": "明年"}, "year", "请输入年份，例如 2027。"),
    ],
)
def test_bad_notice_input_is_answered_on_the_form_and_changes_nothing(
    manager: User, overrides: dict[str, str], field: str, message: str
) -> None:
    response = _client(manager).post("/sla/calendar/notice/", _notice_post(**overrides))
    assert response.status_code == 422
    page = response.content.decode()
    assert f'data-field-error="{field}">{message}' in page
    assert 'data-testid="form-error"' in page
    assert HolidayNotice.objects.count() == 0
    assert CalendarDay.objects.count() == 0


def test_company_days_are_added_and_deleted_on_the_page(manager: User) -> None:
    client = _client(manager)
    response = client.post(
        "/sla/calendar/days/", {"date": "2025-10-11", "is_workday": "0", "name": "公司团建"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/sla/calendar/?year=2025"
    page = client.get(response["Location"]).content.decode()
    assert 'data-date="2025-10-11" data-workday="0"' in page
    assert "公司团建" in page
    assert CalendarDay.objects.get().date == date(2025, 10, 11)
    bad = client.post("/sla/calendar/days/", {"date": "2025-02-30", "is_workday": "0"})
    assert bad.status_code == 422
    assert "请输入有效日期（YYYY-MM-DD）。" in bad.content.decode()
    response = client.post("/sla/calendar/days/2025-10-11/delete/")
    assert response.status_code == 302
    assert CalendarDay.objects.count() == 0
    assert client.post("/sla/calendar/days/garbage/delete/").status_code == 404


def test_the_django_admin_edits_hours_with_validation(superuser: User, org: dict[str, Any]) -> None:
    client = _client(superuser)
    for path in ("calendarday", "holidaynotice", "businesshours", "slapolicy", "complaintdeadline"):
        assert client.get(f"/admin/sla/{path}/").status_code == 200
    response = client.post(
        "/admin/sla/businesshours/add/",
        {"team": org["team_a"].pk, "hours": "09:00-12:00, 11:00-18:00", "follow_calendar": "on"},
    )
    assert response.status_code == 200
    assert "时段 09:00-12:00 与 11:00-18:00 重叠。" in response.content.decode()
    response = client.post(
        "/admin/sla/businesshours/add/",
        {"team": org["team_a"].pk, "hours": "18:00-09:00", "follow_calendar": "on"},
    )
    assert "开始时间必须早于结束时间" in response.content.decode()
    response = client.post(
        "/admin/sla/businesshours/add/",
        {"team": org["team_a"].pk, "hours": "08:30-12:00；13:00-17:30", "follow_calendar": "on"},
    )
    assert response.status_code == 302
    from kefu.sla.models import BusinessHours

    saved = BusinessHours.objects.get(team=org["team_a"])
    assert saved.intervals == [["08:30", "12:00"], ["13:00", "17:30"]]
