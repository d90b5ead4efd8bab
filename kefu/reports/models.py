from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel

if TYPE_CHECKING:
    from kefu.reports.movements import MovementRules

# Every field of kefu.reports.movements.MovementRules, in its order (the settings form and the
# audit event list them in this order too).
MOVEMENT_RULE_FIELDS = (
    "min_orders_t12",
    "min_revenue_t12",
    "seasonal_base_months",
    "default_gap_days",
    "churn_min_days",
    "churn_gap_multiple",
    "at_risk_min_days",
    "at_risk_gap_multiple",
    "at_risk_margin",
    "rising_ratio",
    "rising_min_delta",
    "falling_ratio",
    "falling_min_delta",
    "severe_drop",
    "anomaly_z",
    "anomaly_min_months",
    "big_order_multiple",
    "overdue_days",
    "exposure_ratio",
    "complaints_in_month",
    "complaint_open_days",
    "category_share_points",
)
UNIT_COST_FIELDS = ("unit_cost_ticket", "unit_cost_call", "unit_cost_repair")
SETTINGS_FIELDS = MOVEMENT_RULE_FIELDS + UNIT_COST_FIELDS


def _money(label: Any, default: str) -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(label, max_digits=14, decimal_places=2, default=Decimal(default))


def _ratio(label: Any, default: str) -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(label, max_digits=8, decimal_places=4, default=Decimal(default))


class ReportSettings(models.Model):
    """The one row of report settings a manager edits: the customer-movement thresholds of
    domain.md §3 (what MovementRules carries) and the unit costs of serving a customer that the
    profitability section charges. ``load()`` returns it, creating it with the defaults."""

    min_orders_t12 = models.PositiveIntegerField(_("近12月最少订单数"), default=2)
    min_revenue_t12 = _money(_("近12月最低订单额（元）"), "10000")
    seasonal_base_months = models.PositiveIntegerField(
        _("满多少个月历史用去年同期（Y3）作基数"), default=15
    )
    default_gap_days = models.PositiveIntegerField(_("默认下单间隔（天）"), default=90)
    churn_min_days = models.PositiveIntegerField(_("流失：最少未下单天数"), default=180)
    churn_gap_multiple = _ratio(_("流失：下单间隔倍数"), "3")
    at_risk_min_days = models.PositiveIntegerField(_("流失预警：最少未下单天数"), default=45)
    at_risk_gap_multiple = _ratio(_("流失预警：下单间隔倍数"), "2")
    at_risk_margin = _ratio(_("流失预警：距流失线的比例"), "0.20")
    rising_ratio = _ratio(_("上升：近3月与基数之比下限"), "1.2")
    rising_min_delta = _money(_("上升：最少增加额（元）"), "5000")
    falling_ratio = _ratio(_("下降：近3月与基数之比上限"), "0.8")
    falling_min_delta = _money(_("下降：最少减少额（元）"), "5000")
    severe_drop = _ratio(_("严重下降：近3月与基数之比上限"), "0.5")
    anomaly_z = _ratio(_("异动：稳健Z值阈值"), "3.5")
    anomaly_min_months = models.PositiveIntegerField(_("异动：最少历史月数"), default=6)
    big_order_multiple = _ratio(_("异动：大单倍数"), "3")
    overdue_days = models.PositiveIntegerField(_("异动：新增逾期超过天数"), default=30)
    exposure_ratio = _ratio(_("异动：信用占用达额度的比例"), "0.9")
    complaints_in_month = models.PositiveIntegerField(_("异动：当月有效投诉数"), default=2)
    complaint_open_days = models.PositiveIntegerField(_("异动：投诉未结超过天数"), default=15)
    category_share_points = _ratio(_("异动：主品类占比变化（百分点）"), "30")
    unit_cost_ticket = _money(_("每张工单服务成本（元）"), "30.00")
    unit_cost_call = _money(_("每通电话服务成本（元）"), "8.00")
    unit_cost_repair = _money(_("每张维修工单服务成本（元）"), "150.00")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("月报设置")
        verbose_name_plural = _("月报设置")

    def __str__(self) -> str:
        return str(_("月报设置"))

    @classmethod
    def load(cls) -> ReportSettings:
        row, _created = cls.objects.get_or_create(pk=1)
        return row

    def movement_rules(self) -> MovementRules:
        """The thresholds as a kefu.reports.movements.MovementRules (imported here, not at load
        time: the classifier brings numpy)."""
        from kefu.reports.movements import MovementRules

        return MovementRules(**{name: getattr(self, name) for name in MOVEMENT_RULE_FIELDS})

    def clean(self) -> None:
        """Ranges that keep the rules meaningful; Chinese messages per field."""
        errors: dict[str, list[Any]] = {}

        def need(ok: bool, name: str, message: Any) -> None:
            if not ok:
                errors.setdefault(name, []).append(message)

        need(self.min_orders_t12 >= 1, "min_orders_t12", _("至少为 1。"))
        for name in ("min_revenue_t12", "rising_min_delta", "falling_min_delta", *UNIT_COST_FIELDS):
            need(getattr(self, name) >= 0, name, _("金额不能为负数。"))
        for name in (
            "default_gap_days",
            "churn_min_days",
            "at_risk_min_days",
            "overdue_days",
            "complaint_open_days",
        ):
            need(1 <= getattr(self, name) <= 3650, name, _("天数须在 1 到 3650 之间。"))
        need(
            3 <= self.seasonal_base_months <= 120, "seasonal_base_months", _("须在 3 到 120 之间。")
        )
        need(3 <= self.anomaly_min_months <= 60, "anomaly_min_months", _("须在 3 到 60 之间。"))
        need(self.complaints_in_month >= 1, "complaints_in_month", _("至少为 1。"))
        for name in ("churn_gap_multiple", "at_risk_gap_multiple", "big_order_multiple"):
            need(getattr(self, name) >= 1, name, _("倍数不能小于 1。"))
        need(
            self.churn_gap_multiple >= self.at_risk_gap_multiple,
            "churn_gap_multiple",
            _("流失的间隔倍数不能小于流失预警的间隔倍数。"),
        )
        need(
            self.churn_min_days > self.at_risk_min_days,
            "churn_min_days",
            _("流失的最少天数须大于流失预警的最少天数。"),
        )
        need(0 <= self.at_risk_margin < 1, "at_risk_margin", _("须在 0 到 1 之间（如 0.20）。"))
        need(self.rising_ratio > 1, "rising_ratio", _("上升比例须大于 1（如 1.2）。"))
        need(0 < self.falling_ratio < 1, "falling_ratio", _("下降比例须在 0 到 1 之间（如 0.8）。"))
        need(
            0 < self.severe_drop < self.falling_ratio,
            "severe_drop",
            _("严重下降比例须大于 0 且小于下降比例。"),
        )
        need(0 < self.anomaly_z <= 20, "anomaly_z", _("Z值阈值须大于 0 且不超过 20。"))
        need(
            0 < self.exposure_ratio <= 1,
            "exposure_ratio",
            _("须大于 0 且不超过 1（如 0.9）。"),
        )
        need(
            0 < self.category_share_points <= 100,
            "category_share_points",
            _("须大于 0 且不超过 100 个百分点。"),
        )
        if errors:
            raise ValidationError(errors)


class MonthlyReport(TimeStampedModel):
    """One archived monthly report. A refresh archives a new row; the latest one of a month
    (by generated_at) is the month's current report, the older ones stay as history."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("定时生成")
        MANUAL = "manual", _("手工生成")
        API = "api", _("接口生成")

    month = models.DateField(_("月份"))  # the first day of the month
    content = models.JSONField(_("内容"), default=dict)
    generated_at = models.DateTimeField(_("生成时间"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,  # null: the worker (scheduled)
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    trigger = models.CharField(_("触发方式"), max_length=16, choices=Trigger.choices)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)

    class Meta:
        verbose_name = _("客服月报")
        verbose_name_plural = _("客服月报")
        ordering = ["-month", "-generated_at", "-id"]
        indexes = [models.Index(fields=["month", "-generated_at"], name="monthlyreport_month")]
        permissions = [("generate_monthlyreport", _("可生成客服月报"))]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.generated_at:%Y-%m-%d %H:%M})"

    @property
    def month_key(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def generated_by_name(self) -> str:
        if self.generated_by is None:
            return str(_("系统定时任务"))
        return self.generated_by.display_name or self.generated_by.get_username()
