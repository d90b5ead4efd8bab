"""The agent's workspace (issue 4 item 9): canned replies and macros. Queues, bulk actions,
merge, the customer side panel and the live load read and write the desk's own tables through
its selectors and services; only what the desk does not have lives here."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel


class Scope(models.TextChoices):
    PERSONAL = "personal", _("个人")
    TEAM = "team", _("本组")
    EVERYONE = "everyone", _("全员")


class Shared(TimeStampedModel):
    """Who may use a canned reply or a macro: its owner alone, one team, or everyone. Personal
    ones are the owner's to change; team and everyone ones are the supervisors'."""

    title = models.CharField(_("标题"), max_length=100)
    scope = models.CharField(
        _("范围"), max_length=16, choices=Scope.choices, default=Scope.PERSONAL
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("所有人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    team = models.ForeignKey(
        "org.Team",
        verbose_name=_("班组"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    active = models.BooleanField(_("启用"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最后修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title


class CannedReply(Shared):
    """A reply text with variables ({客户名称}, {工单号} …, kefu.workspace.variables), checked
    when saved and filled in when used."""

    body = models.TextField(_("内容"), max_length=5000)

    class Meta:
        verbose_name = _("快捷回复")
        verbose_name_plural = _("快捷回复")
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(scope="personal") | Q(owner__isnull=False),
                name="workspace_reply_personal_owner",
            ),
            models.CheckConstraint(
                condition=~Q(scope="team") | Q(team__isnull=False),
                name="workspace_reply_team_team",
            ),
        ]


class Macro(Shared):
    """A canned reply plus actions, run on one ticket in one transaction through the desk's
    services: field changes first, then the reply and the internal note, then the status
    step (so "reply and resolve" resolves after the customer has been answered)."""

    reply = models.ForeignKey(
        CannedReply,
        verbose_name=_("快捷回复"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="macros",
    )
    reply_public = models.BooleanField(_("回复发给客户"), default=True)
    set_priority = models.CharField(_("设置优先级"), max_length=8, blank=True)
    set_team = models.ForeignKey(
        "org.Team",
        verbose_name=_("改派班组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    set_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("改派处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assign_to_self = models.BooleanField(_("分派给执行人"), default=False)
    transition_to = models.CharField(_("转到状态"), max_length=24, blank=True)
    note = models.TextField(_("内部备注"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("宏")
        verbose_name_plural = _("宏")
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(scope="personal") | Q(owner__isnull=False),
                name="workspace_macro_personal_owner",
            ),
            models.CheckConstraint(
                condition=~Q(scope="team") | Q(team__isnull=False),
                name="workspace_macro_team_team",
            ),
        ]
