from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel


class Department(TimeStampedModel):
    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Team(TimeStampedModel):
    name = models.CharField(_("名称"), max_length=64, unique=True)
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="teams"
    )

    class Meta:
        verbose_name = _("班组")
        verbose_name_plural = _("班组")
        ordering = ["department_id", "name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of staff. Roles are Django groups (see kefu.org.roles)."""

    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    employee_no = models.CharField(_("工号"), max_length=32, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )
    teams: models.ManyToManyField[Team, Membership] = models.ManyToManyField(
        Team, verbose_name=_("班组"), through="Membership", related_name="members", blank=True
    )

    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("员工")
        verbose_name_plural = _("员工")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name or self.username


class Membership(TimeStampedModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    is_lead = models.BooleanField(_("组长"), default=False)

    class Meta:
        verbose_name = _("班组成员")
        verbose_name_plural = _("班组成员")
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="uniq_membership")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.team}"
