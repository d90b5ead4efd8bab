"""KpiValue.display and the Slice constructors."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from kefu.analytics.kpis import DEFINITIONS, KpiError, KpiValue, Slice


@pytest.mark.parametrize(
    ("unit", "value", "shown"),
    [
        ("percent", Decimal("50"), "50.0%"),
        ("percent", Decimal("57.1429"), "57.1%"),
        ("seconds", Decimal("24.7143"), "24.7 秒"),
        ("yuan", Decimal("1234.5"), "¥1,234.50"),
        ("per_10k", Decimal("7.5"), "7.50‱"),
        ("count", Decimal("12345"), "12,345"),
        ("days", Decimal("3.25"), "3.3 天"),
        ("percent", Decimal("22.25"), "22.3%"),
        ("yuan", Decimal("0.005"), "¥0.01"),
        ("percent", None, "—"),
    ],
)
def test_display(unit: str, value: Decimal | None, shown: str) -> None:
    assert KpiValue("k", None, None, value, unit).display() == shown


def test_slices_are_shanghai_days_iso_weeks_and_calendar_months() -> None:
    zone = timezone.get_default_timezone()
    day = Slice.day(date(2026, 10, 14), team_id=3)
    assert day.start == datetime(2026, 10, 14, tzinfo=zone)
    assert day.end == datetime(2026, 10, 15, tzinfo=zone)
    assert day.start.utcoffset() is not None
    assert day.team_id == 3
    assert day.filters == {"team": 3}
    week = Slice.week(date(2026, 10, 14))  # Wednesday → Monday 12th to Monday 19th
    assert (week.start.date(), week.end.date()) == (date(2026, 10, 12), date(2026, 10, 19))
    december = Slice.month(date(2026, 12, 20))
    assert (december.start.date(), december.end.date()) == (date(2026, 12, 1), date(2027, 1, 1))
    assert (december.start_date, december.end_date) == (date(2026, 12, 1), date(2027, 1, 1))
    with pytest.raises(KpiError, match="结束时间早于开始时间"):
        Slice(day.end, day.start)
    with pytest.raises(KpiError, match="时区"):
        Slice(datetime.combine(date(2026, 1, 1), time(0)), day.end)


def test_every_definition_is_complete() -> None:
    assert set(DEFINITIONS) == {
        "answer_rate",
        "abandon_rate",
        "abandon_rate_raw",
        "service_level",
        "service_level_strict",
        "asa",
        "aht",
        "fcr",
        "sla_response",
        "sla_resolution",
        "backlog",
        "complaint_rate",
        "reopen_rate",
        "repeat_contact_rate",
        "repeat_contact_rate_72h",
        "cost_per_contact",
    }
    for definition in DEFINITIONS.values():
        assert definition.unit in ("percent", "seconds", "count", "yuan", "per_10k", "days")
        assert str(definition.label)
        assert str(definition.formula)
        assert str(definition.denominator)
        assert str(definition.counts)
