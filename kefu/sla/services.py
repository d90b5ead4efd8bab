"""Writes to the working calendar: company adjustments of single days and a year's State
Council notice entered by hand. Business hours, SLA policies and complaint deadlines are edited
in the Django admin (kefu/sla/admin.py), which validates through the models' clean()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden
from kefu.core.text import clean_text
from kefu.org.models import User
from kefu.sla.engine import sla_cache_clear
from kefu.sla.models import CalendarDay, HolidayNotice
from kefu.sla.workcalendar import MAKEUP_WORKDAY_NAME

MANAGE_PERM = "sla.manage_calendar"
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_PERIOD_DAYS = 31


@dataclass(frozen=True)
class HolidayPeriod:
    name: str
    start: date | None
    end: date | None


@dataclass(frozen=True)
class MakeupDay:
    day: date | None
    name: str = ""


@dataclass
class NoticeResult:
    notice: HolidayNotice
    written: int = 0
    kept: list[date] = field(default_factory=list)  # company adjustments left as they were


def require_manage_calendar(actor: User) -> None:
    if not actor.has_perm(MANAGE_PERM):
        raise Forbidden(_("您没有维护工作日历的权限。"))


def _text(value: str, *, max_length: int, required: bool = False) -> str:
    return clean_text(value or "", max_length=max_length, required=required)


def _save_or_conflict(row: CalendarDay | HolidayNotice) -> None:
    """Two admins creating the same day (or the same year's notice) at once: the second one's
    INSERT hits the unique index; answer 409 instead of a server error."""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict(_("该日期或年份刚被其他人修改，请刷新页面后重试。")) from None


@transaction.atomic
def calendar_day_set(
    *, actor: User, day: date, is_workday: bool, name: str = "", note: str = ""
) -> CalendarDay:
    """Make ``day`` a working day or a day off for the whole company, whatever the statutory
    calendar says (a day of a hand-entered notice becomes a company adjustment)."""
    require_manage_calendar(actor)
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for key, value, limit in (("name", name, 64), ("note", note, 200)):
        try:
            clean[key] = _text(value, max_length=limit)
        except ValueError as exc:
            errors[key] = [str(exc)]
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        errors["date"] = [
            _("日期须在 %(min)d 至 %(max)d 年之间。") % {"min": MIN_YEAR, "max": MAX_YEAR}
        ]
    if errors:
        raise ApplicationError(_("提交的内容有误，请检查标出的字段。"), fields=errors)
    row = CalendarDay.objects.select_for_update().filter(date=day).first()
    before = None if row is None else [row.is_workday, row.name, row.note, row.notice_id]
    if row is None:
        row = CalendarDay(date=day)
    row.is_workday, row.name, row.note, row.notice = is_workday, clean["name"], clean["note"], None
    _save_or_conflict(row)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE if before is None else AuditEvent.Action.UPDATE,
        target=row,
        changes={
            "before": before,
            "after": [row.is_workday, row.name, row.note, None],
        },
    )
    return row


@transaction.atomic
def calendar_day_delete(*, actor: User, day: date) -> bool:
    """Drop the adjustment of ``day``: the statutory calendar (or Mon–Fri) applies again."""
    require_manage_calendar(actor)
    row = CalendarDay.objects.select_for_update().filter(date=day).first()
    if row is None:
        return False
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=row,
        changes={"before": [row.is_workday, row.name, row.note, row.notice_id]},
    )
    row.delete()
    return True


@dataclass(frozen=True)
class _Period:
    """A checked holiday period: named, both dates inside the year, start <= end."""

    index: int
    name: str
    start: date
    end: date


@dataclass(frozen=True)
class _Makeup:
    index: int
    day: date
    name: str


def _check_period(
    index: int, period: HolidayPeriod, year: int, add: Callable[[str, str], None]
) -> _Period | None:
    prefix = f"periods.{index}."
    ok = True
    try:
        name = _text(period.name, max_length=64, required=True)
    except ValueError as exc:
        add(prefix + "name", str(exc))
        ok = False
    for key, value in (("start", period.start), ("end", period.end)):
        if value is None:
            add(prefix + key, _("请填写日期。"))
            ok = False
        elif value.year != year:
            add(
                prefix + key,
                _("%(day)s 不在 %(year)d 年内。") % {"day": value.isoformat(), "year": year},
            )
            ok = False
    if not ok or period.start is None or period.end is None:
        return None
    if period.start > period.end:
        add(prefix + "end", _("结束日期不能早于开始日期。"))
        return None
    if (period.end - period.start).days + 1 > MAX_PERIOD_DAYS:
        add(prefix + "end", _("一个假期最长 %(max)d 天，请检查日期。") % {"max": MAX_PERIOD_DAYS})
        return None
    return _Period(index, name, period.start, period.end)


def _notice_errors(
    year: int, periods: list[HolidayPeriod], makeups: list[MakeupDay]
) -> tuple[dict[str, list[str]], list[_Period], list[_Makeup]]:
    """Every error of a notice at once (keys ``periods.<i>.<field>``, ``makeups.<i>.day``),
    with the periods and make-up days that passed."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if not MIN_YEAR <= year <= MAX_YEAR:
        add("year", _("年份须在 %(min)d 至 %(max)d 之间。") % {"min": MIN_YEAR, "max": MAX_YEAR})
        return errors, [], []

    checked: list[_Period] = []
    for index, period in enumerate(periods):
        if not (period.name.strip() or period.start or period.end):
            continue  # an empty row of the form
        good = _check_period(index, period, year, add)
        if good is not None:
            checked.append(good)
    if not checked and not any(key.startswith("periods.") for key in errors):
        add("periods", _("请至少填写一个放假安排。"))
    checked.sort(key=lambda period: period.start)
    for first, second in pairwise(checked):
        if second.start <= first.end:
            add(
                f"periods.{second.index}.start",
                _("“%(a)s”与“%(b)s”的日期重叠。") % {"a": second.name, "b": first.name},
            )

    good_makeups: list[_Makeup] = []
    seen: set[date] = set()
    for index, makeup in enumerate(makeups):
        key = f"makeups.{index}.day"
        if makeup.day is None:
            if makeup.name.strip():
                add(key, _("请填写日期。"))
            continue
        day = makeup.day
        try:
            name = _text(makeup.name, max_length=64)
        except ValueError as exc:
            add(f"makeups.{index}.name", str(exc))
            continue
        if day.year != year:
            add(key, _("%(day)s 不在 %(year)d 年内。") % {"day": day.isoformat(), "year": year})
        elif day.weekday() < 5:
            add(
                key,
                _("%(day)s 是工作日（周一至周五），调休上班日只能是周六或周日。")
                % {"day": day.isoformat()},
            )
        elif day in seen:
            add(key, _("%(day)s 重复填写。") % {"day": day.isoformat()})
        elif any(period.start <= day <= period.end for period in checked):
            add(key, _("%(day)s 在放假期间内，不能同时是调休上班日。") % {"day": day.isoformat()})
        else:
            seen.add(day)
            good_makeups.append(_Makeup(index, day, name))
    good_makeups.sort(key=lambda makeup: makeup.day)
    return errors, checked, good_makeups


def _nearest_name(day: date, periods: list[_Period]) -> str:
    def distance(period: _Period) -> int:
        return (period.start - day).days if day < period.start else (day - period.end).days

    nearest = min(periods, key=distance, default=None)
    # Stored data, like the package's names: Chinese whatever the admin's language.
    return f"{nearest.name}调休上班" if nearest is not None else MAKEUP_WORKDAY_NAME


@transaction.atomic
def holiday_notice_enter(
    *,
    actor: User,
    year: int,
    title: str = "",
    periods: list[HolidayPeriod],
    makeup_days: list[MakeupDay],
) -> NoticeResult:
    """Enter (or replace) a year's State Council holiday notice.

    1. Check everything first: each holiday period named and inside the year, no overlaps,
       each make-up working day a Saturday or Sunday of the year outside the holidays. Any
       error → ApplicationError with every bad field, and nothing is written.
    2. Replace the notice of that year (its former days go) with the new one.
    3. Write a day off for each date of each period and a working day for each make-up day;
       a date the company has adjusted by hand keeps the company's adjustment (reported back).
    """
    require_manage_calendar(actor)
    errors, good_periods, good_makeups = _notice_errors(year, periods, makeup_days)
    try:
        title = _text(title, max_length=200)
    except ValueError as exc:
        errors.setdefault("title", []).append(str(exc))
    if errors:
        raise ApplicationError(_("通知内容有误，未做任何修改，请检查标出的字段。"), fields=errors)

    notice = HolidayNotice.objects.select_for_update().filter(year=year).first()
    action = AuditEvent.Action.CREATE if notice is None else AuditEvent.Action.UPDATE
    if notice is None:
        notice = HolidayNotice(year=year)
    else:
        notice.days.all().delete()
    notice.title = title
    notice.entered_by = actor
    notice.periods = [
        {"name": p.name, "start": p.start.isoformat(), "end": p.end.isoformat()}
        for p in good_periods
    ]
    wanted: dict[date, tuple[bool, str]] = {}
    for period in good_periods:
        day = period.start
        while day <= period.end:
            wanted[day] = (False, period.name)
            day += timedelta(days=1)
    makeup_rows: list[dict[str, Any]] = []
    for makeup in good_makeups:
        name = makeup.name or _nearest_name(makeup.day, good_periods)
        wanted[makeup.day] = (True, name)
        makeup_rows.append({"date": makeup.day.isoformat(), "name": name})
    notice.makeup_days = makeup_rows
    _save_or_conflict(notice)

    company_days = set(
        CalendarDay.objects.filter(date__in=list(wanted), notice__isnull=True).values_list(
            "date", flat=True
        )
    )
    note = title or _("%(year)d 年节假日安排通知") % {"year": year}
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(date=day, is_workday=workday, name=name, note=note[:200], notice=notice)
            for day, (workday, name) in sorted(wanted.items())
            if day not in company_days
        ]
    )
    sla_cache_clear(sender=CalendarDay)  # bulk_create sends no post_save
    result = NoticeResult(
        notice=notice, written=len(wanted) - len(company_days), kept=sorted(company_days)
    )
    audit_record(
        actor=actor,
        action=action,
        target=notice,
        changes={
            "periods": notice.periods,
            "makeup_days": notice.makeup_days,
            "kept_company_days": [day.isoformat() for day in result.kept],
        },
    )
    return result
