"""The statutory data, hand-entered notices, company days, coverage and its warnings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.org.models import User
from kefu.sla.checks import calendar_coverage_warnings
from kefu.sla.engine import clock_for, uncovered_years, work_calendar
from kefu.sla.models import CalendarDay, HolidayNotice
from kefu.sla.services import (
    HolidayPeriod,
    MakeupDay,
    calendar_day_delete,
    calendar_day_set,
    holiday_notice_enter,
)
from kefu.sla.tests.helpers import at
from kefu.sla.workcalendar import DaySource, package_years

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
# A made-up notice for 2031, a year no package knows: National Day Oct 1-7 (Wed-Tue) with the
# Sundays Sep 28 and Oct 12 worked, New Year's Day alone.
NOTICE_2031 = {
    "periods": [
        HolidayPeriod("元旦", date(2031, 1, 1), date(2031, 1, 1)),
        HolidayPeriod("国庆节", date(2031, 10, 1), date(2031, 10, 7)),
    ],
    "makeup_days": [MakeupDay(date(2031, 9, 28)), MakeupDay(date(2031, 10, 12), "国庆补班")],
}


def test_the_package_covers_the_notices_up_to_2026_and_knows_make_up_days() -> None:
    years = package_years()
    assert {2004, 2025, 2026} <= years
    cal = work_calendar()
    assert cal.day(date(2025, 10, 11)).is_workday  # Sat, 调休
    assert cal.day(date(2025, 10, 11)).source == DaySource.STATUTORY
    assert cal.day(date(2025, 10, 1)).name == "国庆节"
    assert not cal.is_workday(date(2026, 2, 23))  # Mon, Spring Festival
    assert cal.is_workday(date(2026, 2, 28))  # Sat, 调休


def test_uncovered_years_lists_what_neither_package_nor_notices_cover(manager: User) -> None:
    assert uncovered_years([2025, 2026, 2031, 2040]) == [2031, 2040]
    holiday_notice_enter(actor=manager, year=2031, **NOTICE_2031)  # type: ignore[arg-type]
    assert uncovered_years([2025, 2026, 2031, 2040]) == [2040]


def test_system_check_warns_for_this_year_and_next_when_uncovered(manager: User) -> None:
    assert calendar_coverage_warnings(date(2025, 6, 1)) == []
    warnings = calendar_coverage_warnings(date(2030, 6, 1))
    assert [w.id for w in warnings] == ["sla.W001", "sla.W001"]
    assert "2030" in warnings[0].msg
    assert "周一至周五" in warnings[0].msg
    assert "2031" in warnings[1].msg
    holiday_notice_enter(actor=manager, year=2031, **NOTICE_2031)  # type: ignore[arg-type]
    assert [w.msg for w in calendar_coverage_warnings(date(2030, 6, 1))] == [warnings[0].msg]


def test_the_check_is_registered_with_django(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core import checks
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2031, 3, 1))
    found = [m for m in checks.run_checks() if m.id == "sla.W001"]
    assert len(found) == 2


def test_a_hand_entered_notice_drives_the_clock(manager: User) -> None:
    # given the 2031 notice
    result = holiday_notice_enter(
        actor=manager,
        year=2031,
        title="国办发明电〔2030〕X号",
        **NOTICE_2031,  # type: ignore[arg-type]
    )
    assert result.written == 1 + 7 + 2
    assert result.kept == []
    clock = clock_for(None)
    # then New Year's Day (a Wednesday) is off now, and the make-up Sunday works
    assert clock.add(at(2030, 12, 31, 17), 2 * H) == at(2031, 1, 2, 10)
    assert clock.add(at(2031, 9, 26, 17), 2 * H) == at(2031, 9, 28, 10)
    assert clock.add(at(2031, 9, 30, 17), 2 * H) == at(2031, 10, 8, 10)
    assert work_calendar().day(date(2031, 9, 28)).name == "国庆节调休上班"
    assert work_calendar().day(date(2031, 10, 12)).name == "国庆补班"
    event = AuditEvent.objects.get(object_type="sla.holidaynotice")
    assert event.action == AuditEvent.Action.CREATE
    assert event.actor == manager


def test_entering_a_year_again_replaces_its_notice(manager: User) -> None:
    holiday_notice_enter(actor=manager, year=2031, **NOTICE_2031)  # type: ignore[arg-type]
    holiday_notice_enter(
        actor=manager,
        year=2031,
        periods=[HolidayPeriod("国庆节", date(2031, 10, 1), date(2031, 10, 3))],
        makeup_days=[],
    )
    assert HolidayNotice.objects.count() == 1
    assert sorted(CalendarDay.objects.values_list("date", flat=True)) == [
        date(2031, 10, 1),
        date(2031, 10, 2),
        date(2031, 10, 3),
    ]
    assert work_calendar().is_workday(date(2031, 1, 1))


def test_a_notice_keeps_the_companys_own_days(manager: User) -> None:
    calendar_day_set(actor=manager, day=date(2031, 10, 7), is_workday=True, name="公司值班")
    result = holiday_notice_enter(actor=manager, year=2031, **NOTICE_2031)  # type: ignore[arg-type]
    assert result.kept == [date(2031, 10, 7)]
    assert work_calendar().day(date(2031, 10, 7)).source == DaySource.COMPANY
    assert work_calendar().is_workday(date(2031, 10, 7))


def _refused(manager: User, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(ApplicationError) as caught:
        holiday_notice_enter(actor=manager, **kwargs)
    assert caught.value.message == "通知内容有误，未做任何修改，请检查标出的字段。"
    assert CalendarDay.objects.count() == 0
    assert HolidayNotice.objects.count() == 0
    return caught.value.fields


def test_bad_notices_are_refused_whole_with_clear_chinese_errors(manager: User) -> None:
    ok = HolidayPeriod("元旦", date(2031, 1, 1), date(2031, 1, 1))
    fields = _refused(
        manager,
        year=2031,
        periods=[
            HolidayPeriod("国庆节", date(2031, 10, 1), date(2031, 10, 7)),
            HolidayPeriod("中秋节", date(2031, 10, 6), date(2031, 10, 8)),
        ],
        makeup_days=[],
    )
    assert fields == {"periods.1.start": ["“中秋节”与“国庆节”的日期重叠。"]}
    fields = _refused(
        manager,
        year=2031,
        periods=[ok, HolidayPeriod("元旦", date(2030, 12, 31), date(2031, 1, 1))],
        makeup_days=[],
    )
    assert fields == {"periods.1.start": ["2030-12-31 不在 2031 年内。"]}
    fields = _refused(manager, year=2031, periods=[ok], makeup_days=[MakeupDay(date(2031, 9, 29))])
    assert fields == {
        "makeups.0.day": ["2031-09-29 是工作日（周一至周五），调休上班日只能是周六或周日。"]
    }
    fields = _refused(manager, year=2031, periods=[ok], makeup_days=[MakeupDay(date(2032, 1, 3))])
    assert fields == {"makeups.0.day": ["2032-01-03 不在 2031 年内。"]}
    fields = _refused(
        manager,
        year=2031,
        periods=[HolidayPeriod("国庆节", date(2031, 10, 1), date(2031, 10, 7))],
        makeup_days=[MakeupDay(date(2031, 10, 4))],
    )
    assert fields == {"makeups.0.day": ["2031-10-04 在放假期间内，不能同时是调休上班日。"]}
    fields = _refused(
        manager,
        year=2031,
        periods=[HolidayPeriod("", date(2031, 10, 7), date(2031, 10, 1))],
        makeup_days=[],
    )
    assert fields == {"periods.0.name": ["此项为必填项。"]}
    fields = _refused(
        manager,
        year=2031,
        periods=[HolidayPeriod("国庆节", date(2031, 10, 7), date(2031, 10, 1))],
        makeup_days=[],
    )
    assert fields == {"periods.0.end": ["结束日期不能早于开始日期。"]}
    fields = _refused(manager, year=2031, periods=[], makeup_days=[])
    assert fields == {"periods": ["请至少填写一个放假安排。"]}
    fields = _refused(manager, year=1999, periods=[ok], makeup_days=[])
    assert list(fields) == ["year"]


def test_only_calendar_managers_may_change_it(agent: User) -> None:
    with pytest.raises(Forbidden):
        holiday_notice_enter(actor=agent, year=2031, **NOTICE_2031)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        calendar_day_set(actor=agent, day=date(2031, 1, 2), is_workday=False)
    assert CalendarDay.objects.count() == 0


def test_company_days_are_set_changed_and_deleted_with_audit(manager: User) -> None:
    calendar_day_set(actor=manager, day=date(2025, 10, 11), is_workday=False, name="团建")
    assert not work_calendar().is_workday(date(2025, 10, 11))
    calendar_day_set(actor=manager, day=date(2025, 10, 11), is_workday=True, note="取消团建")
    assert work_calendar().day(date(2025, 10, 11)).source == DaySource.COMPANY
    assert calendar_day_delete(actor=manager, day=date(2025, 10, 11))
    assert not calendar_day_delete(actor=manager, day=date(2025, 10, 11))
    assert work_calendar().day(date(2025, 10, 11)).source == DaySource.STATUTORY
    actions = list(
        AuditEvent.objects.filter(object_type="sla.calendarday")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]
