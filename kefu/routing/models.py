"""Agent presence, skills and routing rules (routing, issue 4 §4).

Routing decides on plain attributes (ticket type, product, region, tier, customer id) and never
imports the desk: the desk asks ``kefu.routing.engine.route`` and stores the answer.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel
from kefu.customers.models import Customer


class TicketType(models.TextChoices):
    """The ticket types of the desk (issue 4 §1), repeated here so that routing does not import
    the desk; a rule matches on these codes."""

    INQUIRY = "inquiry", _("咨询")
    COMPLAINT = "complaint", _("投诉")
    ORDER = "order", _("下单")
    CLAIM = "claim", _("理赔")
    ARBITRATION = "arbitration", _("仲裁")
    REPAIR = "repair", _("报修")
    SUGGESTION = "suggestion", _("建议")


class AgentPresence(TimeStampedModel):
    """The agent's current status; its history is in PresenceLog. Only ONLINE agents seen
    lately (``last_seen_at``) get work."""

    class Status(models.TextChoices):
        ONLINE = "online", _("在线")
        BUSY = "busy", _("忙碌")
        BREAK = "break", _("小休")
        OFFLINE = "offline", _("离线")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        on_delete=models.CASCADE,
        related_name="presence",
    )
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.OFFLINE, db_index=True
    )
    since = models.DateTimeField(_("状态开始时间"), default=timezone.now)
    note = models.CharField(_("说明"), max_length=100, blank=True)
    # When routing last gave this agent work: "longest idle" breaks least-loaded ties.
    last_routed_at = models.DateTimeField(_("最近分配时间"), null=True, blank=True)
    # When the agent's browser was last heard from (the top bar's heartbeat, written at most
    # once per KEFU_PRESENCE_HEARTBEAT_SECONDS): an online or busy agent not seen for
    # KEFU_PRESENCE_TIMEOUT_MINUTES is taken offline, and routing skips them before that.
    last_seen_at = models.DateTimeField(_("最近在线时间"), default=timezone.now)

    class Meta:
        verbose_name = _("坐席状态")
        verbose_name_plural = _("坐席状态")
        ordering = ["user_id"]
        permissions = [
            ("set_own_presence", _("设置自己的在线状态")),
            ("view_routing_board", _("查看坐席看板")),
            ("view_all_agents", _("查看全部班组的坐席")),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_status_display()}"


class PresenceLog(TimeStampedModel):
    """One period in one status: from ``started_at`` to ``ended_at`` (empty while it lasts).
    Occupancy and similar KPIs sum these periods."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        on_delete=models.CASCADE,
        related_name="presence_logs",
    )
    status = models.CharField(_("状态"), max_length=8, choices=AgentPresence.Status.choices)
    started_at = models.DateTimeField(_("从"))
    ended_at = models.DateTimeField(_("至"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("坐席状态记录")
        verbose_name_plural = _("坐席状态记录")
        ordering = ["user_id", "started_at", "id"]
        indexes = [models.Index(fields=["user", "started_at"], name="routing_plog_user_start")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_status_display()} · {self.started_at:%Y-%m-%d %H:%M}"


class Skill(TimeStampedModel):
    code = models.CharField(
        _("编码"),
        max_length=32,
        unique=True,
        validators=[
            RegexValidator(r"^[a-z0-9][a-z0-9_-]*$", _("编码只能包含小写字母、数字、_ 和 -。"))
        ],
    )
    name = models.CharField(_("名称"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("技能")
        verbose_name_plural = _("技能")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class AgentSkill(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        on_delete=models.CASCADE,
        related_name="agent_skills",
    )
    skill = models.ForeignKey(
        Skill, verbose_name=_("技能"), on_delete=models.CASCADE, related_name="agents"
    )
    level = models.PositiveSmallIntegerField(
        _("熟练度"), default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        verbose_name = _("坐席技能")
        verbose_name_plural = _("坐席技能")
        ordering = ["user_id", "skill__code"]
        constraints = [
            models.UniqueConstraint(fields=["user", "skill"], name="routing_uniq_agent_skill"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5),
                name="routing_skill_level_1_5",
                violation_error_message=_("熟练度必须是 1 到 5 的整数。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.skill} {self.level}"


class RoutingRule(TimeStampedModel):
    """Where a new ticket goes. Rules are tried by ``order`` (then id); blank match fields match
    anything. A rule names a target team, a required skill, or both."""

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("轮流分配")
        LEAST_LOADED = "least_loaded", _("负载最少优先")

    name = models.CharField(_("名称"), max_length=64, unique=True)
    order = models.PositiveIntegerField(_("顺序"), default=100, help_text=_("小的先匹配"))
    is_active = models.BooleanField(_("启用"), default=True)
    ticket_type = models.CharField(
        _("工单类型"), max_length=16, choices=TicketType.choices, blank=True
    )
    product = models.CharField(_("产品"), max_length=64, blank=True)
    region_prefix = models.CharField(
        _("地区前缀"), max_length=32, blank=True, help_text=_("如“华东”或行政区划代码“31”")
    )
    tier = models.CharField(_("客户等级"), max_length=16, choices=Customer.Tier.choices, blank=True)
    required_skill = models.ForeignKey(
        Skill,
        verbose_name=_("所需技能"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rules",
    )
    min_skill_level = models.PositiveSmallIntegerField(
        _("最低熟练度"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    team = models.ForeignKey(
        "org.Team",
        verbose_name=_("目标班组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="routing_rules",
    )
    strategy = models.CharField(
        _("分配方式"), max_length=16, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("分配规则")
        verbose_name_plural = _("分配规则")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team__isnull=False) | models.Q(required_skill__isnull=False),
                name="routing_rule_team_or_skill",
                violation_error_message=_("目标班组和所需技能至少要填一项。"),
            ),
            models.CheckConstraint(
                condition=models.Q(min_skill_level__gte=1, min_skill_level__lte=5),
                name="routing_rule_level_1_5",
                violation_error_message=_("最低熟练度必须是 1 到 5 的整数。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoutingCursor(models.Model):
    """The round-robin position of one rule (``rule:<id>``) or team (``team:<id>``): the agent
    who got the last item. Advanced under a row lock (see kefu.routing.engine)."""

    key = models.CharField(max_length=32, unique=True)
    last_user_id = models.BigIntegerField(null=True, blank=True)
    turns = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("轮流分配位置")
        verbose_name_plural = _("轮流分配位置")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
