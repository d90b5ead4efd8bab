from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kefu.calls.hours import in_business_hours, next_business_start

SH = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (dt.datetime(2025, 9, 30, 9, 0, tzinfo=SH), True),  # Tuesday, opening minute
        (dt.datetime(2025, 9, 30, 17, 59, tzinfo=SH), True),
        (dt.datetime(2025, 9, 30, 18, 0, tzinfo=SH), False),  # closing time is out
        (dt.datetime(2025, 9, 30, 8, 59, tzinfo=SH), False),
        (dt.datetime(2025, 10, 11, 10, 0, tzinfo=SH), True),  # Saturday, a 调休 make-up workday
        (dt.datetime(2025, 10, 12, 10, 0, tzinfo=SH), False),  # Sunday
        (dt.datetime(2025, 10, 3, 10, 0, tzinfo=SH), False),  # National Day holiday (a Friday)
        (dt.datetime(2025, 9, 30, 12, 30, tzinfo=SH), True),  # the hotline takes calls over lunch
        (dt.datetime(2025, 9, 30, 1, 30, tzinfo=dt.UTC), True),  # 09:30 in Shanghai
    ],
)
@pytest.mark.django_db
def test_business_hours_are_working_days_nine_to_six_shanghai(
    at: dt.datetime, expected: bool
) -> None:
    assert in_business_hours(at) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (dt.datetime(2025, 9, 30, 10, 0, tzinfo=SH), dt.datetime(2025, 9, 30, 10, 0, tzinfo=SH)),
        (dt.datetime(2025, 9, 30, 7, 0, tzinfo=SH), dt.datetime(2025, 9, 30, 9, 0, tzinfo=SH)),
        # the evening before National Day: Oct 1–8 are off
        (dt.datetime(2025, 9, 30, 19, 0, tzinfo=SH), dt.datetime(2025, 10, 9, 9, 0, tzinfo=SH)),
        # Friday evening: Saturday Oct 11 is a make-up workday
        (dt.datetime(2025, 10, 10, 18, 30, tzinfo=SH), dt.datetime(2025, 10, 11, 9, 0, tzinfo=SH)),
        (dt.datetime(2025, 10, 12, 12, 0, tzinfo=SH), dt.datetime(2025, 10, 13, 9, 0, tzinfo=SH)),
    ],
)
@pytest.mark.django_db
def test_the_next_opening(at: dt.datetime, expected: dt.datetime) -> None:
    assert next_business_start(at) == expected


@pytest.mark.django_db
def test_the_hotline_hours_come_from_the_settings(settings: Any) -> None:
    settings.HOTLINE_HOURS = "08:30-20:00"
    assert in_business_hours(dt.datetime(2025, 9, 30, 8, 45, tzinfo=SH)) is True
    assert in_business_hours(dt.datetime(2025, 9, 30, 19, 59, tzinfo=SH)) is True
    assert next_business_start(dt.datetime(2025, 9, 30, 20, 0, tzinfo=SH)) == dt.datetime(
        2025, 10, 9, 8, 30, tzinfo=SH
    )
