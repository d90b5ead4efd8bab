"""Tier rules as data (分层分类): a manager edits them in the UI; the nightly task and an
explicit recompute apply them. Defaults follow domain.md §3."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel
from kefu.customers.models import Customer


class TierRuleSet(TimeStampedModel):
    class Measure(models.TextChoices):
        REVENUE = "revenue_t12", _("近12个月销售额")
        GROSS_PROFIT = "gross_profit_t12", _("近12个月毛利")
        ORDER_COUNT = "order_count_t12", _("近12个月订单数")
        CREDIT = "credit_grade", _("信用等级")
        WEIGHTED = "weighted", _("加权综合分")

    class Method(models.TextChoices):
        RANKING = "ranking", _("ABC累计排名")
        THRESHOLDS = "thresholds", _("固定阈值")

    name = models.CharField(_("名称"), max_length=64, unique=True)
    measure = models.CharField(
        _("衡量指标"), max_length=32, choices=Measure.choices, default=Measure.GROSS_PROFIT
    )
    method = models.CharField(
        _("分层方法"), max_length=16, choices=Method.choices, default=Method.RANKING
    )
    # weighted: {"revenue_t12": 0.5, "gross_profit_t12": 0.3, "order_count_t12": 0.1,
    # "credit_grade": 0.1}; each measure is scaled to 0-100 by percentile rank first.
    weights = models.JSONField(_("权重"), default=dict, blank=True)
    # ranking: cumulative cuts of the measure (A up to 70%, B up to 90%, C the rest) and the
    # top share of A by rank that becomes diamond.
    cut_a = models.DecimalField(
        _("A类累计占比"), max_digits=5, decimal_places=4, default=Decimal("0.70")
    )
    cut_b = models.DecimalField(
        _("B类累计占比"), max_digits=5, decimal_places=4, default=Decimal("0.90")
    )
    diamond_share = models.DecimalField(
        _("A类中钻石占比"), max_digits=5, decimal_places=4, default=Decimal("0.05")
    )
    apply_credit_caps = models.BooleanField(_("信用封顶（C级最高银，D级普通）"), default=True)
    is_active = models.BooleanField(_("启用"), default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("分层规则")
        verbose_name_plural = _("分层规则")
        ordering = ["-is_active", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_rule_set"
            )
        ]
        permissions = [("recompute_tiers", _("可重新计算客户等级"))]

    def __str__(self) -> str:
        return self.name


class TierLevel(TimeStampedModel):
    """One tier of a rule set, with the benefits (权益) later issues read: SLA policy,
    follow-up frequency, discount, dedicated team."""

    rule_set = models.ForeignKey(TierRuleSet, on_delete=models.CASCADE, related_name="levels")
    tier = models.CharField(_("等级"), max_length=16, choices=Customer.Tier.choices)
    # thresholds method: the measure's lower bound (inclusive); ordinary has none.
    min_value = models.DecimalField(
        _("下限"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    sla_policy = models.CharField(_("SLA策略"), max_length=32, blank=True)
    priority_bump = models.PositiveSmallIntegerField(_("优先级提升档数"), default=0)
    followup_days = models.PositiveSmallIntegerField(_("回访周期（天）"), null=True, blank=True)
    discount_rate = models.DecimalField(
        _("折扣率"), max_digits=5, decimal_places=4, default=Decimal("0")
    )
    dedicated_team = models.ForeignKey(
        "org.Team",
        verbose_name=_("专属服务班组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("等级与权益")
        verbose_name_plural = _("等级与权益")
        ordering = ["rule_set_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "tier"], name="uniq_tier_per_rule_set")
        ]

    def __str__(self) -> str:
        return self.get_tier_display()


class CustomerTierState(models.Model):
    """Per-customer bookkeeping for hysteresis and pins (one row per customer that has been
    evaluated). The customer's current tier itself lives on Customer.tier."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="tier_state", primary_key=True
    )
    computed_tier = models.CharField(max_length=16, choices=Customer.Tier.choices)
    measure_value = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    # Downgrades wait two low quarters: the quarter (e.g. "2026Q3") the computed tier was first
    # seen below the current one, and how many distinct quarters it has stayed there.
    low_since_quarter = models.CharField(max_length=7, blank=True)
    low_quarters = models.PositiveSmallIntegerField(default=0)
    last_low_quarter = models.CharField(max_length=7, blank=True)
    pinned_tier = models.CharField(
        _("人工指定等级"), max_length=16, choices=Customer.Tier.choices, blank=True
    )
    pin_reason = models.CharField(_("指定原因"), max_length=200, blank=True)
    pin_expires_on = models.DateField(_("指定到期日"), null=True, blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("客户分层状态")
        verbose_name_plural = _("客户分层状态")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.computed_tier}"


class TierChange(TimeStampedModel):
    class Kind(models.TextChoices):
        NIGHTLY = "nightly", _("每日自动计算")
        RECOMPUTE = "recompute", _("手工重算")
        PIN = "pin", _("人工指定")
        UNPIN = "unpin", _("取消指定/到期")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.CharField(_("原等级"), max_length=16, choices=Customer.Tier.choices)
    to_tier = models.CharField(_("新等级"), max_length=16, choices=Customer.Tier.choices)
    kind = models.CharField(_("方式"), max_length=16, choices=Kind.choices)
    reason = models.CharField(_("原因"), max_length=300)
    figures = models.JSONField(_("依据数据"), default=dict)
    rule_set = models.ForeignKey(
        TierRuleSet, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("等级变更记录")
        verbose_name_plural = _("等级变更记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="tierchange_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_tier} → {self.to_tier}"
