"""A small hand-counted service desk at a fixed moment, Wednesday 2026-11-25 15:00 in
Shanghai (the week began on Monday 11-23).

Team A (the supervisor's):
- T1 open, created 2 h ago (today), held by ``agent``;
- T2 in progress, created 2 days ago (Monday), held by ``agent``, at risk on its resolution
  (warned, due in 1 h);
- T3 pending the customer, created 10 days ago, breached, nobody holds it;
- T4 resolved 3 h ago (still open: a resolved ticket waits to be closed), created 40 days ago,
  held by ``agent``;
- T5 closed, created Monday 10:00, resolved Tuesday 09:00, held by ``agent``;
- T7 new, created 30 min ago, at risk on its first response (warned, due in 20 min);
- T8 closed, created and resolved last Friday.
Team B: T6 open, created 1 h ago, held by ``outsider``.

Calls: two ringing now (offered 90 s and 30 s ago), one "ringing" for 5 h (its end event was
lost: not waiting), one being answered; ended today: k1 answered by ``agent`` after 10 s (talk
100 s), k2 by ``outsider`` after 30 s (200 s), k3 abandoned at 12 s, k4 at 3 s (a short
abandon); ended Monday: k5 answered by ``agent`` after 20 s (60 s).
T5 was due Tuesday 12:00 (met); T2 is due today 16:00 (not yet resolved).
Presence: ``agent`` online, ``agent2`` (team A) on a break, ``outsider`` (team B) online, the
supervisor (a team A member) offline.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kefu.calls.models import Call
from kefu.desk.models import Ticket
from kefu.org.models import User
from kefu.routing.models import AgentPresence

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=SHANGHAI)


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """django.utils.timezone.now() is NOW for the code under test (the dashboard, the list's
    age and at-risk filters)."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


@pytest.fixture
def agent2(make_user: Callable[..., User]) -> User:
    return make_user("agent2", "agent", teams=("team_a",))


@pytest.fixture
def desk(
    org: dict[str, Any],
    agent: User,
    agent2: User,
    outsider: User,
    supervisor: User,
) -> dict[str, Ticket]:
    counter = iter(range(1, 100))

    def ticket(name: str, status: str, created: datetime, **fields: Any) -> Ticket:
        fields.setdefault("team", org["team_a"])
        return Ticket.objects.create(
            number=f"GD20261125-{next(counter):06d}",
            type="inquiry",
            channel="phone",
            status=status,
            subject=f"测试工单 {name}",
            created_at=created,
            **fields,
        )

    tickets = {
        "T1": ticket("T1", "open", NOW - timedelta(hours=2), assignee=agent),
        "T2": ticket(
            "T2",
            "in_progress",
            NOW - timedelta(days=2),
            assignee=agent,
            first_responded_at=NOW - timedelta(days=2) + timedelta(minutes=10),
            resolution_due=NOW + timedelta(hours=1),
            resolution_warned=True,
            sla_next_check_at=NOW - timedelta(minutes=10),
        ),
        "T3": ticket(
            "T3",
            "pending_customer",
            NOW - timedelta(days=10),
            sla_breached=True,
            resolution_breached=True,
            resolution_due=NOW - timedelta(days=5),
        ),
        "T4": ticket(
            "T4",
            "resolved",
            NOW - timedelta(days=40),
            assignee=agent,
            resolved_at=NOW - timedelta(hours=3),
        ),
        "T5": ticket(
            "T5",
            "closed",
            datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI),
            assignee=agent,
            resolved_at=datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI),
            resolution_due=datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI),
            closed_at=datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI),
        ),
        "T6": ticket("T6", "open", NOW - timedelta(hours=1), team=org["team_b"], assignee=outsider),
        "T7": ticket(
            "T7",
            "new",
            NOW - timedelta(minutes=30),
            first_response_due=NOW + timedelta(minutes=20),
            response_warned=True,
            sla_next_check_at=NOW + timedelta(minutes=5),
        ),
        "T8": ticket(
            "T8",
            "closed",
            datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI),
            assignee=agent,
            resolved_at=datetime(2026, 11, 20, 11, 0, tzinfo=SHANGHAI),
        ),
    }
    for number, offered, status in (
        ("c1", NOW - timedelta(seconds=90), Call.Status.RINGING),
        ("c2", NOW - timedelta(seconds=30), Call.Status.RINGING),
        ("c3", NOW - timedelta(hours=5), Call.Status.RINGING),
        ("c4", NOW - timedelta(minutes=3), Call.Status.ANSWERED),
    ):
        Call.objects.create(
            call_id=number,
            caller="+8613800000000",
            offered_at=offered,
            status=status,
            answered_at=NOW - timedelta(minutes=2) if status == Call.Status.ANSWERED else None,
        )
    # ended calls for the KPI cards: (id, offered, wait, outcome, talk, answering agent)
    for number, offered, wait, outcome, talk, by in (
        ("k1", NOW - timedelta(minutes=60), 10, "answered", 100, agent),
        ("k2", NOW - timedelta(minutes=50), 30, "answered", 200, outsider),
        ("k3", NOW - timedelta(minutes=40), 12, "abandoned", None, None),
        ("k4", NOW - timedelta(minutes=30), 3, "abandoned", None, None),  # a short abandon
        ("k5", datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI), 20, "answered", 60, agent),
    ):
        Call.objects.create(
            call_id=number,
            caller="+8613900000000",
            offered_at=offered,
            status=Call.Status.ENDED,
            outcome=outcome,
            wait_seconds=wait,
            talk_seconds=talk,
            agent=by,
            answered_at=offered + timedelta(seconds=wait) if talk else None,
            ended_at=offered + timedelta(seconds=wait + (talk or 0)),
        )
    AgentPresence.objects.create(user=agent, status=AgentPresence.Status.ONLINE)
    AgentPresence.objects.create(user=agent2, status=AgentPresence.Status.BREAK)
    AgentPresence.objects.create(user=outsider, status=AgentPresence.Status.ONLINE)
    return tickets
