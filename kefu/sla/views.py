"""The working-calendar pages (工作日历): a year at a glance with the statutory holidays, make-up
workdays and company adjustments; single-day adjustments; the form for a new year's notice."""

from __future__ import annotations

import calendar as month_grid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.org.models import User
from kefu.sla.engine import uncovered_years, work_calendar
from kefu.sla.forms import CalendarDayForm, HolidayNoticeForm
from kefu.sla.models import CalendarDay, HolidayNotice
from kefu.sla.services import (
    MANAGE_PERM,
    MAX_YEAR,
    MIN_YEAR,
    calendar_day_delete,
    calendar_day_set,
    holiday_notice_enter,
    require_manage_calendar,
)
from kefu.sla.workcalendar import DayInfo, DaySource, package_years


def can_manage_calendar(user: User) -> bool:
    return user.is_authenticated and user.has_perm(MANAGE_PERM)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _error_page(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "web/error.html", {"message": exc.message}, status=exc.status)


def _year(request: HttpRequest, default: int) -> int:
    try:
        year = int(request.GET.get("year", default))
    except (TypeError, ValueError):
        return default
    return year if MIN_YEAR <= year <= MAX_YEAR else default


@dataclass(frozen=True)
class Cell:
    day: date
    in_month: bool
    info: DayInfo

    @property
    def css(self) -> str:
        if not self.in_month:
            return "sla-day-out"
        weekend = self.day.weekday() >= 5
        kind = "sla-day-company" if self.info.source == DaySource.COMPANY else ""
        if self.info.is_workday and weekend:
            return f"sla-day-makeup {kind}".strip()
        if not self.info.is_workday and (not weekend or self.info.name):
            return f"sla-day-holiday {kind}".strip()
        if not self.info.is_workday:
            return f"sla-day-off {kind}".strip()
        return kind


def _months(year: int) -> list[dict[str, Any]]:
    cal = work_calendar()
    grid = month_grid.Calendar(firstweekday=0)
    return [
        {
            "month": month,
            "weeks": [
                [Cell(day, day.month == month, cal.day(day)) for day in week]
                for week in grid.monthdatescalendar(year, month)
            ],
        }
        for month in range(1, 13)
    ]


def _coverage(year: int) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "uncovered": uncovered_years([today.year, today.year + 1, year]),
        "package_first": min(package_years(), default=None),
        "package_last": max(package_years(), default=None),
    }


def _page(
    request: HttpRequest, year: int, form: CalendarDayForm, status: int = 200
) -> HttpResponse:
    adjustments = CalendarDay.objects.filter(date__year=year).select_related("notice")
    context = {
        "year": year,
        "months": _months(year),
        "weekdays": [_("一"), _("二"), _("三"), _("四"), _("五"), _("六"), _("日")],
        "company_days": [row for row in adjustments if row.notice_id is None],
        "notice": HolidayNotice.objects.filter(year=year).first(),
        "form": form,
        "nav_section": "sla",
        **_coverage(year),
    }
    return render(request, "sla/calendar_index.html", context, status=status)


@login_required
def calendar_index_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        require_manage_calendar(user)
    except Forbidden as exc:
        return _error_page(request, exc)
    year = _year(request, timezone.localdate().year)
    return _page(request, year, CalendarDayForm(initial={"is_workday": "0"}))


@login_required
@require_POST
def calendar_day_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        require_manage_calendar(user)
    except Forbidden as exc:
        return _error_page(request, exc)
    form = CalendarDayForm(request.POST)
    year = timezone.localdate().year
    if form.is_valid():
        data = form.cleaned_data
        year = data["date"].year
        try:
            calendar_day_set(
                actor=user,
                day=data["date"],
                is_workday=data["is_workday"],
                name=data["name"],
                note=data["note"],
            )
        except ApplicationError as exc:
            form.add_service_errors(exc.fields or {"__all__": [exc.message]})
        else:
            messages.success(
                request, _("已保存 %(day)s 的日历调整。") % {"day": data["date"].isoformat()}
            )
            return redirect(reverse("sla:calendar") + f"?year={year}")
    return _page(request, _year(request, year), form, status=422)


@login_required
@require_POST
def calendar_day_delete_view(request: HttpRequest, day: str) -> HttpResponse:
    user = _user(request)
    try:
        require_manage_calendar(user)
        parsed = date.fromisoformat(day)
    except Forbidden as exc:
        return _error_page(request, exc)
    except ValueError:
        return _error_page(request, ApplicationError(_("日期无效。"), status=404))
    if calendar_day_delete(actor=user, day=parsed):
        messages.success(request, _("已删除 %(day)s 的日历调整。") % {"day": parsed.isoformat()})
    return redirect(reverse("sla:calendar") + f"?year={parsed.year}")


@login_required
def holiday_notice_view(request: HttpRequest) -> HttpResponse:
    """Enter a year's State Council notice by hand (the package does not know the year yet)."""
    user = _user(request)
    try:
        require_manage_calendar(user)
    except Forbidden as exc:
        return _error_page(request, exc)
    status = 200
    if request.method == "POST":
        form = HolidayNoticeForm(request.POST)
        if form.is_valid():
            try:
                result = holiday_notice_enter(
                    actor=user,
                    year=form.cleaned_data["year"],
                    title=form.cleaned_data["title"],
                    periods=form.periods(),
                    makeup_days=form.makeup_days(),
                )
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
                if not form.non_field_errors():
                    form.add_error(None, exc.message)
            else:
                text = _("已录入 %(year)d 年节假日安排，共 %(count)d 天。") % {
                    "year": result.notice.year,
                    "count": result.written,
                }
                if result.kept:
                    text += " " + _("以下日期已有公司调整，保留公司调整：%(days)s。") % {
                        "days": "、".join(day.isoformat() for day in result.kept)
                    }
                messages.success(request, text)
                return redirect(reverse("sla:calendar") + f"?year={result.notice.year}")
        status = 422
    else:
        year = _year(request, timezone.localdate().year + 1)
        notice = HolidayNotice.objects.filter(year=year).first()
        initial = HolidayNoticeForm.initial_for(
            year,
            notice.periods if notice else [],
            notice.makeup_days if notice else [],
        )
        if notice:
            initial["title"] = notice.title
        form = HolidayNoticeForm(initial=initial)
    return render(
        request,
        "sla/holiday_notice_form.html",
        {"form": form, "nav_section": "sla"},
        status=status,
    )
