"""Who sees which work orders, and in which role they act on one.

Two ways in: the desk sees the work orders of the tickets it sees (the desk's ticket scope),
and a department sees the orders sent to it (its members need not see the ticket: an engineer
of 维修部 is outside the 客服 teams' scope). Outside both is 404 (ids don't leak); a step that
is not the user's role is 403 (kefu.dispatch.workflow).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core import versioned
from kefu.core.exceptions import NotFound
from kefu.desk.access import ticket_scope_filter
from kefu.desk.models import Ticket
from kefu.dispatch.models import WorkOrder
from kefu.dispatch.workflow import DEPARTMENT, DESK
from kefu.org.models import User

MAX_ID = 2**63 - 1


def member_department_ids(user: User | AnonymousUser) -> frozenset[int]:
    """The departments a member of staff belongs to: their own, and those of their teams.
    Cached under the permissions version, which a change of department, team or membership
    bumps (kefu.org.apps)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    assert isinstance(user, User)

    def departments() -> frozenset[int]:
        ids = set(user.memberships.values_list("team__department_id", flat=True))
        if user.department_id:
            ids.add(user.department_id)
        return frozenset(ids)

    return versioned.cached("perms", f"dispatch-departments:{user.pk}", departments)


def is_desk(user: User | AnonymousUser) -> bool:
    """Staff who work tickets: they dispatch, re-dispatch and cancel."""
    return bool(user.is_authenticated and user.is_active and user.has_perm("desk.change_ticket"))


def _visible_tickets(user: User | AnonymousUser) -> QuerySet[Ticket] | None:
    """The tickets whose work orders the user sees as desk staff: None = all of them; an empty
    queryset when the user does not see tickets at all."""
    if not user.has_perm("desk.view_ticket"):
        return Ticket.objects.none()
    visible = ticket_scope_filter(user)
    return None if visible is None else Ticket.objects.filter(visible)


def workorder_scope_filter(user: User | AnonymousUser) -> Q | None:
    """A filter for the work orders the user may see; None means every one."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    tickets = _visible_tickets(user)
    if tickets is None:
        return None
    return Q(ticket__in=tickets.values("id")) | Q(department_id__in=member_department_ids(user))


def workorders_for_user(user: User | AnonymousUser) -> QuerySet[WorkOrder]:
    orders = WorkOrder.objects.all()
    visible = workorder_scope_filter(user)
    return orders if visible is None else orders.filter(visible)


def workorder_get_for_user(*, user: User | AnonymousUser, work_order_id: int) -> WorkOrder:
    if not 0 < work_order_id <= MAX_ID:
        raise NotFound(_("派工单不存在。"))
    order = (
        workorders_for_user(user)
        .select_related(
            "ticket",
            "ticket__customer",
            "ticket__assignee",
            "department",
            "created_by",
            "accepted_by",
            "completed_by",
        )
        .filter(pk=work_order_id)
        .first()
    )
    if order is None:
        raise NotFound(_("派工单不存在。"))
    return order


def sees_ticket(user: User | AnonymousUser, ticket: Ticket) -> bool:
    tickets = _visible_tickets(user)
    return tickets is None or tickets.filter(pk=ticket.pk).exists()


def workorder_roles(user: User | AnonymousUser, order: WorkOrder) -> frozenset[str]:
    """The workflow roles the user holds on this order: the desk (works tickets and sees this
    one), the department (belongs to the order's department). A superuser holds both."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset({DESK, DEPARTMENT})
    roles = set()
    if is_desk(user) and sees_ticket(user, order.ticket):
        roles.add(DESK)
    if order.department_id in member_department_ids(user):
        roles.add(DEPARTMENT)
    return frozenset(roles)
