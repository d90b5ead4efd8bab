"""System check: warn the admin when this year's or next year's holidays are unknown (neither
the holiday package nor a hand-entered State Council notice covers it), so that clocks in that
year count Mon–Fri only. The State Council publishes the next year's notice each November."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.checks import CheckMessage, Warning
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _


def calendar_coverage_warnings(today: date) -> list[CheckMessage]:
    # Straight from the database, not through the engine's snapshot: a check must not depend
    # on the cache server (Redis) being up when a management command starts.
    from kefu.sla.models import HolidayNotice
    from kefu.sla.workcalendar import package_years

    years = [today.year, today.year + 1]
    try:
        notices = set(HolidayNotice.objects.filter(year__in=years).values_list("year", flat=True))
    except DatabaseError:
        return []  # not migrated yet: migrate will create the calendar tables
    missing = [year for year in years if year not in package_years() and year not in notices]
    return [
        Warning(
            _("%(year)d 年的法定节假日安排尚未录入，SLA 计时暂按周一至周五上班计算。")
            % {"year": year},
            hint=_("请在“工作日历”页面按国务院办公厅通知录入 %(year)d 年的放假和调休安排。")
            % {"year": year},
            id="sla.W001",
        )
        for year in missing
    ]


def calendar_coverage_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return calendar_coverage_warnings(timezone.localdate())
