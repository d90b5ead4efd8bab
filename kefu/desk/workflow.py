"""Every ticket lifecycle in one place (domain.md §4.1, §4.2, §4.4, §4.5).

A machine per ticket type: its initial status, its transitions (from → to, who may take it,
what it needs), the statuses that pause the SLA clock, stop the resolution clock, or end the
ticket. kefu.desk.services asks here, and only here, whether a step is allowed.

Who (the trigger letters of domain.md §4) maps to the permissions that kefu.org.roles gives:

====  ==========================  ====================================================
A     desk.work_ticket            agents (and supervisors, managers: they hold it too)
S     desk.supervise_ticket       supervisors (and managers)
M     desk.manage_ticket          managers
F     desk.finance_ticket         finance
Q     desk.quality_ticket         quality
G     desk.gm_ticket              the general manager
C     desk.work_ticket            an agent records what the customer said or did
X     (the system's timer)        no actor; supervisors may take the same step by hand
====  ==========================  ====================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.desk.models import Ticket

AGENT = "agent"
SUPERVISOR = "supervisor"
MANAGER = "manager"
FINANCE = "finance"
QUALITY = "quality"
GM = "gm"
SYSTEM = "system"  # the timer (X): no actor

ROLE_PERMISSIONS = {
    AGENT: "desk.work_ticket",
    SUPERVISOR: "desk.supervise_ticket",
    MANAGER: "desk.manage_ticket",
    FINANCE: "desk.finance_ticket",
    QUALITY: "desk.quality_ticket",
    GM: "desk.gm_ticket",
}
ROLE_LABELS: dict[str, Promise] = {
    AGENT: gettext_lazy("客服专员"),
    SUPERVISOR: gettext_lazy("客服主管"),
    MANAGER: gettext_lazy("客服经理"),
    FINANCE: gettext_lazy("财务"),
    QUALITY: gettext_lazy("品质"),
    GM: gettext_lazy("总经理"),
    SYSTEM: gettext_lazy("系统"),
}

St = Ticket.Status
A, S, M, F, Q, G, X = AGENT, SUPERVISOR, MANAGER, FINANCE, QUALITY, GM, SYSTEM
REOPEN_DAYS = 7  # a customer reply within 7 days of RESOLVED reopens; later opens a new ticket

Guard = Callable[[Ticket, datetime], str | None]


def _within_reopen_window(ticket: Ticket, now: datetime) -> str | None:
    if ticket.resolved_at is None or now - ticket.resolved_at > timedelta(days=REOPEN_DAYS):
        return _("工单解决已超过 %(days)d 天，不能重开；请新建工单并关联本工单。") % {
            "days": REOPEN_DAYS
        }
    return None


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    roles: frozenset[str]  # any one of these may take it
    note: bool = False  # a note (reason) is required
    fields: tuple[str, ...] = ()  # type-specific fields needed (given now or already set)
    signoff: str = ""  # "amount": approval by amount thresholds; "panel": arbitration panel
    guard: Guard | None = None


def _t(
    sources: str | tuple[str, ...],
    target: str,
    roles: tuple[str, ...],
    **options: Any,
) -> Transition:
    if isinstance(sources, str):
        sources = (sources,)
    return Transition(frozenset(sources), target, frozenset(roles), **options)


@dataclass(frozen=True)
class Machine:
    initial: str
    transitions: tuple[Transition, ...]
    final: frozenset[str]  # the ticket is over: no clock, not in the open queues
    resolved: frozenset[str]  # the resolution clock has stopped (final ones included)
    paused: frozenset[str] = frozenset({St.PENDING_CUSTOMER})

    @property
    def statuses(self) -> list[str]:
        seen = [self.initial]
        for transition in self.transitions:
            for status in (*sorted(transition.sources), transition.target):
                if status not in seen:
                    seen.append(status)
        return seen


# §4.1: inquiry, order, suggestion and repair (the repair dispatch flow of §4.3 comes later).
_GENERIC_OPEN = (
    St.NEW,
    St.OPEN,
    St.IN_PROGRESS,
    St.PENDING_CUSTOMER,
    St.TRANSFERRED,
    St.REOPENED,
)
GENERIC = Machine(
    initial=St.NEW,
    transitions=(
        _t(St.NEW, St.OPEN, (A, X)),
        _t((St.NEW, St.OPEN, St.REOPENED), St.IN_PROGRESS, (A, S)),
        _t(St.IN_PROGRESS, St.PENDING_CUSTOMER, (A,), note=True),
        _t(St.PENDING_CUSTOMER, St.IN_PROGRESS, (A, X)),  # the customer replied
        _t(St.PENDING_CUSTOMER, St.RESOLVED, (X, S), note=True),  # 7 silent days, 2 reminders
        _t(St.IN_PROGRESS, St.TRANSFERRED, (A,), note=True),
        _t(St.TRANSFERRED, St.IN_PROGRESS, (A,)),
        _t(St.IN_PROGRESS, St.RESOLVED, (A,), note=True),
        _t(
            (St.RESOLVED, St.CLOSED),
            St.REOPENED,
            (A,),
            note=True,
            guard=_within_reopen_window,
        ),
        _t(St.RESOLVED, St.CLOSED, (A, X)),  # the customer confirms, or 3 working days pass
        _t(_GENERIC_OPEN, St.CANCELLED, (S,), note=True),
    ),
    final=frozenset({St.CLOSED, St.CANCELLED}),
    resolved=frozenset({St.RESOLVED, St.CLOSED, St.CANCELLED}),
)

# §4.2: complaint (GB/T 19012-2019 stages).
_COMPLAINT_FINAL = frozenset({St.CLOSED, St.WITHDRAWN, St.ARBITRATION})
_COMPLAINT_OPEN = (
    St.REGISTERED,
    St.ACKNOWLEDGED,
    St.ASSESSED,
    St.INVESTIGATING,
    St.PROPOSED,
    St.APPROVED,
    St.RESPONDED,
    St.EXECUTING,
    St.FOLLOW_UP,
    St.ESCALATED,
)
COMPLAINT = Machine(
    initial=St.REGISTERED,
    transitions=(
        _t(St.REGISTERED, St.ACKNOWLEDGED, (A,)),
        _t(St.ACKNOWLEDGED, St.ASSESSED, (A, S), fields=("complaint_level",)),
        _t(St.ASSESSED, St.INVESTIGATING, (S,), fields=("responsible_department_id",)),
        _t(
            St.INVESTIGATING,
            St.PROPOSED,
            (A, S),
            fields=("liability", "root_cause", "compensation_amount"),
        ),
        _t(St.PROPOSED, St.APPROVED, (S, M, F, G), signoff="amount"),
        _t(St.PROPOSED, St.INVESTIGATING, (S, M, F, G), note=True),  # sent back for rework
        _t(St.APPROVED, St.RESPONDED, (A,), note=True),
        _t(St.RESPONDED, St.EXECUTING, (A,)),  # the customer accepts
        _t(St.RESPONDED, St.ESCALATED, (A,), note=True),  # the customer rejects: one level up
        _t(St.ESCALATED, St.ESCALATED, (S, M, G), note=True),  # up one more level
        _t(St.ESCALATED, St.INVESTIGATING, (S, M, G)),
        _t(St.ESCALATED, St.ARBITRATION, (S, M, G), note=True),
        _t(St.EXECUTING, St.FOLLOW_UP, (A,)),
        _t(St.FOLLOW_UP, St.CLOSED, (A,), fields=("recovery_outcome",)),  # satisfied
        _t(St.FOLLOW_UP, St.INVESTIGATING, (A,), note=True),  # dissatisfied
        _t(_COMPLAINT_OPEN, St.WITHDRAWN, (A,), note=True),
    ),
    final=_COMPLAINT_FINAL,
    resolved=_COMPLAINT_FINAL,
)

# §4.4: claim.
_CLAIM_FINAL = frozenset({St.CLOSED, St.REJECTED, St.ARBITRATION})
CLAIM = Machine(
    initial=St.SUBMITTED,
    transitions=(
        _t(St.SUBMITTED, St.DOCS_REVIEW, (A,)),
        _t(St.DOCS_REVIEW, St.PENDING_CUSTOMER, (A,), note=True),  # photos, batch no., waybill
        _t(St.PENDING_CUSTOMER, St.DOCS_REVIEW, (A, X)),
        _t(St.DOCS_REVIEW, St.INVESTIGATING, (A,)),
        _t(St.INVESTIGATING, St.LIABILITY_DETERMINED, (Q,), fields=("liability",)),
        _t(
            St.LIABILITY_DETERMINED,
            St.PROPOSED,
            (A, S),
            fields=("proposal", "compensation_amount"),
        ),
        _t(St.LIABILITY_DETERMINED, St.REJECTED, (Q, S), note=True),  # a written reason
        _t(St.PROPOSED, St.APPROVED, (S, M, F, G), signoff="amount"),
        _t(St.PROPOSED, St.LIABILITY_DETERMINED, (S, M, F, G), note=True),  # sent back
        _t(St.APPROVED, St.CONFIRMED, (A,)),  # the customer confirms; recovery opens
        _t(St.CONFIRMED, St.SETTLING, (F,)),
        _t(St.SETTLING, St.CLOSED, (F,)),
        _t(St.REJECTED, St.ARBITRATION, (A,), note=True),  # the customer appeals
    ),
    # REJECTED and ARBITRATION end the claim (an appeal from REJECTED opens an arbitration).
    final=_CLAIM_FINAL,
    resolved=_CLAIM_FINAL,
)

# §4.5: arbitration.
_ARBITRATION_FINAL = frozenset({St.CLOSED, St.DISMISSED})
ARBITRATION = Machine(
    initial=St.FILED,
    transitions=(
        _t(St.FILED, St.ACCEPTED, (M,)),
        _t(St.FILED, St.DISMISSED, (M,), note=True),
        _t(St.ACCEPTED, St.EVIDENCE, (A, M)),
        _t(St.EVIDENCE, St.DECIDED, (M, Q, F, G), note=True, signoff="panel"),
        _t(St.DECIDED, St.ENFORCED, (A, M)),
        _t(St.ENFORCED, St.CLOSED, (M,)),
    ),
    final=_ARBITRATION_FINAL,
    resolved=_ARBITRATION_FINAL,
)

MACHINES: dict[str, Machine] = {
    Ticket.Type.INQUIRY: GENERIC,
    Ticket.Type.ORDER: GENERIC,
    Ticket.Type.SUGGESTION: GENERIC,
    Ticket.Type.REPAIR: GENERIC,
    Ticket.Type.COMPLAINT: COMPLAINT,
    Ticket.Type.CLAIM: CLAIM,
    Ticket.Type.ARBITRATION: ARBITRATION,
}


def machine_for(ticket_type: str) -> Machine:
    return MACHINES[ticket_type]


def is_final(ticket: Ticket) -> bool:
    return ticket.status in machine_for(ticket.type).final


_ENDED = frozenset().union(*(machine.final for machine in MACHINES.values()))
ENDED_STATUSES: tuple[str, ...] = tuple(sorted(_ENDED))
"""Every status, of any type, in which a ticket's work has ended (a final status of its
lifecycle); the database asks for open tickets as NOT IN these (kefu.desk.models.open_tickets_q,
which must match: a test keeps kefu.desk.models.ENDED_TICKET_STATUSES equal to this)."""
OPEN_STATUSES: tuple[str, ...] = tuple(status for status in St.values if status not in _ENDED)
"""Every status, of any type, in which a ticket is still being worked (the open queues)."""


def actor_roles(user: Any) -> frozenset[str]:
    """The trigger roles a user holds (from permissions, cached per request by the backend).
    ``None`` is the system's timer."""
    if user is None:
        return frozenset({SYSTEM})
    if not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(ROLE_PERMISSIONS)
    return frozenset(role for role, perm in ROLE_PERMISSIONS.items() if user.has_perm(perm))


def _may(transition: Transition, roles: frozenset[str]) -> bool:
    if roles & transition.roles:
        return True
    # a supervisor may take the timer's steps by hand
    return SYSTEM in transition.roles and SUPERVISOR in roles


def transitions_from(ticket: Ticket) -> list[Transition]:
    return [t for t in machine_for(ticket.type).transitions if ticket.status in t.sources]


def allowed_targets(ticket: Ticket, user: Any) -> list[str]:
    """The statuses this user may move the ticket to now (for the buttons and the 409)."""
    roles = actor_roles(user)
    targets: list[str] = []
    for transition in transitions_from(ticket):
        if _may(transition, roles) and transition.target not in targets:
            targets.append(transition.target)
    return targets


def status_label(status: str) -> str:
    try:
        return str(Ticket.Status(status).label)
    except ValueError:
        return status


class TransitionRefused(Exception):
    """Raised by ``transition_check``; services turn it into the API's 409 or 403."""

    def __init__(self, message: str, *, forbidden: bool, allowed: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden
        self.allowed = allowed


def transition_check(ticket: Ticket, to: str, user: Any, now: datetime) -> Transition:
    """The transition to take, or TransitionRefused: 409 when no such step exists from the
    current status (or its guard says no), 403 when it exists but the user's role may not
    take it."""
    allowed = allowed_targets(ticket, user)
    candidates = [t for t in transitions_from(ticket) if t.target == to]
    if not candidates:
        raise TransitionRefused(
            _("工单当前状态“%(current)s”不能转到“%(target)s”。")
            % {"current": status_label(ticket.status), "target": status_label(to)},
            forbidden=False,
            allowed=allowed,
        )
    roles = actor_roles(user)
    permitted = [t for t in candidates if _may(t, roles)]
    if not permitted:
        who = "、".join(str(ROLE_LABELS[role]) for role in sorted(candidates[0].roles))
        raise TransitionRefused(
            _("只有%(roles)s可以把工单转到“%(target)s”。")
            % {"roles": who, "target": status_label(to)},
            forbidden=True,
            allowed=allowed,
        )
    transition = permitted[0]
    if transition.guard is not None:
        refusal = transition.guard(ticket, now)
        if refusal:
            raise TransitionRefused(refusal, forbidden=False, allowed=allowed)
    return transition


# --- sign-offs: approval thresholds (§4.4) and the arbitration panel (§4.5) --------------------


def approval_limits() -> tuple[Decimal, Decimal]:
    """(supervisor's limit, manager + finance's limit) in yuan; above the second the general
    manager approves. Settings KEFU_CLAIM_APPROVAL_SUPERVISOR / _MANAGER."""
    return (
        Decimal(str(settings.TICKET_APPROVAL_SUPERVISOR_LIMIT)),
        Decimal(str(settings.TICKET_APPROVAL_MANAGER_LIMIT)),
    )


def signoff_options(ticket: Ticket, transition: Transition) -> list[frozenset[str]]:
    """Alternative sets of roles; the step completes when every role of one set signed."""
    if transition.signoff == "panel":
        return [frozenset({M, Q, F}), frozenset({G})]
    amount = ticket.compensation_amount or Decimal(0)
    supervisor_limit, manager_limit = approval_limits()
    if amount <= supervisor_limit:
        return [frozenset({S}), frozenset({M}), frozenset({G})]
    if amount <= manager_limit:
        return [frozenset({M, F}), frozenset({G})]
    return [frozenset({G})]


def signoff_role(options: list[frozenset[str]], signed: set[str], roles: frozenset[str]) -> str:
    """The role the user signs as: one still needed that they hold ("" if none). The most
    senior first, so a manager approving a small amount signs as manager."""
    needed = set().union(*options) - signed
    for role in (G, M, F, Q, S):
        if role in needed and role in roles:
            return role
    return ""


def signoff_complete(options: list[frozenset[str]], signed: set[str]) -> bool:
    return any(option <= signed for option in options)
