from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.customers.models import Customer
from kefu.org.models import Team


class CustomerForm(forms.Form):
    """Collects the fields; the service validates them (one set of rules for UI and API)."""

    name = forms.CharField(label=_("客户名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Customer.Kind.choices)
    mobile = forms.CharField(
        label=_("手机号"),
        max_length=32,
        required=False,
        help_text=_("中国大陆手机号，11 位，可带 +86"),
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=64, required=False)
    region = forms.CharField(label=_("地区"), max_length=64, required=False)
    industry = forms.CharField(label=_("行业"), max_length=64, required=False)
    serving_team = forms.TypedChoiceField(
        label=_("服务班组"), coerce=int, required=False, empty_value=None
    )
    note = forms.CharField(
        label=_("备注"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )

    def __init__(self, *args: Any, teams: list[Team], editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("默认：我的班组"))] + [
            (team.pk, f"{team.department.name} / {team.name}") for team in teams
        ]
        self.fields["serving_team"].choices = choices  # type: ignore[attr-defined]
        if editing:
            del self.fields["contact_name"]
        for field in self.fields.values():
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
            target = "serving_team" if name == "serving_team_id" else name
            for message in messages:
                self.add_error(target if target in self.fields else None, message)
