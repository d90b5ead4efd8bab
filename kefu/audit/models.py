"""The audit log: who did what to which record, when, from where. Append-only.

Append-only is enforced three times: the model refuses save-on-existing and delete, the queryset
refuses update/delete, and a database trigger (migration 0002) refuses UPDATE/DELETE on both
SQLite and PostgreSQL, so not even raw SQL from the application can rewrite history.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("创建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        REVEAL = "reveal", _("查看明文")
        EXPORT = "export", _("导出")
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOGOUT = "logout", _("退出")
        TOKEN = "token", _("签发令牌")

    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        # The log outlives the staff it names: deleting a user leaves their events as they are
        # (SET_NULL would be an UPDATE, which the append-only trigger refuses, so the delete
        # failed); actor_name keeps who it was.
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, db_index=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    field = models.CharField(_("字段"), max_length=64, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=300, blank=True)
    channel = models.CharField(_("渠道"), max_length=16, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    objects: ClassVar[models.Manager[AuditEvent]] = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-created_at"])]
        default_permissions = ("view",)

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M:%S}"
        return f"{when} {self.actor_name} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")

    @property
    def object_type_display(self) -> str:
        """customers.customer → 客户 (the model's name in the reader's language)."""
        from django.apps import apps

        try:
            return str(apps.get_model(self.object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return self.object_type

    @property
    def changes_display(self) -> list[tuple[str, str]]:
        """(field, text) pairs; an update shows "old → new", lists are joined with commas."""

        def text(value: Any) -> str:
            if value is None or value == "":
                return "—"
            if isinstance(value, list):
                return ", ".join(text(item) for item in value)
            return str(value)

        pairs = []
        for key, value in (self.changes or {}).items():
            if self.action == self.Action.UPDATE and isinstance(value, list) and len(value) == 2:
                pairs.append((key, f"{text(value[0])} → {text(value[1])}"))
            else:
                pairs.append((key, text(value)))
        return pairs
