from __future__ import annotations

from typing import Any

from django import forms

from kefu.reports.models import (
    MOVEMENT_RULE_FIELDS,
    SETTINGS_FIELDS,
    UNIT_COST_FIELDS,
    ReportSettings,
)


class ReportSettingsForm(forms.ModelForm[ReportSettings]):
    """Every movement threshold and unit cost. Field types are checked here; the ranges are the
    model's clean(), run again by the service before anything is saved."""

    class Meta:
        model = ReportSettings
        fields = SETTINGS_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")

    def rule_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in MOVEMENT_RULE_FIELDS]

    def cost_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in UNIT_COST_FIELDS]

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        for name, errors in fields.items():
            for error in errors:
                self.add_error(name if name in self.fields else None, error)
