"""Credit management (信用管理, domain.md §3): the scorecard's configuration and the change log.
The grade, score, limit and exposure themselves are on Customer (read by lists and the API)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel
from kefu.credit.scorecard import default_policy as scorecard_default_policy
from kefu.customers.models import Customer


def default_policy() -> dict[str, object]:
    """domain.md §3 defaults (kefu.credit.scorecard.default_policy; docs/credit.md)."""
    return scorecard_default_policy()


class CreditPolicy(TimeStampedModel):
    """The scorecard in force (one row; edited by finance or a manager)."""

    config = models.JSONField(_("评分参数"), default=default_policy)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("信用评分规则")
        verbose_name_plural = _("信用评分规则")

    def __str__(self) -> str:
        return str(_("信用评分规则"))


class CreditChange(TimeStampedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="credit_changes")
    field = models.CharField(_("项目"), max_length=32)  # grade, limit, factors, hold
    old_value = models.CharField(_("原值"), max_length=64, blank=True)
    new_value = models.CharField(_("新值"), max_length=64, blank=True)
    reason = models.CharField(_("原因"), max_length=300)
    figures = models.JSONField(_("依据数据"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("信用变更记录")
        verbose_name_plural = _("信用变更记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="creditchange_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.field} {self.old_value} → {self.new_value}"
