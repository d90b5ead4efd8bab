"""/reports/: the month picker and archive, one month's report, downloads, the settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError, Forbidden, NotFound
from kefu.reports.exports import (
    month_label,
    movements_in_words,
    report_pdf,
    report_xlsx,
    shown_sections,
)
from kefu.reports.forms import ReportSettingsForm
from kefu.reports.models import MonthlyReport, ReportSettings
from kefu.reports.services import (
    month_bounds,
    month_parse,
    previous_month,
    report_archive_list,
    report_export_audit,
    report_generate,
    report_get,
    report_get_or_generate,
    report_settings_update,
    require_report_view,
)
from kefu.web.helpers import refuse, request_user

ARCHIVE_PAGE = 30
DOWNLOADS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@login_required
def report_index_view(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    try:
        archive = report_archive_list(user=user)
    except Forbidden as exc:
        return refuse(request, exc)
    wanted = request.GET.get("month")
    if wanted:
        try:
            month = month_parse(wanted)
        except ApplicationError as exc:
            return refuse(request, exc)
        return redirect("reports:monthly", month=f"{month:%Y-%m}")
    page = Paginator(archive, ARCHIVE_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/report_index.html",
        {
            "default_month": f"{previous_month():%Y-%m}",
            "page": page,
            "can_generate": user.has_perm("reports.generate_monthlyreport"),
            "can_settings": user.has_perm("reports.view_reportsettings"),
        },
    )


def _report_page(request: HttpRequest, report: MonthlyReport) -> HttpResponse:
    user = request_user(request)
    content = report.content
    sections = shown_sections(content)
    charts: list[dict[str, Any]] = []
    for section in sections:
        for chart in section.charts:
            chart["dom_id"] = f"chart-{section.key}-{chart['key']}"[:80]
            chart["data_id"] = f"{chart['dom_id']}-data"
            charts.append(chart)
    versions = list(
        MonthlyReport.objects.filter(month=report.month)
        .select_related("generated_by")
        .defer("content")
        .order_by("-generated_at", "-id")
    )
    return render(
        request,
        "reports/monthly_report.html",
        {
            "report": report,
            "content": content,
            "month_label": month_label(content["month"]),
            "movements": movements_in_words(content),
            "sections": sections,
            "charts": charts,
            "failed": [s for s in sections if s.failed],
            "versions": versions,
            "is_current": bool(versions) and versions[0].pk == report.pk,
            # generated before the month ended: its figures run to the moment of generation
            "partial": month_bounds(report.month)[1] > report.generated_at,
            "can_generate": user.has_perm("reports.generate_monthlyreport"),
        },
    )


@login_required
def monthly_report_view(request: HttpRequest, month: str) -> HttpResponse:
    user = request_user(request)
    try:
        report = report_get_or_generate(
            month=month_parse(month), actor=user, trigger=MonthlyReport.Trigger.MANUAL
        )
    except ApplicationError as exc:
        return refuse(request, exc)
    return _report_page(request, report)


@login_required
@require_POST
def monthly_report_regenerate_view(request: HttpRequest, month: str) -> HttpResponse:
    user = request_user(request)
    try:
        require_report_view(user)
        if not user.has_perm("reports.generate_monthlyreport"):
            raise Forbidden(_("您没有重新生成客服月报的权限。"))
        report = report_generate(
            month=month_parse(month), actor=user, trigger=MonthlyReport.Trigger.MANUAL
        )
    except ApplicationError as exc:
        return refuse(request, exc)
    messages.success(request, _("已按当前数据重新生成并存档。"))
    return redirect("reports:monthly", month=report.month_key)


@login_required
def archived_report_view(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        report = report_get(report_id=report_id, user=request_user(request))
    except NotFound:
        raise Http404(_("月报不存在。")) from None
    except ApplicationError as exc:
        return refuse(request, exc)
    return _report_page(request, report)


@login_required
def report_download_view(request: HttpRequest, report_id: int, fmt: str) -> HttpResponse:
    user = request_user(request)
    if fmt not in DOWNLOADS:
        raise Http404(_("不支持的导出格式。"))
    try:
        report = report_get(report_id=report_id, user=user)
        body = report_xlsx(report) if fmt == "xlsx" else report_pdf(report)
        report_export_audit(actor=user, report=report, fmt=fmt)
    except NotFound:
        raise Http404(_("月报不存在。")) from None
    except ApplicationError as exc:
        return refuse(request, exc)
    response = HttpResponse(body, content_type=DOWNLOADS[fmt])
    filename = f"kefu-monthly-report-{report.month_key}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def report_settings_view(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not user.has_perm("reports.view_reportsettings"):
        return refuse(request, Forbidden(_("您没有查看月报设置的权限。")))
    can_change = user.has_perm("reports.change_reportsettings")
    if request.method == "POST" and not can_change:
        return refuse(request, Forbidden(_("您没有修改月报设置的权限。")))
    current = ReportSettings.load()
    # A copy for the form: a rejected POST must not leave its values on the row we show.
    form = ReportSettingsForm(
        request.POST or None, instance=ReportSettings.objects.get(pk=current.pk)
    )
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report_settings_update(actor=user, data=dict(form.cleaned_data))
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(request, _("已保存月报设置，下次生成月报时生效。"))
                return redirect("reports:settings")
        status = 422
    return render(
        request,
        "reports/report_settings.html",
        {"form": form, "settings": current, "can_change": can_change},
        status=status,
    )
