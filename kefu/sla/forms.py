from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.sla.services import HolidayPeriod, MakeupDay

# The holidays of 全国年节及纪念日放假办法, in the order a notice lists them.
STATUTORY_HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
PERIOD_ROWS = len(STATUTORY_HOLIDAYS) + 2  # two spare rows (e.g. 中秋国庆 split differently)
MAKEUP_ROWS = 8


class _StyledForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def service_field(self, key: str) -> str | None:
        return key if key in self.fields else None

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        for key, messages in fields.items():
            target = self.service_field(key)
            for message in messages:
                self.add_error(target, message)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


def _date_field(label: Any, *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("请输入有效日期（YYYY-MM-DD）。")},
    )


class CalendarDayForm(_StyledForm):
    date = _date_field(_("日期"), required=True)
    is_workday = forms.TypedChoiceField(
        label=_("当天"),
        choices=[("0", _("休息")), ("1", _("上班"))],
        coerce=lambda value: value == "1",
    )
    name = forms.CharField(label=_("名称"), max_length=64, required=False)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)


class HolidayNoticeForm(_StyledForm):
    """One State Council notice: the year, its holiday periods and its make-up workdays. The
    service checks the rules (overlaps, dates outside the year, make-up days on weekdays)."""

    year = forms.IntegerField(
        label=_("年份"),
        min_value=2000,
        max_value=2100,
        error_messages={"invalid": _("请输入年份，例如 2027。")},
    )
    title = forms.CharField(
        label=_("通知文号/标题"),
        max_length=200,
        required=False,
        help_text=_("例如：国务院办公厅关于2027年部分节假日安排的通知"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index in range(PERIOD_ROWS):
            self.fields[f"period_{index}_name"] = forms.CharField(
                label=_("假期名称"), max_length=64, required=False
            )
            self.fields[f"period_{index}_start"] = _date_field(_("放假开始"))
            self.fields[f"period_{index}_end"] = _date_field(_("放假结束（含）"))
        for index in range(MAKEUP_ROWS):
            self.fields[f"makeup_{index}_day"] = _date_field(_("调休上班日"))
            self.fields[f"makeup_{index}_name"] = forms.CharField(
                label=_("说明"), max_length=64, required=False
            )
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")

    @staticmethod
    def initial_for(
        year: int, periods: list[dict[str, str]], makeups: list[dict[str, str]]
    ) -> dict[str, Any]:
        initial: dict[str, Any] = {"year": year}
        rows = periods or [{"name": name} for name in STATUTORY_HOLIDAYS]
        for index, row in enumerate(rows[:PERIOD_ROWS]):
            initial[f"period_{index}_name"] = row.get("name", "")
            initial[f"period_{index}_start"] = row.get("start", "")
            initial[f"period_{index}_end"] = row.get("end", "")
        for index, row in enumerate(makeups[:MAKEUP_ROWS]):
            initial[f"makeup_{index}_day"] = row.get("date", "")
            initial[f"makeup_{index}_name"] = row.get("name", "")
        return initial

    def service_field(self, key: str) -> str | None:
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "periods":
            name = f"period_{parts[1]}_{parts[2]}"
        elif len(parts) == 3 and parts[0] == "makeups":
            name = f"makeup_{parts[1]}_{parts[2]}"
        else:
            name = key
        return name if name in self.fields else None

    def period_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"period_{i}_name"], self[f"period_{i}_start"], self[f"period_{i}_end"])
            for i in range(PERIOD_ROWS)
        ]

    def makeup_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"makeup_{i}_day"], self[f"makeup_{i}_name"]) for i in range(MAKEUP_ROWS)]

    def periods(self) -> list[HolidayPeriod]:
        data = self.cleaned_data
        periods: list[HolidayPeriod] = []
        for i in range(PERIOD_ROWS):
            start, end = data.get(f"period_{i}_start"), data.get(f"period_{i}_end")
            # A prefilled name without dates is an unused row, not an error; every row is
            # passed on so that the service's "periods.<i>" errors land on the right row.
            name = (data.get(f"period_{i}_name") or "") if (start or end) else ""
            periods.append(HolidayPeriod(name=name, start=start, end=end))
        return periods

    def makeup_days(self) -> list[MakeupDay]:
        data = self.cleaned_data
        days: list[MakeupDay] = []
        for i in range(MAKEUP_ROWS):
            day: date | None = data.get(f"makeup_{i}_day")
            days.append(MakeupDay(day=day, name=data.get(f"makeup_{i}_name") or ""))
        return days
