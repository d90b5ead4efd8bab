"""Business hours for calls: Mon–Fri 09:00–18:00, Asia/Shanghai, for now.

The lead replaces these two functions with the SLA calendar (holidays, 调休, team hours) at
integration; everything in kefu.calls asks only these two questions.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

OPENS = dt.time(9, 0)
CLOSES = dt.time(18, 0)


def in_business_hours(at: dt.datetime) -> bool:
    local = timezone.localtime(at)
    return local.weekday() < 5 and OPENS <= local.time() < CLOSES


def next_business_start(at: dt.datetime) -> dt.datetime:
    """``at`` itself when it is in business hours, else the next opening after it."""
    if in_business_hours(at):
        return at
    local = timezone.localtime(at)
    day = local.date()
    if local.time() >= CLOSES or local.weekday() >= 5:
        day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, OPENS, tzinfo=local.tzinfo)
