from __future__ import annotations

import datetime as dt

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
        (dt.datetime(2025, 10, 11, 10, 0, tzinfo=SH), False),  # Saturday
        (dt.datetime(2025, 9, 30, 1, 30, tzinfo=dt.UTC), True),  # 09:30 in Shanghai
    ],
)
def test_business_hours_are_weekdays_nine_to_six_shanghai(at: dt.datetime, expected: bool) -> None:
    assert in_business_hours(at) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (dt.datetime(2025, 9, 30, 10, 0, tzinfo=SH), dt.datetime(2025, 9, 30, 10, 0, tzinfo=SH)),
        (dt.datetime(2025, 9, 30, 7, 0, tzinfo=SH), dt.datetime(2025, 9, 30, 9, 0, tzinfo=SH)),
        (dt.datetime(2025, 9, 30, 19, 0, tzinfo=SH), dt.datetime(2025, 10, 1, 9, 0, tzinfo=SH)),
        (dt.datetime(2025, 10, 10, 18, 30, tzinfo=SH), dt.datetime(2025, 10, 13, 9, 0, tzinfo=SH)),
        (dt.datetime(2025, 10, 12, 12, 0, tzinfo=SH), dt.datetime(2025, 10, 13, 9, 0, tzinfo=SH)),
    ],
)
def test_the_next_opening(at: dt.datetime, expected: dt.datetime) -> None:
    assert next_business_start(at) == expected
