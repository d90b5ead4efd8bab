from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.customers.models import Address, Contact, Customer
from kefu.org.models import Team, User


class ServiceForm(forms.Form):
    """Collects the fields; the service validates them (one set of rules for UI and API).
    Field errors the service reports under an API name land on the matching form field."""

    FIELD_ALIASES: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
                continue
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        # Mark every field that now has an error, so the input itself turns red, not only the
        # text below it.
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                css = widget.attrs.get("class", "")
                if "is-invalid" not in css:
                    widget.attrs["class"] = f"{css} is-invalid".strip()

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        for name, messages in fields.items():
            target = self.FIELD_ALIASES.get(name, name)
            for message in messages:
                self.add_error(target if target in self.fields else None, message)


class CustomerForm(ServiceForm):
    FIELD_ALIASES = {"serving_team_id": "serving_team", "owner_id": "owner"}

    name = forms.CharField(label=_("客户名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Customer.Kind.choices)
    code = forms.CharField(
        label=_("客户编码"),
        max_length=32,
        required=False,
        help_text=_("销售系统中的客户编码，唯一"),
    )
    mobile = forms.CharField(
        label=_("手机号"),
        max_length=32,
        required=False,
        help_text=_("中国大陆手机号，11 位，可带 +86"),
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=64, required=False)
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=32,
        required=False,
        help_text=_("企业客户，18 位"),
    )
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=32,
        required=False,
        help_text=_("个人客户，18 位；仅在需要时填写（个人信息最小必要）"),
    )
    region = forms.CharField(label=_("地区"), max_length=64, required=False)
    industry = forms.CharField(label=_("行业"), max_length=64, required=False)
    source = forms.CharField(label=_("客户来源"), max_length=64, required=False)
    lifecycle_stage = forms.ChoiceField(label=_("生命周期阶段"), choices=Customer.Stage.choices)
    owner = forms.TypedChoiceField(
        label=_("负责销售"),
        coerce=int,
        required=False,
        empty_value=0,  # type: ignore[arg-type]
    )
    serving_team = forms.TypedChoiceField(
        label=_("服务班组"), coerce=int, required=False, empty_value=None
    )
    tags = forms.CharField(
        label=_("标签"),
        max_length=400,
        required=False,
        help_text=_("用逗号分隔，例如：经销商，重点客户；新标签会自动创建"),
    )
    marketing_consent = forms.BooleanField(label=_("同意接收营销信息"), required=False)
    marketing_consent_channel = forms.CharField(
        label=_("同意渠道"),
        max_length=32,
        required=False,
        help_text=_("如：门店纸质表单、官网勾选"),
    )
    marketing_consent_evidence = forms.CharField(
        label=_("同意凭证"), max_length=200, required=False, help_text=_("凭证编号或存档位置")
    )
    marketing_opt_out = forms.BooleanField(label=_("已退订营销"), required=False)
    note = forms.CharField(
        label=_("备注"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    force = forms.BooleanField(
        label=_("仍然创建"),
        required=False,
        help_text=_("已核对疑似重复的客户，确认这是另一位客户"),
    )

    def __init__(
        self,
        *args: Any,
        teams: list[Team],
        owners: list[User],
        editing: bool = False,
        can_set_code: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["serving_team"].choices = [("", _("默认：我的班组"))] + [  # type: ignore[attr-defined]
            (team.pk, f"{team.department.name} / {team.name}") for team in teams
        ]
        self.fields["owner"].choices = [("", _("（无）"))] + [  # type: ignore[attr-defined]
            (user.pk, user.display_name or user.username) for user in owners
        ]
        if editing:
            del self.fields["contact_name"]
            del self.fields["force"]
        if not can_set_code:
            self.fields["code"].disabled = True

    def tag_names(self) -> list[str]:
        raw = self.cleaned_data.get("tags", "") or ""
        return [name.strip() for name in raw.replace("，", ",").split(",") if name.strip()]


class ContactForm(ServiceForm):
    name = forms.CharField(label=_("姓名"), max_length=64, required=False)
    title = forms.CharField(label=_("职务"), max_length=64, required=False)
    role = forms.ChoiceField(label=_("角色"), choices=Contact.Role.choices)
    mobile = forms.CharField(label=_("手机号"), max_length=32, required=False)
    email = forms.CharField(label=_("邮箱"), max_length=254, required=False)
    is_primary = forms.BooleanField(label=_("设为主联系人"), required=False)


class AddressForm(ServiceForm):
    kind = forms.ChoiceField(label=_("类型"), choices=Address.Kind.choices)
    region = forms.CharField(label=_("省市区"), max_length=64, required=False)
    detail = forms.CharField(label=_("详细地址"), max_length=200)
    is_default = forms.BooleanField(label=_("设为默认地址"), required=False)


class AssetForm(ServiceForm):
    FIELD_ALIASES = {"address_id": "address"}

    product_model = forms.CharField(label=_("产品型号"), max_length=64)
    serial_number = forms.CharField(label=_("序列号"), max_length=64, required=False)
    purchase_date = forms.DateField(
        label=_("购买日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    warranty_end = forms.DateField(
        label=_("保修截止日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    address = forms.TypedChoiceField(
        label=_("安装地址"),
        coerce=int,
        required=False,
        empty_value=0,  # type: ignore[arg-type]
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, addresses: list[Address], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["address"].choices = [("", _("（无）"))] + [  # type: ignore[attr-defined]
            (address.pk, str(address)) for address in addresses
        ]


class MergeForm(ServiceForm):
    duplicate = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    reason = forms.CharField(
        label=_("合并原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("例如：同一企业重复建档（统一社会信用代码相同）"),
    )
