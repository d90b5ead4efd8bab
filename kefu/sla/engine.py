"""The SLA engine (contract: /work/briefs/contract.md): business-time clocks on the working
calendar, and the targets of a ticket from the SLA policies.

Everything the engine reads from the database (calendar overrides, notices, business hours,
policies, complaint deadlines, the active tier benefits) is loaded once into a process-wide
snapshot; after that ``Clock.add`` and ``ticket_targets`` are pure Python, so computing a
thousand due times costs no query. A change to any of those rows (signals in apps.py) drops the
snapshot in this process and replaces a token in Django's cache; other processes compare their
token with the cache's at most once a second (Redis) and reload when it differs. With the local
memory cache (no Redis) other processes cannot see the token, so there a snapshot lives at most
``LOCAL_MAX_AGE`` seconds.

Times: China has had no daylight saving since 1991, so the clocks work on local wall time
(TIME_ZONE, Asia/Shanghai) and attach the zone again at the end.
"""

from __future__ import annotations

import threading
import time as monotonic_time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from kefu.sla.hours import DEFAULT_INTERVALS, Minutes, intervals_minutes
from kefu.sla.models import ComplaintLevel, Priority, TicketType
from kefu.sla.workcalendar import DayInfo, DaySource, WorkCalendar

ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
MAX_DAYS = 3660  # no opening within ten years: the configuration is broken, say so
TOKEN_KEY = "kefu:sla:token"  # noqa: S105 (a cache key, not a secret)
SHARED_CHECK_EVERY = 1.0  # seconds between token checks against a shared cache (Redis)
SHARED_MAX_AGE = 600.0  # reload anyway now and then (a change rolled back after a reload)
LOCAL_MAX_AGE = 30.0  # without a shared cache: the most a change lags in another process

PRIORITIES: tuple[str, ...] = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)

# Built-in targets (domain.md §5), used when no active policy matches at all.
DEFAULT_TARGETS: dict[str, tuple[timedelta, timedelta, bool]] = {
    Priority.URGENT: (timedelta(minutes=30), timedelta(hours=4), False),
    Priority.HIGH: (timedelta(hours=2), timedelta(hours=8), True),
    Priority.NORMAL: (timedelta(hours=4), timedelta(hours=24), True),
    Priority.LOW: (timedelta(hours=8), timedelta(hours=48), True),
}
DEFAULT_CLOSE_WORKDAYS: dict[str, int] = {
    ComplaintLevel.GENERAL: 5,
    ComplaintLevel.SERIOUS: 10,
    ComplaintLevel.MAJOR: 15,
}


@dataclass(frozen=True)
class Targets:
    response: timedelta  # first-response target, in business time (or 7x24)
    resolution: timedelta  # resolution target, in business time (or 7x24)
    business_hours: bool  # False = the clock runs 7x24 (P1 default)
    policy_id: int | None  # the SlaPolicy row chosen (None = built-in default)
    priority: str  # effective priority after a tier bump: low|normal|high|urgent
    close_workdays: int | None  # complaints: closing deadline in working days, else None


def _zone() -> tzinfo:
    return timezone.get_default_timezone()


def _local(moment: datetime) -> datetime:
    """Aware → naive local wall time."""
    if timezone.is_naive(moment):
        raise ValueError("SLA clocks need aware datetimes")
    return moment.astimezone(_zone()).replace(tzinfo=None)


def _aware(local: datetime) -> datetime:
    return local.replace(tzinfo=_zone())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


class Clock:
    """Business time on one set of opening hours and the working calendar."""

    def __init__(
        self,
        calendar: WorkCalendar,
        intervals: Minutes,
        *,
        follow_calendar: bool = True,
        round_the_clock: bool = False,
    ) -> None:
        self.calendar = calendar
        self.round_the_clock = round_the_clock
        self.follow_calendar = follow_calendar and not round_the_clock
        spans = ((0, 24 * 60),) if round_the_clock else intervals
        self.spans: tuple[tuple[timedelta, timedelta], ...] = tuple(
            (timedelta(minutes=start), timedelta(minutes=end)) for start, end in spans
        )
        if not self.spans:
            raise ValueError("a clock needs at least one opening interval")

    def __repr__(self) -> str:
        kind = "7x24" if self.round_the_clock else f"{len(self.spans)} spans"
        return f"<Clock {kind} follow_calendar={self.follow_calendar}>"

    def _open_on(self, day: date) -> bool:
        return not self.follow_calendar or self.calendar.is_workday(day)

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in business hours (e.g. a call outside them → callback)."""
        if self.round_the_clock:
            return True
        local = _local(moment)
        if not self._open_on(local.date()):
            return False
        offset = local - _midnight(local.date())
        return any(start <= offset < end for start, end in self.spans)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of business time after ``start``; a start out of hours counts
        from the next opening, and a duration that ends exactly at a closing ends there."""
        if duration < ZERO:
            raise ValueError("duration must not be negative")
        local = _local(start)
        if self.round_the_clock:
            return _aware(local + duration)
        day = local.date()
        offset = local - _midnight(day)
        remaining = duration
        for _step in range(MAX_DAYS):
            if self._open_on(day):
                for open_at, close_at in self.spans:
                    begin = max(open_at, offset)
                    if begin >= close_at:
                        continue
                    available = close_at - begin
                    if remaining <= available:
                        return _aware(_midnight(day) + begin + remaining)
                    remaining -= available
            day += ONE_DAY
            offset = ZERO
        raise ValueError("no business hours within ten years: check the calendar and hours")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time elapsed from ``start`` to ``end`` (0 if end <= start)."""
        first, last = _local(start), _local(end)
        if last <= first:
            return ZERO
        if self.round_the_clock:
            return last - first
        total = ZERO
        day = first.date()
        while day <= last.date():
            if self._open_on(day):
                midnight = _midnight(day)
                for open_at, close_at in self.spans:
                    begin = max(midnight + open_at, first)
                    finish = min(midnight + close_at, last)
                    if finish > begin:
                        total += finish - begin
            day += ONE_DAY
        return total

    def add_workdays(self, start: datetime, days: int) -> datetime:
        """The same wall-clock time ``days`` working days later (closing deadlines). Working
        days are those of the calendar, whatever the hours (a 7x24 clock included)."""
        if days < 0:
            raise ValueError("days must not be negative")
        local = _local(start)
        day = local.date()
        counted = 0
        for _step in range(MAX_DAYS):
            if counted == days:
                return _aware(datetime.combine(day, local.time()))
            day += ONE_DAY
            if self.calendar.is_workday(day):
                counted += 1
        raise ValueError("no working days within ten years: check the calendar")


def resume_due(clock: Clock, due: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
    """After a PENDING_CUSTOMER pause: old due + the business time that passed while paused."""
    return clock.add(due, clock.between(paused_at, resumed_at))


# --- the snapshot ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Policy:
    id: int
    code: str
    ticket_type: str
    priority: str
    tier: str
    response: timedelta
    resolution: timedelta
    business_hours: bool

    @property
    def specificity(self) -> int:
        return sum(1 for value in (self.ticket_type, self.priority, self.tier) if value)

    def matches(self, ticket_type: str, priority: str, tier: str) -> bool:
        return (
            self.ticket_type in ("", ticket_type)
            and self.priority in ("", priority)
            and self.tier in ("", tier)
        )


@dataclass
class _Snapshot:
    token: str
    loaded_at: float
    checked_at: float
    calendar: WorkCalendar
    hours: dict[int | None, tuple[Minutes, bool]]
    policies: tuple[_Policy, ...]
    close_workdays: dict[str, int]
    tier_benefits: dict[str, tuple[str, int]]  # tier → (sla policy code, priority bump)
    clocks: dict[tuple[int | None, bool], Clock] = field(default_factory=dict)


_snapshot: _Snapshot | None = None
_load_lock = threading.Lock()


def _shared_cache() -> bool:
    return not settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def _shared_token() -> str:
    token = cache.get(TOKEN_KEY)
    if token is None:
        token = uuid.uuid4().hex
        if not cache.add(TOKEN_KEY, token, timeout=None):
            token = cache.get(TOKEN_KEY) or token
    return str(token)


def _load() -> _Snapshot:
    from kefu.sla.models import (
        BusinessHours,
        CalendarDay,
        ComplaintDeadline,
        HolidayNotice,
        SlaPolicy,
    )
    from kefu.tiering.models import TierLevel

    token = _shared_token()  # read before the rows: a change after this bumps it again
    overrides = {
        row["date"]: DayInfo(
            row["is_workday"],
            row["name"],
            DaySource.NOTICE if row["notice_id"] else DaySource.COMPANY,
        )
        for row in CalendarDay.objects.values("date", "is_workday", "name", "notice_id")
    }
    calendar = WorkCalendar(overrides, HolidayNotice.objects.values_list("year", flat=True))
    hours: dict[int | None, tuple[Minutes, bool]] = {
        row["team_id"]: (intervals_minutes(row["intervals"]), row["follow_calendar"])
        for row in BusinessHours.objects.values("team_id", "intervals", "follow_calendar")
    }
    policies = tuple(
        _Policy(
            id=row["id"],
            code=row["code"],
            ticket_type=row["ticket_type"],
            priority=row["priority"],
            tier=row["tier"],
            response=row["response_target"],
            resolution=row["resolution_target"],
            business_hours=row["business_hours"],
        )
        for row in SlaPolicy.objects.filter(is_active=True)
        .order_by("id")
        .values(
            "id",
            "code",
            "ticket_type",
            "priority",
            "tier",
            "response_target",
            "resolution_target",
            "business_hours",
        )
    )
    close_workdays = dict(DEFAULT_CLOSE_WORKDAYS)
    close_workdays.update(ComplaintDeadline.objects.values_list("level", "close_workdays"))
    tier_benefits = {
        tier: (code, bump)
        for tier, code, bump in TierLevel.objects.filter(rule_set__is_active=True).values_list(
            "tier", "sla_policy", "priority_bump"
        )
    }
    now = monotonic_time.monotonic()
    return _Snapshot(
        token=token,
        loaded_at=now,
        checked_at=now,
        calendar=calendar,
        hours=hours,
        policies=policies,
        close_workdays=close_workdays,
        tier_benefits=tier_benefits,
    )


def _current() -> _Snapshot:
    global _snapshot
    snap = _snapshot
    now = monotonic_time.monotonic()
    shared = _shared_cache()
    if snap is not None:
        if shared and now - snap.checked_at < SHARED_CHECK_EVERY:
            return snap
        max_age = SHARED_MAX_AGE if shared else LOCAL_MAX_AGE
        if now - snap.loaded_at < max_age and _shared_token() == snap.token:
            snap.checked_at = now
            return snap
    with _load_lock:
        if _snapshot is not None and _snapshot is not snap:
            return _snapshot  # another thread has just reloaded
        _snapshot = _load()
        return _snapshot


def sla_cache_clear(**kwargs: Any) -> None:
    """Forget the snapshot here and tell other processes (a signal receiver: the calendar,
    hours, policies, deadlines or tier benefits changed). Bumped again after the commit, so a
    process that reloaded in between, still seeing the old rows, reloads once more."""
    global _snapshot
    _snapshot = None
    cache.set(TOKEN_KEY, uuid.uuid4().hex, timeout=None)
    if kwargs.get("sender") is not None:
        transaction.on_commit(sla_cache_clear)


def work_calendar() -> WorkCalendar:
    """The calendar of the current snapshot (statutory + notices + company adjustments)."""
    return _current().calendar


def uncovered_years(years: Iterable[int]) -> list[int]:
    """The years among ``years`` that neither the holiday package nor a hand-entered notice
    covers: their clocks fall back to Mon–Fri, and the admin is warned."""
    return _current().calendar.uncovered_years(years)


def clock_for(team_id: int | None, *, business_hours: bool = True) -> Clock:
    """The team's business hours (or the company default) on the statutory calendar with
    company overrides; ``business_hours=False`` gives a 7x24 clock."""
    snap = _current()
    key = (team_id, business_hours)
    clock = snap.clocks.get(key)
    if clock is None:
        if not business_hours:
            clock = Clock(snap.calendar, (), round_the_clock=True)
        else:
            default = (intervals_minutes(DEFAULT_INTERVALS), True)
            spans, follow = snap.hours.get(team_id) or snap.hours.get(None) or default
            clock = Clock(snap.calendar, spans, follow_calendar=follow)
        snap.clocks[key] = clock
    return clock


def bump_priority(priority: str, levels: int) -> str:
    index = PRIORITIES.index(priority)
    return PRIORITIES[min(len(PRIORITIES) - 1, index + max(0, levels))]


def _best(policies: Iterable[_Policy]) -> _Policy | None:
    return min(policies, key=lambda policy: (-policy.specificity, policy.id), default=None)


def ticket_targets(
    *, ticket_type: str, priority: str, tier: str = "", complaint_level: str = ""
) -> Targets:
    """The targets of a ticket (domain.md §5):

    1. the customer's tier benefit (active tier rule set) bumps the priority by its
       ``priority_bump`` (diamond +1 by default), capped at urgent;
    2. among active policies matching type × effective priority × tier (blank = any), those
       carrying the tier's SLA policy code come first, then those without a code; the most
       specific wins, ties go to the lowest id; none at all → the built-in defaults;
    3. complaints also get their closing deadline in working days by level (a complaint not
       yet assessed counts as 一般 general, the shortest).
    """
    if ticket_type not in TicketType.values:
        raise ValueError(f"unknown ticket type: {ticket_type!r}")
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority: {priority!r}")
    if complaint_level and complaint_level not in ComplaintLevel.values:
        raise ValueError(f"unknown complaint level: {complaint_level!r}")
    snap = _current()
    code, bump = snap.tier_benefits.get(tier, ("", 0)) if tier else ("", 0)
    effective = bump_priority(priority, bump)
    matching = [p for p in snap.policies if p.matches(ticket_type, effective, tier)]
    chosen = _best(p for p in matching if p.code == code) if code else None
    if chosen is None:
        chosen = _best(p for p in matching if not p.code)
    close_workdays = None
    if ticket_type == TicketType.COMPLAINT:
        close_workdays = snap.close_workdays[complaint_level or ComplaintLevel.GENERAL]
    if chosen is None:
        response, resolution, business_hours = DEFAULT_TARGETS[effective]
        return Targets(response, resolution, business_hours, None, effective, close_workdays)
    return Targets(
        chosen.response,
        chosen.resolution,
        chosen.business_hours,
        chosen.id,
        effective,
        close_workdays,
    )
