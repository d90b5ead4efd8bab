from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.customers.models import Customer


class _StyledForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        for name, messages in fields.items():
            target = name if name in self.fields else name.split(".")[0]
            for message in messages:
                self.add_error(target if target in self.fields else None, message)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class CreditFactorsForm(_StyledForm):
    """Collects the fields as text; the service checks them (one set of rules for UI and API)."""

    registered_capital = forms.CharField(
        label=_("注册资本（元）"), required=False, help_text=_("留空表示未知，按中性分计")
    )
    annual_turnover = forms.CharField(
        label=_("年营业额（元）"), required=False, help_text=_("留空表示未知")
    )
    finance_score = forms.CharField(
        label=_("财务状况评分（0-15）"),
        required=False,
        help_text=_("财务根据报表评定；留空表示未知"),
    )
    legal_record = forms.ChoiceField(label=_("法律记录"), choices=Customer.LegalRecord.choices)
    payment_days = forms.CharField(label=_("账期（天）"))
    cooperation_since = forms.CharField(
        label=_("合作起始日"),
        required=False,
        help_text=_("YYYY-MM-DD；留空则按第一笔订单日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    limit_mode = forms.ChoiceField(
        label=_("信用额度"),
        choices=[("computed", _("按评分计算")), ("manual", _("手工设定"))],
        widget=forms.RadioSelect,
    )
    credit_limit = forms.CharField(label=_("手工额度（元）"), required=False)
    reason = forms.CharField(label=_("原因"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["limit_mode"].widget.attrs["class"] = "form-check-input"


class CreditPolicyForm(_StyledForm):
    """The policy config as one field per number (``section.key``); break lists as lines of
    ``阈值:分值``."""

    reason = forms.CharField(label=_("修改原因"), max_length=300, required=False)

    def __init__(self, *args: Any, config: dict[str, Any], **kwargs: Any) -> None:
        self.config = config
        initial: dict[str, Any] = {}
        fields: dict[str, forms.Field] = {}
        for key, value in config.items():
            if isinstance(value, dict):
                for sub, item in value.items():
                    fields[f"{key}.{sub}"] = forms.CharField(label=f"{key}.{sub}")
                    initial[f"{key}.{sub}"] = item
            elif isinstance(value, list):
                fields[key] = forms.CharField(
                    label=key,
                    widget=forms.Textarea(attrs={"rows": 5}),
                    help_text=_("每行一条：阈值:分值，从高到低"),
                )
                initial[key] = "\n".join(f"{threshold}:{points}" for threshold, points in value)
            else:
                fields[key] = forms.CharField(label=key)
                initial[key] = value
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        reason = self.fields.pop("reason")
        self.fields.update(fields)
        self.fields["reason"] = reason
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("class", "form-control")
            if name != "reason":
                field.widget.attrs.setdefault("data-key", name)

    @staticmethod
    def _number(text: str, like: Any) -> Any:
        text = text.strip()
        if isinstance(like, int) and not isinstance(like, bool):
            try:
                return int(text)
            except ValueError:
                return text
        return text

    def to_config(self) -> dict[str, Any]:
        data = self.cleaned_data
        config: dict[str, Any] = {}
        for key, value in self.config.items():
            if isinstance(value, dict):
                config[key] = {
                    sub: self._number(data.get(f"{key}.{sub}", ""), item)
                    for sub, item in value.items()
                }
            elif isinstance(value, list):
                pairs: list[list[Any]] = []
                for line in str(data.get(key, "")).splitlines():
                    if not line.strip():
                        continue
                    threshold, _sep, points = line.replace("：", ":").partition(":")
                    pairs.append([threshold.strip(), self._number(points, 0)])
                config[key] = pairs
            else:
                config[key] = self._number(data.get(key, ""), value)
        return config
