"""Generating, archiving and reading the monthly report; the report settings."""

from __future__ import annotations

import logging
import re
import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core.exceptions import ApplicationError, Forbidden, NotFound
from kefu.org.models import User
from kefu.reports.models import SETTINGS_FIELDS, MonthlyReport, ReportSettings
from kefu.reports.sections import ReportContext, sections

logger = logging.getLogger(__name__)

STATUS_KEYS = ("churned", "at_risk", "anomalous", "rising", "falling", "new", "won_back")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def business_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_parse(value: str | None, *, field: str = "month") -> date:
    """'YYYY-MM' → the first day of that month, or a 422 in Chinese."""
    match = _MONTH_RE.match((value or "").strip())
    month = int(match.group(2)) if match else 0
    if not match or not 1 <= month <= 12 or int(match.group(1)) < 1900:
        message = _("月份格式应为 YYYY-MM，例如 2026-10。")
        raise ApplicationError(message, code="bad_month", status=422, fields={field: [message]})
    return date(int(match.group(1)), month, 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(today: date | None = None) -> date:
    """The first day of the month before the one of ``today`` (business time zone)."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    tz = business_tz()
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    following = next_month(month)
    return start, datetime(following.year, following.month, 1, tzinfo=tz)


def _first_data_day() -> date | None:
    """The earliest day anything happened: the first order or the first ticket."""
    from kefu.desk.models import Ticket
    from kefu.orders.models import Order

    days: list[date] = []
    first_order = Order.objects.aggregate(first=Min("date"))["first"]
    if first_order is not None:
        days.append(first_order)
    first_ticket = Ticket.objects.aggregate(first=Min("created_at"))["first"]
    if first_ticket is not None:
        days.append(timezone.localtime(first_ticket, business_tz()).date())
    return min(days) if days else None


def report_check_month(month: date) -> None:
    """A month in the future, or one that ended before the first order or ticket, has no
    report: 400 in Chinese."""
    if month > timezone.localdate().replace(day=1):
        raise ApplicationError(
            _("%(month)s 尚未到来，无法生成月报。") % {"month": f"{month:%Y年%m月}"},
            code="month_in_future",
            status=400,
        )
    first = _first_data_day()
    if first is None or next_month(month) <= first:
        raise ApplicationError(
            _("%(month)s 没有任何订单或工单数据（最早的数据在 %(first)s），无法生成月报。")
            % {"month": f"{month:%Y年%m月}", "first": f"{first:%Y-%m-%d}" if first else "—"},
            code="month_before_data",
            status=400,
        )


def _failed_section(section: Any, error: BaseException) -> dict[str, Any]:
    return {
        "key": section.key,
        "title": str(section.title),
        "figures": [],
        "tables": [],
        "charts": [],
        "notes": [],
        "failed": True,
        "error": f"{type(error).__name__}: {error}"[:500],
    }


def report_build(*, month: date, report_settings: ReportSettings | None = None) -> dict[str, Any]:
    """Build every registered section in order into the report's "customers" and "sections".
    A section that raises is recorded as failed (and logged); the others still build."""
    start, end = month_bounds(month)
    ctx = ReportContext(
        month=month,
        start=start,
        end=end,
        settings=report_settings or ReportSettings.load(),
        shared={},
    )
    built: list[dict[str, Any]] = []
    for section in sections():
        try:
            # A savepoint: on PostgreSQL a failed query would otherwise poison the transaction
            # for every section after it.
            with transaction.atomic():
                result = section.build(ctx)
        except Exception as exc:
            logger.exception("monthly report %s: section %s failed", f"{month:%Y-%m}", section.key)
            built.append(_failed_section(section, exc))
            continue
        data = result.as_dict()
        data["failed"] = False
        data["error"] = ""
        built.append(data)
    movements = ctx.shared.get("movements")
    customers: dict[str, list[dict[str, Any]]] = {key: [] for key in STATUS_KEYS}
    if movements is not None:
        customers.update({key: list(rows) for key, rows in movements.api_dict().items()})
    return {"customers": customers, "sections": built}


def report_generate(*, month: date, actor: User | None, trigger: str) -> MonthlyReport:
    """Generate the report of ``month`` from the data as it is now and archive it (a new row,
    which becomes the month's current report). ``actor`` None is the worker."""
    month = month.replace(day=1)
    if trigger not in MonthlyReport.Trigger.values:
        raise ApplicationError(_("未知的生成方式。"), code="bad_trigger", status=400)
    # Reading a month nobody generated yet generates it (the API's contract, and the page's),
    # so anyone who may read the report may cause its first copy; regenerating a month already
    # archived needs the permission.
    if actor is not None:
        require_report_view(actor)
        if (
            not actor.has_perm("reports.generate_monthlyreport")
            and report_current(month=month) is not None
        ):
            raise Forbidden(_("您没有重新生成客服月报的权限。"))
    report_check_month(month)
    began = time.perf_counter()
    body = report_build(month=month)
    generated_at = timezone.localtime(timezone.now(), business_tz())
    content = {
        "month": f"{month:%Y-%m}",
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "generated_by": (actor.display_name or actor.get_username()) if actor else None,
        "trigger": trigger,
        **body,
    }
    duration_ms = int((time.perf_counter() - began) * 1000)
    with transaction.atomic():
        report = MonthlyReport.objects.create(
            month=month,
            content=content,
            generated_at=generated_at,
            generated_by=actor,
            trigger=trigger,
            duration_ms=duration_ms,
        )
        if actor is not None:  # the worker's runs are in the archive, with no one to name
            audit_record(
                actor=actor,
                action=AuditEvent.Action.CREATE,
                target=report,
                changes={
                    "month": content["month"],
                    "trigger": trigger,
                    "failed_sections": [s["key"] for s in body["sections"] if s["failed"]],
                },
            )
    logger.info("monthly report %s generated in %d ms", content["month"], duration_ms)
    return report


def report_current(*, month: date) -> MonthlyReport | None:
    """The month's current report: the latest archived one, or None."""
    return (
        MonthlyReport.objects.filter(month=month.replace(day=1))
        .select_related("generated_by")
        .order_by("-generated_at", "-id")
        .first()
    )


def report_get_or_generate(
    *, month: date, actor: User, trigger: str, refresh: bool = False
) -> MonthlyReport:
    """The archived report of the month if there is one (unless ``refresh``), else a new one."""
    require_report_view(actor)
    if refresh:
        if not actor.has_perm("reports.generate_monthlyreport"):
            raise Forbidden(_("您没有重新生成客服月报的权限。"))
        return report_generate(month=month, actor=actor, trigger=trigger)
    current = report_current(month=month)
    if current is not None:
        return current
    return report_generate(month=month, actor=actor, trigger=trigger)


def require_report_view(user: User) -> None:
    if not user.has_perm("reports.view_monthlyreport"):
        raise Forbidden(_("您没有查看客服月报的权限。"))


def report_get(*, report_id: int, user: User) -> MonthlyReport:
    require_report_view(user)
    report = MonthlyReport.objects.select_related("generated_by").filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("月报不存在。"))
    return report


def report_archive_list(*, user: User) -> Any:
    """Archived reports, newest month first, the content left out (it can be large)."""
    require_report_view(user)
    return (
        MonthlyReport.objects.select_related("generated_by")
        .defer("content")
        .order_by("-month", "-generated_at", "-id")
    )


def report_export_audit(*, actor: User, report: MonthlyReport, fmt: str) -> None:
    """One EXPORT event per download: who, which month, which archived copy, which format."""
    require_report_view(actor)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        target=report,
        field="content",
        changes={"month": report.month_key, "format": fmt, "report_id": report.pk},
        note=_("导出客服月报 %(month)s（%(format)s）")
        % {"month": report.month_key, "format": fmt.upper()},
    )


@transaction.atomic
def report_settings_update(*, actor: User, data: dict[str, Any]) -> ReportSettings:
    """Change the report settings: all checked (Chinese errors per field) before anything is
    saved, one audit event with the old and new values of what changed."""
    if not actor.has_perm("reports.change_reportsettings"):
        raise Forbidden(_("您没有修改月报设置的权限。"))
    unknown = sorted(set(data) - set(SETTINGS_FIELDS))
    if unknown:
        raise ApplicationError(
            _("未知的设置项：%(names)s") % {"names": "、".join(unknown)}, code="unknown_field"
        )
    row = ReportSettings.objects.select_for_update().get(pk=ReportSettings.load().pk)
    before = {name: getattr(row, name) for name in SETTINGS_FIELDS}
    for name, value in data.items():
        setattr(row, name, value)
    try:
        row.full_clean(exclude=["updated_by"])
    except ValidationError as exc:
        fields = {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
        raise ApplicationError(
            _("设置有误，未保存：请按提示修改。"), code="invalid", status=422, fields=fields
        ) from None
    changed = {
        name: [str(before[name]), str(getattr(row, name))]
        for name in SETTINGS_FIELDS
        if before[name] != getattr(row, name)
    }
    row.updated_by = actor
    row.save()
    if changed:
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=row, changes=changed)
    return row
