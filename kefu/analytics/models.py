"""The monthly service costs that cost per contact divides (domain.md §2)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel


class ServiceCost(TimeStampedModel):
    """One month's cost of one kind for the whole service center (no one-off projects)."""

    class Category(models.TextChoices):
        STAFF = "staff", _("人工")
        TELEPHONY = "telephony", _("通信")
        HOTLINE_400 = "hotline_400", _("400话费")
        SMS = "sms", _("短信")
        SOFTWARE = "software", _("软件")
        OVERHEAD = "overhead", _("其他")

    month = models.DateField(_("月份"))  # the first day of the month
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    amount = models.DecimalField(
        _("金额（元）"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("服务成本")
        verbose_name_plural = _("服务成本")
        ordering = ["-month", "category"]
        permissions = [("view_kpis", _("可查看服务指标与看板"))]
        constraints = [
            models.UniqueConstraint(fields=["month", "category"], name="uniq_service_cost"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="service_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.get_category_display()}"
