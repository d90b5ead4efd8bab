from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.analytics.models import ServiceCost
from kefu.analytics.services import CostInput

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: str) -> date | None:
    """ "2026-10" → 2026-10-01; None when it is not a month."""
    match = MONTH_RE.match(value.strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


class ServiceCostForm(forms.Form):
    """One month's costs, every category in one form."""

    month = forms.CharField(
        label=_("月份"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "class": "form-control"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in ServiceCost.Category.choices:
            self.fields[f"amount_{value}"] = forms.DecimalField(
                label=label,
                min_value=Decimal("0"),
                max_digits=14,
                decimal_places=2,
                error_messages={
                    "required": _("请填写金额（没有发生请填 0）。"),
                    "invalid": _("金额必须是数字。"),
                    "min_value": _("金额不能为负数。"),
                    "max_digits": _("金额太大。"),
                    "max_decimal_places": _("金额最多两位小数。"),
                    "max_whole_digits": _("金额太大。"),
                },
                widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}),
            )
            self.fields[f"note_{value}"] = forms.CharField(
                label=_("备注"),
                max_length=200,
                required=False,
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )

    def clean_month(self) -> date:
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError(_("月份格式应为 YYYY-MM，例如 2026-10。"))
        return month

    @property
    def rows(self) -> list[tuple[str, str, forms.BoundField, forms.BoundField]]:
        return [
            (value, str(label), self[f"amount_{value}"], self[f"note_{value}"])
            for value, label in ServiceCost.Category.choices
        ]

    def items(self) -> list[CostInput]:
        data = self.cleaned_data
        return [
            CostInput(
                category=value, amount=data[f"amount_{value}"], note=data[f"note_{value}"].strip()
            )
            for value in ServiceCost.Category.values
        ]

    @staticmethod
    def initial_for(month: date) -> dict[str, Any]:
        initial: dict[str, Any] = {"month": f"{month:%Y-%m}"}
        for cost in ServiceCost.objects.filter(month=month):
            initial[f"amount_{cost.category}"] = cost.amount
            initial[f"note_{cost.category}"] = cost.note
        return initial
