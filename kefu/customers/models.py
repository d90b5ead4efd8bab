from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel
from kefu.core.phones import mask_mobile, national_mobile


class Customer(TimeStampedModel):
    class Kind(models.TextChoices):
        COMPANY = "company", _("企业")
        PERSON = "person", _("个人")

    name = models.CharField(_("客户名称"), max_length=100, db_index=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.COMPANY)
    region = models.CharField(_("地区"), max_length=64, blank=True, db_index=True)
    industry = models.CharField(_("行业"), max_length=64, blank=True)
    note = models.TextField(_("备注"), blank=True, max_length=2000)
    # Denormalised copy of the primary contact's mobile (E.164), kept by the services so that
    # the list and the caller-ID lookup read one table.
    mobile = models.CharField(_("手机"), max_length=16, blank=True, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责销售"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
    )
    serving_team = models.ForeignKey(
        "org.Team",
        verbose_name=_("服务班组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["-id"]
        permissions = [
            ("view_all_customers", _("可查看全部客户")),
            ("view_department_customers", _("可查看本部门客户")),
            ("reveal_contact", _("可查看完整联系方式")),
            ("export_customers", _("可导出客户")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def mobile_masked(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def mobile_national(self) -> str:
        return national_mobile(self.mobile)


class Contact(TimeStampedModel):
    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("姓名"), max_length=64, blank=True)
    title = models.CharField(_("职务"), max_length=64, blank=True)
    mobile = models.CharField(_("手机"), max_length=16, blank=True, db_index=True)
    email = models.EmailField(_("邮箱"), blank=True)
    is_primary = models.BooleanField(_("主联系人"), default=False)

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_primary=True),
                name="one_primary_contact_per_customer",
            )
        ]

    def __str__(self) -> str:
        return self.name or mask_mobile(self.mobile)

    @property
    def mobile_masked(self) -> str:
        return mask_mobile(self.mobile)
