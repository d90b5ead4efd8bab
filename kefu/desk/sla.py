"""SLA on tickets, through the kefu.sla contract only (ticket_targets, clock_for, resume_due).

Each clock has three check points, all stored on the ticket so that a pause shifts them the
same way it shifts the due time:

* 80 % of the target elapsed → warn the assignee;
* the due time → breach, the team's supervisors are told;
* twice the target → the managers are told.

``sla_next_check_at`` is the earliest check point still ahead on a running clock (NULL when
none runs): the periodic task reads only that partial index, so it stays cheap with millions
of closed tickets.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kefu.desk.models import Ticket
from kefu.desk.workflow import machine_for
from kefu.sla.engine import Clock, Targets, clock_for, resume_due, ticket_targets

WARN_AT = 0.8
ESCALATE_AT = 2.0

RESPONSE_POINTS = ("response_warn_at", "first_response_due", "response_escalate_at")
RESOLUTION_POINTS = ("resolution_warn_at", "resolution_due", "resolution_escalate_at")
RESPONSE_FLAGS = ("response_warned", "response_breached", "response_escalated")
RESOLUTION_FLAGS = ("resolution_warned", "resolution_breached", "resolution_escalated")
SLA_FIELDS = [
    *RESPONSE_POINTS,
    *RESOLUTION_POINTS,
    "close_due",
    "sla_next_check_at",
    "sla_policy_id",
    "paused_at",
    "paused_total",
]


def targets_for(ticket: Ticket) -> Targets:
    return ticket_targets(
        ticket_type=ticket.type,
        priority=ticket.priority,
        tier=ticket.tier,
        complaint_level=ticket.complaint_level,
    )


def clock_of(ticket: Ticket, targets: Targets) -> Clock:
    return clock_for(ticket.team_id, business_hours=targets.business_hours)


def sla_compute(ticket: Ticket) -> None:
    """(Re)compute every due time and check point from the creation time, the targets of the
    ticket's type, priority, tier and complaint level, and the business time it was paused so
    far. Called before the INSERT (one transaction with it) and on a change of priority, tier,
    team or complaint level. Sets the fields; the caller saves."""
    targets = targets_for(ticket)
    clock = clock_of(ticket, targets)
    start = ticket.created_at
    paused = ticket.paused_total or timedelta(0)

    def point(target: timedelta, factor: float) -> datetime:
        moment = clock.add(start, target * factor)
        return clock.add(moment, paused) if paused else moment

    ticket.sla_policy_id = targets.policy_id
    ticket.response_warn_at = point(targets.response, WARN_AT)
    ticket.first_response_due = point(targets.response, 1)
    ticket.response_escalate_at = point(targets.response, ESCALATE_AT)
    ticket.resolution_warn_at = point(targets.resolution, WARN_AT)
    ticket.resolution_due = point(targets.resolution, 1)
    ticket.resolution_escalate_at = point(targets.resolution, ESCALATE_AT)
    ticket.close_due = None
    if targets.close_workdays:
        # complaints: the closing deadline in working days (§4.2) also bounds resolution
        workday_clock = clock_for(ticket.team_id, business_hours=True)
        ticket.close_due = workday_clock.add_workdays(start, targets.close_workdays)
        if ticket.close_due < ticket.resolution_due:
            ticket.resolution_due = ticket.close_due
            ticket.resolution_warn_at = min(ticket.resolution_warn_at, ticket.close_due)
    sla_schedule(ticket)


def response_running(ticket: Ticket) -> bool:
    machine = machine_for(ticket.type)
    return (
        ticket.first_responded_at is None
        and ticket.paused_at is None
        and ticket.status not in machine.resolved
    )


def resolution_running(ticket: Ticket) -> bool:
    machine = machine_for(ticket.type)
    return ticket.paused_at is None and ticket.status not in machine.resolved


def sla_schedule(ticket: Ticket) -> None:
    """Set ``sla_next_check_at``: the earliest check point not yet passed on a running clock."""
    ahead: list[datetime] = []
    for running, points, flags in (
        (response_running(ticket), RESPONSE_POINTS, RESPONSE_FLAGS),
        (resolution_running(ticket), RESOLUTION_POINTS, RESOLUTION_FLAGS),
    ):
        if not running:
            continue
        for name, flag in zip(points, flags, strict=True):
            moment = getattr(ticket, name)
            if moment is not None and not getattr(ticket, flag):
                ahead.append(moment)
    ticket.sla_next_check_at = min(ahead) if ahead else None


def sla_pause(ticket: Ticket, now: datetime) -> None:
    """PENDING_CUSTOMER: both clocks stop until the customer answers."""
    if ticket.paused_at is None:
        ticket.paused_at = now
    sla_schedule(ticket)


def _shift(ticket: Ticket, names: tuple[str, ...], since: datetime, now: datetime) -> timedelta:
    targets = targets_for(ticket)
    clock = clock_of(ticket, targets)
    for name in names:
        moment = getattr(ticket, name)
        if moment is not None:
            setattr(ticket, name, resume_due(clock, moment, since, now))
    return clock.between(since, now)


def sla_resume(ticket: Ticket, now: datetime) -> None:
    """Leaving PENDING_CUSTOMER: due = old due + the business time that passed while paused."""
    if ticket.paused_at is None:
        return
    names = RESOLUTION_POINTS if ticket.first_responded_at else RESPONSE_POINTS + RESOLUTION_POINTS
    ticket.paused_total = (ticket.paused_total or timedelta(0)) + _shift(
        ticket, names, ticket.paused_at, now
    )
    ticket.paused_at = None
    sla_schedule(ticket)


def sla_reopen(ticket: Ticket, now: datetime) -> None:
    """A reopened ticket's resolution clock continues from where it stopped."""
    if ticket.resolved_at is not None:
        ticket.paused_total = (ticket.paused_total or timedelta(0)) + _shift(
            ticket, RESOLUTION_POINTS, ticket.resolved_at, now
        )
    sla_schedule(ticket)
