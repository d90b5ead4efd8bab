"""The business-time clock on awkward cases, with exact expected datetimes (domain.md §5, §7)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kefu.sla.engine import Clock, clock_for, resume_due
from kefu.sla.hours import intervals_minutes
from kefu.sla.models import BusinessHours, CalendarDay
from kefu.sla.tests.helpers import SHANGHAI, at
from kefu.sla.workcalendar import WorkCalendar

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def test_scenario_1_national_day_2025_due_and_resume_after_pause() -> None:
    # given company hours 09-12 and 13-18 and a P2 ticket (8 h) created Tue 2025-09-30 17:00
    clock = clock_for(None)
    created = at(2025, 9, 30, 17)
    # when the due time is computed: 1 h on 09-30, Oct 1-8 off, 7 h on Thu 10-09
    due = clock.add(created, 8 * H)
    # then
    assert due == at(2025, 10, 9, 17)
    # given it waits on the customer from 10-09 10:00, with 2 h elapsed
    paused_at = at(2025, 10, 9, 10)
    assert clock.between(created, paused_at) == 2 * H
    # when the customer replies Fri 10-10 14:00: 7 h + 4 h of business time passed while paused
    resumed_at = at(2025, 10, 10, 14)
    assert clock.between(paused_at, resumed_at) == 11 * H
    # then the due moves to Sat 10-11 11:00, a 调休 make-up workday
    assert resume_due(clock, due, paused_at, resumed_at) == at(2025, 10, 11, 11)


def test_scenario_2_spring_festival_2026() -> None:
    # 7 h on Fri 02-13, 8 h on the make-up Saturday 02-14, Feb 15-23 off, 1 h on Tue 02-24
    assert clock_for(None).add(at(2026, 2, 13, 10), 16 * H) == at(2026, 2, 24, 10)


def test_a_make_up_saturday_counts_as_a_workday_and_an_ordinary_saturday_does_not() -> None:
    clock = clock_for(None)
    assert clock.add(at(2025, 10, 10, 17), 2 * H) == at(2025, 10, 11, 10)
    assert clock.is_open(at(2025, 10, 11, 10))
    # the Saturday after is an ordinary weekend: Fri 1 h, then Monday 09:00-10:00
    assert clock.add(at(2025, 10, 17, 17), 2 * H) == at(2025, 10, 20, 10)
    assert not clock.is_open(at(2025, 10, 18, 10))


def test_weekday_holidays_are_skipped() -> None:
    # Labour Day 2025: Thu May 1 to Mon May 5 off (May 5 moved from the make-up Sun Apr 27)
    clock = clock_for(None)
    assert clock.add(at(2025, 4, 30, 17), 2 * H) == at(2025, 5, 6, 10)
    assert clock.add(at(2025, 4, 25, 17), 2 * H) == at(2025, 4, 27, 10)  # Sun Apr 27 works


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # created at 23:30: counts from the next morning's opening
        (at(2025, 9, 29, 23, 30), H, at(2025, 9, 30, 10)),
        # 23:30 on the eve of National Day: the next opening is after the holiday
        (at(2025, 9, 30, 23, 30), H, at(2025, 10, 9, 10)),
        # 07:00, before opening
        (at(2025, 9, 29, 7), timedelta(minutes=30), at(2025, 9, 29, 9, 30)),
        # 12:30, lunch: counts from 13:00
        (at(2025, 9, 29, 12, 30), H, at(2025, 9, 29, 14)),
        # 11:30 + 1 h: half an hour before lunch, half an hour after
        (at(2025, 9, 29, 11, 30), H, at(2025, 9, 29, 13, 30)),
        # exactly at 18:00: nothing left that day
        (at(2025, 9, 29, 18), H, at(2025, 9, 30, 10)),
        # a target that ends exactly at closing ends there, not at the next opening
        (at(2025, 9, 29, 17), H, at(2025, 9, 29, 18)),
        # zero: the moment the clock starts
        (at(2025, 9, 29, 19), timedelta(0), at(2025, 9, 30, 9)),
        # P3: 3 working days = 24 business hours: Mon 9-29, Tue 9-30, (Oct 1-8 off) Thu 10-09
        (at(2025, 9, 29, 9), 24 * H, at(2025, 10, 9, 18)),
    ],
)
def test_out_of_hours_starts_and_midnight_crossings(
    start: datetime, duration: timedelta, expected: datetime
) -> None:
    assert clock_for(None).add(start, duration) == expected


def test_results_are_aware_shanghai_times_whatever_the_input_zone() -> None:
    start = datetime(2025, 9, 29, 1, tzinfo=UTC)  # 09:00 in Shanghai
    due = clock_for(None).add(start, H)
    assert due == at(2025, 9, 29, 10)
    assert due.utcoffset() == timedelta(hours=8)
    with pytest.raises(ValueError, match="aware"):
        clock_for(None).add(datetime(2025, 9, 29, 9), H)  # noqa: DTZ001 (the point)


def test_a_7x24_clock_ignores_hours_and_holidays() -> None:
    clock = clock_for(None, business_hours=False)
    assert clock.add(at(2025, 9, 30, 23), 4 * H) == at(2025, 10, 1, 3)
    assert clock.between(at(2025, 9, 30, 23), at(2025, 10, 1, 3)) == 4 * H
    assert clock.is_open(at(2025, 10, 1, 3))
    assert clock.add(at(2025, 9, 30, 23), 4 * H).tzinfo is not None


def test_add_workdays_skips_holidays_and_keeps_the_clock_time() -> None:
    # Oct 1-8 off; Oct 9, 10, Sat 11 (make-up), Mon 13, Tue 14
    start = at(2025, 9, 30, 10, 15)
    assert clock_for(None).add_workdays(start, 5) == at(2025, 10, 14, 10, 15)
    assert clock_for(None, business_hours=False).add_workdays(start, 5) == at(2025, 10, 14, 10, 15)
    assert clock_for(None).add_workdays(start, 0) == start
    # from a holiday: the first working day after it counts as day 1
    assert clock_for(None).add_workdays(at(2025, 10, 3, 20), 1) == at(2025, 10, 9, 20)


def test_between_is_the_inverse_of_add() -> None:
    clock = clock_for(None)
    rng = random.Random(20251001)
    base = at(2025, 9, 1)
    for _case in range(400):
        start = base + timedelta(minutes=rng.randrange(0, 200 * 24 * 60))
        duration = timedelta(minutes=rng.randrange(0, 80 * 60))
        due = clock.add(start, duration)
        assert clock.between(start, due) == duration, (start, duration)
        if clock.is_open(start):
            assert clock.add(start, clock.between(start, due)) == due
    assert clock.between(at(2025, 10, 9, 12), at(2025, 10, 9, 10)) == timedelta(0)


def test_a_year_nobody_covers_falls_back_to_monday_to_friday() -> None:
    clock = clock_for(None)
    # 2031-01-01 is a Wednesday: New Year's Day is unknown without a notice, so it works
    assert clock.add(at(2030, 12, 31, 17), 2 * H) == at(2031, 1, 1, 10)
    # and Sat 2031-01-04 is off: Fri 01-03 17:00 + 2 h → Mon 01-06 10:00
    assert clock.add(at(2031, 1, 3, 17), 2 * H) == at(2031, 1, 6, 10)


def test_company_adjustments_win_over_the_statutory_calendar() -> None:
    # given the company takes the make-up Saturday 2025-10-11 off and works on holiday 10-08
    CalendarDay.objects.create(date=at(2025, 10, 11).date(), is_workday=False, name="公司团建")
    CalendarDay.objects.create(date=at(2025, 10, 8).date(), is_workday=True, name="公司值班")
    clock = clock_for(None)
    # then Fri 10-10 17:00 + 2 h runs to Mon 10-13 and the holiday 10-08 counts
    assert clock.add(at(2025, 10, 10, 17), 2 * H) == at(2025, 10, 13, 10)
    assert clock.add(at(2025, 9, 30, 17), 2 * H) == at(2025, 10, 8, 10)


def test_team_hours_replace_the_company_default(org: dict[str, Any]) -> None:
    # given team A opens 08:00-20:00 every day, holidays included
    BusinessHours.objects.create(
        team=org["team_a"], intervals=[["08:00", "20:00"]], follow_calendar=False
    )
    team_clock = clock_for(org["team_a"].pk)
    # then National Day counts for team A, while team B keeps the company default
    assert team_clock.add(at(2025, 10, 1, 19), 2 * H) == at(2025, 10, 2, 9)
    assert clock_for(org["team_b"].pk).add(at(2025, 10, 1, 19), 2 * H) == at(2025, 10, 9, 11)
    assert clock_for(None).add(at(2025, 10, 1, 19), 2 * H) == at(2025, 10, 9, 11)


def test_an_interval_may_end_at_midnight() -> None:
    clock = Clock(WorkCalendar(), intervals_minutes([["20:00", "24:00"]]), follow_calendar=False)
    assert clock.add(at(2025, 9, 29, 23), 2 * H) == at(2025, 9, 30, 21)
    assert clock.add(at(2025, 9, 29, 22), 2 * H) == at(2025, 9, 30, 0)


def test_a_thousand_due_times_cost_no_query_after_the_first_load(
    django_assert_num_queries: Any,
) -> None:
    clock_for(None)  # loads the snapshot
    start = datetime(2025, 9, 30, 17, tzinfo=SHANGHAI)
    with django_assert_num_queries(0):
        dues = [clock_for(None).add(start + timedelta(minutes=i), 8 * H) for i in range(1000)]
    assert dues[0] == at(2025, 10, 9, 17)


def test_a_calendar_change_reaches_the_next_clock() -> None:
    assert clock_for(None).add(at(2025, 10, 10, 17), 2 * H) == at(2025, 10, 11, 10)
    day = CalendarDay.objects.create(date=at(2025, 10, 11).date(), is_workday=False)
    assert clock_for(None).add(at(2025, 10, 10, 17), 2 * H) == at(2025, 10, 13, 10)
    day.delete()
    assert clock_for(None).add(at(2025, 10, 10, 17), 2 * H) == at(2025, 10, 11, 10)
    hours = BusinessHours.objects.get(team__isnull=True)
    hours.intervals = [["10:00", "16:00"]]
    hours.save()
    assert clock_for(None).add(at(2025, 10, 10, 15), 2 * H) == at(2025, 10, 11, 11)
