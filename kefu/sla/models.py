"""SLA data (domain.md §5): the company's calendar overrides on top of the statutory calendar,
business hours per team, SLA policies and the complaint closing deadlines. All of it is edited
in the UI; the engine (kefu.sla.engine) reads it once per process and caches it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from kefu.core.exceptions import ApplicationError
from kefu.core.models import TimeStampedModel
from kefu.customers.models import Customer
from kefu.sla.hours import DEFAULT_INTERVALS, intervals_clean


class TicketType(models.TextChoices):
    INQUIRY = "inquiry", _("咨询")
    COMPLAINT = "complaint", _("投诉")
    ORDER = "order", _("下单")
    CLAIM = "claim", _("理赔")
    ARBITRATION = "arbitration", _("仲裁")
    REPAIR = "repair", _("报修")
    SUGGESTION = "suggestion", _("建议")


class Priority(models.TextChoices):
    # Lowest first: a tier bump moves a ticket this many places to the right (capped at urgent).
    LOW = "low", _("低（P4）")
    NORMAL = "normal", _("普通（P3）")
    HIGH = "high", _("高（P2）")
    URGENT = "urgent", _("紧急（P1）")


class ComplaintLevel(models.TextChoices):
    GENERAL = "general", _("一般")
    SERIOUS = "serious", _("严重")
    MAJOR = "major", _("重大")


class HolidayNotice(TimeStampedModel):
    """A year's State Council holiday notice (国务院办公厅部分节假日安排通知) entered by hand,
    for a year the holiday package does not know yet. Its days are CalendarDay rows."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    title = models.CharField(_("通知文号/标题"), max_length=200, blank=True)
    # What was entered, to show and re-edit the notice: [{"name", "start", "end"}] and
    # [{"date", "name"}], ISO dates.
    periods = models.JSONField(_("放假安排"), default=list, blank=True)
    makeup_days = models.JSONField(_("调休上班日"), default=list, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("节假日安排通知")
        verbose_name_plural = _("节假日安排通知")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} {self.title}".strip()


class CalendarDay(TimeStampedModel):
    """One day whose working status differs from (or is missing in) the statutory data: a company
    adjustment (notice = null) or a day of a hand-entered notice. Rows win over the package."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    name = models.CharField(_("名称"), max_length=64, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    notice = models.ForeignKey(
        HolidayNotice,
        verbose_name=_("来源通知"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="days",
    )

    class Meta:
        verbose_name = _("日历调整")
        verbose_name_plural = _("日历调整")
        ordering = ["date"]
        permissions = [("manage_calendar", _("可维护工作日历和节假日安排"))]

    def __str__(self) -> str:
        state = _("上班") if self.is_workday else _("休息")
        return f"{self.date:%Y-%m-%d} {state} {self.name}".strip()


def _default_intervals() -> list[list[str]]:
    return [list(pair) for pair in DEFAULT_INTERVALS]


class BusinessHours(TimeStampedModel):
    """Opening hours of a team; the row without a team is the company default."""

    team = models.OneToOneField(
        "org.Team",
        verbose_name=_("班组"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="business_hours",
        help_text=_("留空表示公司默认营业时间"),
    )
    intervals = models.JSONField(
        _("营业时段"), default=_default_intervals, help_text=_("每个工作日的营业时段")
    )
    follow_calendar = models.BooleanField(
        _("按工作日历"),
        default=True,
        help_text=_("勾选：只在法定工作日（含调休上班日）营业；不勾选：每天都按上述时段营业"),
    )

    class Meta:
        verbose_name = _("营业时间")
        verbose_name_plural = _("营业时间")
        ordering = ["team_id"]
        constraints = [
            # NULLs are distinct in a plain unique index: coalesce so there is one default row.
            models.UniqueConstraint(
                Coalesce("team", models.Value(0)), name="one_business_hours_per_team"
            )
        ]

    def __str__(self) -> str:
        return str(self.team) if self.team_id else str(_("公司默认"))

    def clean(self) -> None:
        try:
            self.intervals = intervals_clean(self.intervals or [])
        except ApplicationError as exc:
            raise ValidationError({"intervals": exc.fields["intervals"]}) from exc
        if self.team_id is None:
            others = BusinessHours.objects.filter(team__isnull=True).exclude(pk=self.pk)
            if others.exists():
                raise ValidationError({"team": _("公司默认营业时间已存在，请直接修改它。")})


DURATION_HELP = _(
    "时:分:秒，例如 08:00:00；按营业时间计时时 8 小时即 1 个工作日（24:00:00 = 3 个工作日）"
)


class SlaPolicy(TimeStampedModel):
    """Targets for tickets matching type × priority × tier (blank = any). The most specific
    active match wins, ties go to the lowest id. ``code`` ties a policy to a tier benefit
    (TierLevel.sla_policy): customers of that tier get the policies carrying their code first."""

    name = models.CharField(_("名称"), max_length=64)
    code = models.CharField(
        _("策略代码"),
        max_length=32,
        blank=True,
        db_index=True,
        help_text=_("与客户等级权益中的“SLA策略”一致时优先采用；留空为通用策略"),
    )
    ticket_type = models.CharField(
        _("工单类型"), max_length=16, choices=TicketType.choices, blank=True
    )
    priority = models.CharField(_("优先级"), max_length=16, choices=Priority.choices, blank=True)
    tier = models.CharField(_("客户等级"), max_length=16, choices=Customer.Tier.choices, blank=True)
    response_target = models.DurationField(_("首次响应时限"), help_text=DURATION_HELP)
    resolution_target = models.DurationField(_("解决时限"), help_text=DURATION_HELP)
    business_hours = models.BooleanField(
        _("按营业时间计时"), default=True, help_text=_("不勾选则 7×24 小时计时")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("SLA策略")
        verbose_name_plural = _("SLA策略")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def specificity(self) -> int:
        return sum(1 for value in (self.ticket_type, self.priority, self.tier) if value)

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        for field in ("response_target", "resolution_target"):
            value = getattr(self, field)
            if value is not None and value <= timedelta(0):
                errors[field] = _("时限必须大于 0。")
        if (
            not errors
            and self.response_target is not None
            and self.resolution_target is not None
            and self.response_target > self.resolution_target
        ):
            errors["response_target"] = _("首次响应时限不能长于解决时限。")
        if errors:
            raise ValidationError(errors)


class ComplaintDeadline(TimeStampedModel):
    """Working days to close a complaint, by level (domain.md §4.2: 5 / 10 / 15)."""

    level = models.CharField(
        _("投诉等级"), max_length=16, choices=ComplaintLevel.choices, unique=True
    )
    close_workdays = models.PositiveSmallIntegerField(_("结案时限（工作日）"))

    class Meta:
        verbose_name = _("投诉结案时限")
        verbose_name_plural = _("投诉结案时限")
        ordering = ["close_workdays"]

    def __str__(self) -> str:
        return f"{self.get_level_display()}: {self.close_workdays}"

    def clean(self) -> None:
        if self.close_workdays is not None and self.close_workdays < 1:
            raise ValidationError({"close_workdays": _("结案时限至少 1 个工作日。")})
