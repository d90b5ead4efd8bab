"""The work order's lifecycle in one place: every step, who may take it, what it needs.

====================  ==========  ======================================================
from                  to          who
====================  ==========  ======================================================
dispatched            accepted    the department (a member of the target department)
dispatched, accepted  returned    the department, with a reason
accepted              completed   the department, with the result
returned              dispatched  the desk (re-dispatch: same or another department)
dispatched, accepted, cancelled   the desk, with a reason
returned
====================  ==========  ======================================================

"The desk" is staff who may work the ticket (``desk.change_ticket``) and see it; "the
department" is staff whose department, or one of whose teams' departments, is the order's.
A step that does not exist from the current status is a conflict (409, with the allowed ones);
a step that exists but is not the user's to take is forbidden (403).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.dispatch.models import WorkOrder

DESK = "desk"
DEPARTMENT = "department"
ROLE_LABELS: dict[str, Promise] = {
    DESK: gettext_lazy("客服（派单方）"),
    DEPARTMENT: gettext_lazy("承办部门"),
}

St = WorkOrder.Status
OPEN: tuple[str, ...] = (St.DISPATCHED, St.ACCEPTED)
"""The department still owes the work: the ticket cannot close, the deadline runs."""
ACTIVE: tuple[str, ...] = (*OPEN, St.RETURNED)
"""Not over yet: a returned order waits for the desk to re-dispatch or cancel it."""
FINAL: tuple[str, ...] = (St.COMPLETED, St.CANCELLED)


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    reason: bool = False  # a reason (the note) is required
    result: bool = False  # the result of the work is required


def _t(
    sources: str | tuple[str, ...],
    target: str,
    roles: tuple[str, ...],
    *,
    reason: bool = False,
    result: bool = False,
) -> Transition:
    if isinstance(sources, str):
        sources = (sources,)
    return Transition(frozenset(sources), target, frozenset(roles), reason, result)


TRANSITIONS: tuple[Transition, ...] = (
    _t(St.DISPATCHED, St.ACCEPTED, (DEPARTMENT,)),
    _t(OPEN, St.RETURNED, (DEPARTMENT,), reason=True),
    _t(St.ACCEPTED, St.COMPLETED, (DEPARTMENT,), result=True),
    _t(St.RETURNED, St.DISPATCHED, (DESK,)),
    _t(ACTIVE, St.CANCELLED, (DESK,), reason=True),
)

ACTION_LABELS: dict[str, Promise] = {
    St.ACCEPTED: gettext_lazy("接单"),
    St.RETURNED: gettext_lazy("退回"),
    St.COMPLETED: gettext_lazy("完成"),
    St.DISPATCHED: gettext_lazy("重新派单"),
    St.CANCELLED: gettext_lazy("撤销"),
}


def status_label(status: str) -> str:
    try:
        return str(WorkOrder.Status(status).label)
    except ValueError:
        return status


def transitions_from(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS if status in t.sources]


def allowed_targets(status: str, roles: frozenset[str]) -> list[str]:
    """The statuses a holder of ``roles`` may move an order in ``status`` to (the buttons and
    the 409/403 answers)."""
    return [t.target for t in transitions_from(status) if t.roles & roles]


class TransitionRefused(Exception):
    """Raised by ``transition_check``; the service turns it into 409 or 403."""

    def __init__(self, message: str, *, forbidden: bool, allowed: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden
        self.allowed = allowed


def transition_check(status: str, to: str, roles: frozenset[str]) -> Transition:
    """The step from ``status`` to ``to`` for a holder of ``roles``, or TransitionRefused."""
    allowed = allowed_targets(status, roles)
    candidates = [t for t in transitions_from(status) if t.target == to]
    if not candidates:
        raise TransitionRefused(
            _("派工单当前状态“%(current)s”不能转到“%(target)s”。")
            % {"current": status_label(status), "target": status_label(to)},
            forbidden=False,
            allowed=allowed,
        )
    permitted = [t for t in candidates if t.roles & roles]
    if not permitted:
        who = "、".join(str(ROLE_LABELS[role]) for role in sorted(candidates[0].roles))
        raise TransitionRefused(
            _("只有%(roles)s可以把派工单转到“%(target)s”。")
            % {"roles": who, "target": status_label(to)},
            forbidden=True,
            allowed=allowed,
        )
    return permitted[0]
