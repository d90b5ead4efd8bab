"""THROW-AWAY STUB of kefu.sla.engine: the contract's names with a naive 7x24 clock.

Replaced at merge by the real engine (business hours, statutory calendar, policies in the DB).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_ZONE = ZoneInfo("Asia/Shanghai")
_BUMP = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}
_TABLE = {
    "urgent": (timedelta(minutes=30), timedelta(hours=4)),
    "high": (timedelta(hours=2), timedelta(hours=8)),
    "normal": (timedelta(hours=4), timedelta(hours=24)),  # 3 business days of 8 h
    "low": (timedelta(hours=8), timedelta(hours=48)),
}
_CLOSE_WORKDAYS = {"general": 5, "serious": 10, "major": 15}


@dataclass(frozen=True)
class Targets:
    response: timedelta
    resolution: timedelta
    business_hours: bool
    policy_id: int | None
    priority: str
    close_workdays: int | None


def ticket_targets(
    *, ticket_type: str, priority: str, tier: str = "", complaint_level: str = ""
) -> Targets:
    effective = _BUMP[priority] if tier == "diamond" else priority
    response, resolution = _TABLE[effective]
    close = None
    if ticket_type == "complaint":
        close = _CLOSE_WORKDAYS.get(complaint_level or "general")
    return Targets(
        response=response,
        resolution=resolution,
        business_hours=effective != "urgent",
        policy_id=None,
        priority=effective,
        close_workdays=close,
    )


class Clock:
    def add(self, start: datetime, duration: timedelta) -> datetime:
        return (start + duration).astimezone(_ZONE)

    def between(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))

    def add_workdays(self, start: datetime, days: int) -> datetime:
        return (start + timedelta(days=days)).astimezone(_ZONE)


def clock_for(team_id: int | None, *, business_hours: bool = True) -> Clock:
    return Clock()


def resume_due(clock: Clock, due: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
    return clock.add(due, clock.between(paused_at, resumed_at))
