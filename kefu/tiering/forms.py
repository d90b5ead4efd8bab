from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.customers.models import Customer
from kefu.org.models import Team
from kefu.tiering.measures import MEASURES
from kefu.tiering.models import TierRuleSet
from kefu.tiering.services import LevelInput, RuleSetInput

TIERS = Customer.Tier.values
_MAIN_FIELDS = (
    "name",
    "measure",
    "method",
    "cut_a",
    "cut_b",
    "diamond_share",
    "apply_credit_caps",
)
_LEVEL_FIELDS = ("min_value", "sla_policy", "priority_bump", "followup_days", "discount_rate")


class _Styled(forms.Form):
    def _style(self) -> None:
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            else:
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                css = widget.attrs.get("class", "")
                if "is-invalid" not in css:
                    widget.attrs["class"] = f"{css} is-invalid".strip()


class RuleSetForm(_Styled):
    """Collects the rule set; the service validates it (the same rules as the API)."""

    name = forms.CharField(label=_("名称"), max_length=64)
    measure = forms.ChoiceField(label=_("衡量指标"), choices=TierRuleSet.Measure.choices)
    method = forms.ChoiceField(label=_("分层方法"), choices=TierRuleSet.Method.choices)
    cut_a = forms.DecimalField(
        label=_("A类累计占比"), max_digits=5, decimal_places=4, help_text=_("如 0.70")
    )
    cut_b = forms.DecimalField(
        label=_("B类累计占比"), max_digits=5, decimal_places=4, help_text=_("如 0.90")
    )
    diamond_share = forms.DecimalField(
        label=_("A类中钻石占比"), max_digits=5, decimal_places=4, help_text=_("如 0.05，至少 1 位")
    )
    apply_credit_caps = forms.BooleanField(
        label=_("信用封顶（C级最高银，D级普通）"), required=False
    )

    def __init__(self, *args: Any, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for measure in MEASURES:
            self.fields[f"weight_{measure}"] = forms.DecimalField(
                label=TierRuleSet.Measure(measure).label,
                required=False,
                min_value=0,
                max_value=1,
                decimal_places=4,
            )
        team_choices = [("", "—")] + [(team.pk, str(team)) for team in teams]
        for tier in TIERS:
            self.fields[f"{tier}_min_value"] = forms.DecimalField(
                label=_("下限"), required=False, max_digits=16, decimal_places=2
            )
            self.fields[f"{tier}_sla_policy"] = forms.CharField(
                label=_("SLA策略"), required=False, max_length=32
            )
            self.fields[f"{tier}_priority_bump"] = forms.IntegerField(
                label=_("优先级提升"), min_value=0, max_value=3, initial=0
            )
            self.fields[f"{tier}_followup_days"] = forms.IntegerField(
                label=_("回访周期（天）"), required=False, min_value=1, max_value=366
            )
            self.fields[f"{tier}_discount_rate"] = forms.DecimalField(
                label=_("折扣率"), min_value=0, max_value=1, decimal_places=4, initial=0
            )
            self.fields[f"{tier}_dedicated_team"] = forms.TypedChoiceField(
                label=_("专属服务班组"),
                choices=team_choices,
                coerce=int,
                required=False,
                empty_value=None,
            )
        self._style()

    @classmethod
    def initial_for(cls, rule_set: TierRuleSet) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(rule_set, name) for name in _MAIN_FIELDS}
        for measure, weight in (rule_set.weights or {}).items():
            initial[f"weight_{measure}"] = weight
        for level in rule_set.levels.all():
            for name in _LEVEL_FIELDS:
                initial[f"{level.tier}_{name}"] = getattr(level, name)
            initial[f"{level.tier}_dedicated_team"] = level.dedicated_team_id
        return initial

    def tier_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "tier": tier,
                "label": Customer.Tier(tier).label,
                "fields": [self[f"{tier}_{name}"] for name in (*_LEVEL_FIELDS, "dedicated_team")],
            }
            for tier in TIERS
        ]

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in _MAIN_FIELDS]

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"weight_{measure}"] for measure in MEASURES]

    def to_input(self) -> RuleSetInput:
        data = self.cleaned_data
        weights = {
            measure: data[f"weight_{measure}"]
            for measure in MEASURES
            if data.get(f"weight_{measure}")
        }
        return RuleSetInput(
            name=data["name"],
            measure=data["measure"],
            method=data["method"],
            weights=weights,
            cut_a=data["cut_a"],
            cut_b=data["cut_b"],
            diamond_share=data["diamond_share"],
            apply_credit_caps=data["apply_credit_caps"],
            levels=[
                LevelInput(
                    tier=tier,
                    min_value=data[f"{tier}_min_value"],
                    sla_policy=data[f"{tier}_sla_policy"],
                    priority_bump=data[f"{tier}_priority_bump"],
                    followup_days=data[f"{tier}_followup_days"],
                    discount_rate=data[f"{tier}_discount_rate"],
                    dedicated_team_id=data[f"{tier}_dedicated_team"],
                )
                for tier in TIERS
            ],
        )

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        for name, messages in fields.items():
            target: str | None = name
            if name.startswith("levels."):
                parts = name.split(".")
                target = "_".join(parts[1:]).replace("dedicated_team_id", "dedicated_team")
            if target not in self.fields:
                target = None
            for message in messages:
                self.add_error(target, message)


class PinForm(_Styled):
    tier = forms.ChoiceField(label=_("指定等级"), choices=Customer.Tier.choices)
    reason = forms.CharField(label=_("原因"), max_length=200)
    expires_on = forms.DateField(
        label=_("到期日"), widget=forms.DateInput(attrs={"type": "date"}), help_text=_("含当天")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        for name, messages in fields.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
