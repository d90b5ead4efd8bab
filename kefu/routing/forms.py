from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.customers.models import Customer
from kefu.org.models import Team
from kefu.routing.models import RoutingRule, Skill, TicketType
from kefu.routing.services import RuleInput

_ANY = [("", _("不限"))]


class _Styled(forms.Form):
    def _style(self) -> None:
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            else:
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        for name, messages in fields.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)


class RuleForm(_Styled):
    """Collects a rule; the service checks it (the same rules as the API)."""

    name = forms.CharField(label=_("名称"), max_length=64)
    order = forms.IntegerField(label=_("顺序"), min_value=0, initial=100, help_text=_("小的先匹配"))
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    ticket_type = forms.ChoiceField(
        label=_("工单类型"), choices=_ANY + list(TicketType.choices), required=False
    )
    product = forms.CharField(label=_("产品"), max_length=64, required=False)
    region_prefix = forms.CharField(
        label=_("地区前缀"), max_length=32, required=False, help_text=_("如“华东”或“31”")
    )
    tier = forms.ChoiceField(
        label=_("客户等级"), choices=_ANY + list(Customer.Tier.choices), required=False
    )
    required_skill = forms.ChoiceField(label=_("所需技能"), required=False)
    min_skill_level = forms.IntegerField(label=_("最低熟练度"), min_value=1, max_value=5, initial=1)
    team_id = forms.TypedChoiceField(
        label=_("目标班组"), coerce=int, required=False, empty_value=None
    )
    strategy = forms.ChoiceField(label=_("分配方式"), choices=RoutingRule.Strategy.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        none = [("", _("不要求"))]
        self.fields["required_skill"].choices = none + [  # type: ignore[attr-defined]
            (skill.code, f"{skill.name}（{skill.code}）") for skill in Skill.objects.all()
        ]
        self.fields["team_id"].choices = [("", _("不指定"))] + [  # type: ignore[attr-defined]
            (team.pk, str(team)) for team in Team.objects.order_by("department_id", "name")
        ]
        self._style()

    @staticmethod
    def initial_for(rule: RoutingRule) -> dict[str, Any]:
        return {
            "name": rule.name,
            "order": rule.order,
            "is_active": rule.is_active,
            "ticket_type": rule.ticket_type,
            "product": rule.product,
            "region_prefix": rule.region_prefix,
            "tier": rule.tier,
            "required_skill": rule.required_skill.code if rule.required_skill else "",
            "min_skill_level": rule.min_skill_level,
            "team_id": rule.team_id,
            "strategy": rule.strategy,
        }

    def to_input(self) -> RuleInput:
        data = self.cleaned_data
        return RuleInput(
            name=data["name"],
            order=data["order"],
            is_active=data["is_active"],
            ticket_type=data["ticket_type"],
            product=data["product"],
            region_prefix=data["region_prefix"],
            tier=data["tier"],
            required_skill=data["required_skill"],
            min_skill_level=data["min_skill_level"],
            team_id=data["team_id"],
            strategy=data["strategy"],
        )


class SkillForm(_Styled):
    code = forms.CharField(label=_("编码"), max_length=32, help_text=_("如 complaint、english"))
    name = forms.CharField(label=_("名称"), max_length=64, help_text=_("如 投诉处理、英语"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class AgentSkillForm(_Styled):
    user_id = forms.TypedChoiceField(label=_("坐席"), coerce=int)
    skill = forms.ChoiceField(label=_("技能"))
    level = forms.TypedChoiceField(
        label=_("熟练度"), coerce=int, choices=[(n, str(n)) for n in range(1, 6)], initial=3
    )

    def __init__(self, *args: Any, agents: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user_id"].choices = [  # type: ignore[attr-defined]
            (agent.pk, str(agent)) for agent in agents
        ]
        self.fields["skill"].choices = [  # type: ignore[attr-defined]
            (skill.code, skill.name) for skill in Skill.objects.all()
        ]
        self._style()
