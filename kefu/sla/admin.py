"""系统管理 screens for the SLA data. Every change is audited (AuditedAdmin) and drops the
engine's snapshot (post_save/post_delete signals, see apps.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kefu.core.exceptions import ApplicationError
from kefu.org.admin import AuditedAdmin
from kefu.sla.hours import intervals_parse_text, intervals_text
from kefu.sla.models import (
    BusinessHours,
    CalendarDay,
    ComplaintDeadline,
    HolidayNotice,
    SlaPolicy,
)


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedAdmin):
    list_display = ("date", "is_workday", "name", "note", "notice")
    list_filter = ("is_workday", "notice")
    search_fields = ("name", "note")
    date_hierarchy = "date"


@admin.register(HolidayNotice)
class HolidayNoticeAdmin(AuditedAdmin):
    list_display = ("year", "title", "entered_by", "updated_at")
    readonly_fields = ("periods", "makeup_days", "entered_by")


class BusinessHoursForm(forms.ModelForm[BusinessHours]):
    hours = forms.CharField(
        label=_("营业时段"),
        help_text=_("例如：09:00-12:00, 13:00-18:00（不可重叠，开始早于结束，可用 24:00）"),
    )

    class Meta:
        model = BusinessHours
        fields = ("team", "hours", "follow_calendar")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hours"].initial = intervals_text(self.instance.intervals or [])

    def clean_hours(self) -> list[list[str]]:
        try:
            return intervals_parse_text(self.cleaned_data["hours"])
        except ApplicationError as exc:
            raise forms.ValidationError(exc.fields.get("intervals") or [exc.message]) from exc

    def save(self, commit: bool = True) -> BusinessHours:
        self.instance.intervals = self.cleaned_data["hours"]
        return super().save(commit=commit)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "hours" in cleaned:  # before the model's clean() runs (ModelForm._post_clean)
            self.instance.intervals = cleaned["hours"]
        return cleaned


@admin.register(BusinessHours)
class BusinessHoursAdmin(AuditedAdmin):
    form = BusinessHoursForm
    list_display = ("__str__", "hours_display", "follow_calendar")

    @admin.display(description=_("营业时段"))
    def hours_display(self, obj: BusinessHours) -> str:
        return intervals_text(obj.intervals or [])


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedAdmin):
    list_display = (
        "name",
        "code",
        "ticket_type",
        "priority",
        "tier",
        "response_target",
        "resolution_target",
        "business_hours",
        "is_active",
    )
    list_filter = ("is_active", "business_hours", "ticket_type", "priority", "tier")
    search_fields = ("name", "code")


@admin.register(ComplaintDeadline)
class ComplaintDeadlineAdmin(AuditedAdmin):
    list_display = ("level", "close_workdays")
