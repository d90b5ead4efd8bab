"""When the hotline is staffed: 09:00–18:00 (``KEFU_HOTLINE_HOURS``, e.g. "08:30-20:00") on the
company's working days — the SLA working calendar (kefu.sla: statutory holidays, 调休 make-up
days, company days), Asia/Shanghai.

The hotline has its own hours rather than the SLA business hours: agents take calls over lunch,
while the SLA clock of a ticket stops then. Everything in kefu.calls asks only these two
questions.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.conf import settings
from django.utils import timezone

from kefu.sla.engine import work_calendar

MAX_DAYS = 60  # a search for the next working day gives up after this (never happens in China)


@functools.cache
def _hours(spec: str) -> tuple[dt.time, dt.time]:
    opens, closes = spec.split("-")
    return dt.time.fromisoformat(opens.strip()), dt.time.fromisoformat(closes.strip())


def hotline_hours() -> tuple[dt.time, dt.time]:
    return _hours(getattr(settings, "HOTLINE_HOURS", "09:00-18:00"))


def in_business_hours(at: dt.datetime) -> bool:
    local = timezone.localtime(at)
    opens, closes = hotline_hours()
    return work_calendar().is_workday(local.date()) and opens <= local.time() < closes


def next_business_start(at: dt.datetime) -> dt.datetime:
    """``at`` itself when it is in business hours, else the next opening after it."""
    if in_business_hours(at):
        return at
    local = timezone.localtime(at)
    opens, _closes = hotline_hours()
    day = local.date()
    if local.time() >= opens:
        day += dt.timedelta(days=1)
    calendar = work_calendar()
    for _step in range(MAX_DAYS):
        if calendar.is_workday(day):
            break
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, opens, tzinfo=local.tzinfo)
