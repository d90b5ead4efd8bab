from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel
from kefu.core.phones import mask_mobile, national_mobile


class Tag(TimeStampedModel):
    name = models.CharField(_("标签"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("客户标签")
        verbose_name_plural = _("客户标签")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(TimeStampedModel):
    class Kind(models.TextChoices):
        COMPANY = "company", _("企业")
        PERSON = "person", _("个人")

    class Stage(models.TextChoices):
        PROSPECT = "prospect", _("潜在客户")
        ACTIVE = "active", _("合作中")
        DORMANT = "dormant", _("休眠")
        ENDED = "ended", _("已终止合作")

    class Tier(models.TextChoices):
        # Value tiers of domain.md §3; the rule sets (kefu.tiering) decide who is where.
        DIAMOND = "diamond", _("钻石")
        GOLD = "gold", _("金")
        SILVER = "silver", _("银")
        ORDINARY = "ordinary", _("普通")

    class CreditGrade(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"
        D = "D", "D"

    class LegalRecord(models.TextChoices):
        UNKNOWN = "unknown", _("未知")
        CLEAN = "clean", _("无不良记录")
        MINOR = "minor", _("轻微纠纷")
        LAWSUIT = "lawsuit", _("被其他债权人起诉")

    code = models.CharField(
        _("客户编码"), max_length=32, null=True, blank=True, unique=True
    )  # the sales system's key; NULL for customers it does not know yet
    name = models.CharField(_("客户名称"), max_length=100, db_index=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.COMPANY)
    region = models.CharField(_("地区"), max_length=64, blank=True, db_index=True)
    industry = models.CharField(_("行业"), max_length=64, blank=True)
    source = models.CharField(_("客户来源"), max_length=64, blank=True)
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, blank=True, db_index=True
    )  # companies only; checked with its GB 32100-2015 check digit
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True)  # persons; masked
    lifecycle_stage = models.CharField(
        _("生命周期阶段"), max_length=16, choices=Stage.choices, default=Stage.ACTIVE
    )
    tags: models.ManyToManyField[Tag, Any] = models.ManyToManyField(
        Tag, verbose_name=_("标签"), related_name="customers", blank=True
    )
    note = models.TextField(_("备注"), blank=True, max_length=2000)
    # Marketing consent (PIPL art. 13-17, MIIT Order 31): a record, not just a flag.
    marketing_consent = models.BooleanField(_("同意接收营销信息"), default=False)
    marketing_consent_at = models.DateTimeField(_("同意时间"), null=True, blank=True)
    marketing_consent_channel = models.CharField(_("同意渠道"), max_length=32, blank=True)
    marketing_consent_evidence = models.CharField(_("同意凭证"), max_length=200, blank=True)
    marketing_opt_out = models.BooleanField(_("已退订营销"), default=False)
    marketing_opt_out_at = models.DateTimeField(_("退订时间"), null=True, blank=True)
    # Tier and credit are denormalised here (written only by kefu.tiering and kefu.credit
    # services) so lists, filters, routing and the API read one row.
    tier = models.CharField(
        _("客户等级"), max_length=16, choices=Tier.choices, default=Tier.ORDINARY, db_index=True
    )
    credit_grade = models.CharField(
        _("信用等级"),
        max_length=1,
        choices=CreditGrade.choices,
        default=CreditGrade.B,
        db_index=True,
    )
    credit_score = models.PositiveSmallIntegerField(_("信用评分"), null=True, blank=True)
    credit_limit = models.DecimalField(
        _("信用额度（元）"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    credit_exposure = models.DecimalField(
        _("信用占用（元）"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    credit_limit_manual = models.BooleanField(
        _("手工设定额度"), default=False
    )  # finance set the limit by hand: the evaluation keeps it
    # Scorecard factors entered by finance; None = unknown, scored neutral (docs/credit.md).
    registered_capital = models.DecimalField(
        _("注册资本（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    annual_turnover = models.DecimalField(
        _("年营业额（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    finance_score = models.PositiveSmallIntegerField(
        _("财务状况评分（0-15）"), null=True, blank=True
    )
    legal_record = models.CharField(
        _("法律记录"), max_length=16, choices=LegalRecord.choices, default=LegalRecord.UNKNOWN
    )
    payment_days = models.PositiveSmallIntegerField(_("账期（天）"), default=30)
    cooperation_since = models.DateField(_("合作起始日"), null=True, blank=True)
    # Merge and erasure leave the row in place so foreign keys and statistics stay intact.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
    )
    erased_at = models.DateTimeField(_("个人信息删除时间"), null=True, blank=True)
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
            ("import_customers", _("可导入客户")),
            ("merge_customers", _("可合并客户")),
            ("erase_personal_data", _("可处理个人信息删除请求")),
            ("manage_credit", _("可维护信用资料")),
        ]
        indexes = [
            models.Index(fields=["region", "name"], name="customer_region_name"),
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
    class Role(models.TextChoices):
        DECISION = "decision", _("决策人")
        PURCHASING = "purchasing", _("采购")
        FINANCE = "finance", _("财务")
        TECHNICAL = "technical", _("技术")
        USER = "user", _("使用人")
        OTHER = "other", _("其他")

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("姓名"), max_length=64, blank=True)
    title = models.CharField(_("职务"), max_length=64, blank=True)
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.OTHER)
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


class Address(TimeStampedModel):
    class Kind(models.TextChoices):
        OFFICE = "office", _("办公地址")
        SHIPPING = "shipping", _("收货地址")
        BILLING = "billing", _("开票地址")
        SITE = "site", _("设备安装地址")

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.OFFICE)
    region = models.CharField(_("省市区"), max_length=64, blank=True)
    detail = models.CharField(_("详细地址"), max_length=200)
    is_default = models.BooleanField(_("默认地址"), default=False)

    class Meta:
        verbose_name = _("地址")
        verbose_name_plural = _("地址")
        ordering = ["-is_default", "id"]

    def __str__(self) -> str:
        return f"{self.region}{self.detail}"


class Asset(TimeStampedModel):
    """A product the customer has installed (装机档案): what warranty and repairs hang on."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="assets"
    )
    product_model = models.CharField(_("产品型号"), max_length=64)
    serial_number = models.CharField(_("序列号"), max_length=64, blank=True, db_index=True)
    purchase_date = models.DateField(_("购买日期"), null=True, blank=True)
    warranty_end = models.DateField(_("保修截止日"), null=True, blank=True)
    address = models.ForeignKey(
        Address,
        verbose_name=_("安装地址"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assets",
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("设备")
        verbose_name_plural = _("设备")
        ordering = ["-purchase_date", "-id"]

    def __str__(self) -> str:
        return f"{self.product_model} {self.serial_number}".strip()


class CustomerSearchGram(models.Model):
    """Character bigrams of a customer's name (and company words), for 2-character Chinese
    search: trigram indexes need 3 characters, and 张三 or 海尔 are 2. Kept by the services."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    gram = models.CharField(max_length=2)

    class Meta:
        indexes = [models.Index(fields=["gram", "customer"], name="customer_gram")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "gram"], name="uniq_customer_gram")
        ]

    def __str__(self) -> str:
        return self.gram
