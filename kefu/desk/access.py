"""Who sees which tickets: those of the customers they see and those of their teams (the data
scope of kefu.org.access, with the customers' permissions), and those assigned to or created by
them. Outside the scope is 404 (ids don't leak); inside it without the permission is 403."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core import fastsql
from kefu.core.exceptions import Forbidden, NotFound
from kefu.customers.models import Customer
from kefu.desk.models import Ticket, TicketAttachment
from kefu.org.access import user_scope
from kefu.org.models import User

MAX_ID = 2**63 - 1


def ticket_scope_filter(user: User | AnonymousUser) -> Q | None:
    """A filter for the tickets the user may see; None means every ticket."""
    scope = user_scope(
        user,
        all_perm="customers.view_all_customers",
        department_perm="customers.view_department_customers",
    )
    if scope.all:
        return None
    # Every term is a column of the ticket (customer_team is the customer's serving team, kept
    # in step), or a small subquery: no join to the customers for each ticket row.
    visible = Q(team_id__in=scope.team_ids) | Q(customer_team_id__in=scope.team_ids)
    if scope.user_id is not None:
        visible |= (
            Q(assignee_id=scope.user_id)
            | Q(created_by_id=scope.user_id)
            | Q(customer_id__in=Customer.objects.filter(owner_id=scope.user_id).values("id"))
        )
    return visible


def tickets_for_user(user: User | AnonymousUser) -> QuerySet[Ticket]:
    if not user.has_perm("desk.view_ticket"):
        raise Forbidden(_("您没有查看工单的权限。"))
    tickets = Ticket.objects.all()
    visible = ticket_scope_filter(user)
    return tickets if visible is None else tickets.filter(visible)


def ticket_visible(user: User | AnonymousUser, ticket: Ticket) -> bool:
    """``ticket_scope_filter`` as a test of one ticket already read, its customer with it
    (select_related): the detail reads the ticket by its id alone (kefu.core.fastsql)."""
    scope = user_scope(
        user,
        all_perm="customers.view_all_customers",
        department_perm="customers.view_department_customers",
    )
    if scope.all:
        return True
    teams = scope.team_ids
    if (ticket.team_id is not None and ticket.team_id in teams) or (
        ticket.customer_team_id is not None and ticket.customer_team_id in teams
    ):
        return True
    me = scope.user_id
    if me is None:
        return False
    if me in (ticket.assignee_id, ticket.created_by_id):
        return True
    customer = ticket.customer if ticket.customer_id is not None else None
    return customer is not None and customer.owner_id == me


# One ticket with what its page and its API answer show, by its id: compiled once per
# connection (compiling the five joins cost more than running them).
TICKET_BY_ID = fastsql.PreparedObjects(
    lambda pk: (
        Ticket.objects.select_related(
            "customer", "assignee", "team", "created_by", "responsible_department"
        )
        .filter(pk=pk)
        .order_by()
    )
)


def ticket_get_for_user(
    *, user: User | AnonymousUser, ticket_id: int, write: bool = False
) -> Ticket:
    if not user.has_perm("desk.view_ticket"):
        raise Forbidden(_("您没有查看工单的权限。"))
    if not 0 < ticket_id <= MAX_ID:
        raise NotFound(_("工单不存在。"))
    ticket: Ticket | None = TICKET_BY_ID.first(ticket_id)
    if ticket is None or not ticket_visible(user, ticket):
        raise NotFound(_("工单不存在。"))
    if write and not user.has_perm("desk.change_ticket"):
        raise Forbidden(_("您没有处理工单的权限。"))
    return ticket


def attachment_get_for_user(
    *, user: User | AnonymousUser, ticket_id: int, attachment_id: int
) -> TicketAttachment:
    """An attachment of a ticket the user may see (404 otherwise)."""
    ticket = ticket_get_for_user(user=user, ticket_id=ticket_id)
    found = ticket.attachments.filter(pk=attachment_id).first() if attachment_id <= MAX_ID else None
    if found is None:
        raise NotFound(_("附件不存在。"))
    return found
