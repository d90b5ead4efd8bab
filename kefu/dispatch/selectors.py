"""Reading work orders: the monitor's filtered list and counts per department, a ticket's
orders, a department's inbox. Every list starts from the user's scope (kefu.dispatch.access)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import fastsql
from kefu.desk.listing import RowBadge
from kefu.desk.models import Ticket
from kefu.dispatch.access import member_department_ids, workorders_for_user
from kefu.dispatch.models import WorkOrder
from kefu.dispatch.workflow import ACTIVE, OPEN
from kefu.org.models import Department, User

ACTIVE_FILTER = "active"  # the monitor's default: dispatched, accepted and returned


@dataclass(frozen=True)
class WorkOrderFilters:
    """Empty means "any". ``status`` is a list of statuses, or ``active``."""

    statuses: tuple[str, ...] = ()
    department_id: int | None = None
    overdue: bool | None = None
    ticket_id: int | None = None


def parse_statuses(value: str) -> tuple[tuple[str, ...], list[str]]:
    """ "accepted,dispatched" or "active" → (statuses, unknown ones)."""
    wanted: list[str] = []
    unknown: list[str] = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        if part == ACTIVE_FILTER:
            wanted.extend(status for status in ACTIVE if status not in wanted)
        elif part in WorkOrder.Status.values:
            if part not in wanted:
                wanted.append(part)
        else:
            unknown.append(part)
    return tuple(wanted), unknown


def overdue_filter(now: datetime | None = None) -> Q:
    return Q(status__in=OPEN, deadline__lt=now or timezone.now())


def workorder_list(
    *, user: User, filters: WorkOrderFilters, base: QuerySet[WorkOrder] | None = None
) -> QuerySet[WorkOrder]:
    """The user's work orders, open ones by deadline (the most urgent first), then the rest
    newest first."""
    orders = workorders_for_user(user) if base is None else base
    if filters.statuses:
        orders = orders.filter(status__in=filters.statuses)
    if filters.department_id is not None:
        orders = orders.filter(department_id=filters.department_id)
    if filters.ticket_id is not None:
        orders = orders.filter(ticket_id=filters.ticket_id)
    if filters.overdue is True:
        orders = orders.filter(overdue_filter())
    elif filters.overdue is False:
        orders = orders.exclude(overdue_filter())
    return orders.select_related(
        "ticket", "ticket__customer", "ticket__assignee", "department", "created_by"
    ).order_by("deadline", "id")


def department_counts(orders: QuerySet[WorkOrder]) -> list[dict[str, Any]]:
    """Per department: open (dispatched + accepted), overdue, due soon and returned orders,
    one aggregate query over the user's scope."""
    now = timezone.now()
    soon = now + timedelta(hours=settings.WORKORDER_DUE_SOON_HOURS)
    rows = (
        orders.filter(status__in=ACTIVE)
        .order_by()
        .values("department_id")
        .annotate(
            open=Count("id", filter=Q(status__in=OPEN)),
            overdue=Count("id", filter=overdue_filter(now)),
            due_soon=Count("id", filter=Q(status__in=OPEN, deadline__gte=now, deadline__lte=soon)),
            returned=Count("id", filter=Q(status=WorkOrder.Status.RETURNED)),
        )
    )
    names = dict(Department.objects.values_list("id", "name"))
    counts = [{**row, "name": names.get(row["department_id"], "")} for row in rows]
    return sorted(counts, key=lambda row: (-row["overdue"], -row["open"], row["name"]))


def ticket_workorders(ticket: Ticket) -> QuerySet[WorkOrder]:
    """Every order of a ticket, oldest first, with its events (the ticket page's panel)."""
    return (
        WorkOrder.objects.filter(ticket=ticket)
        .select_related("department", "created_by", "accepted_by", "completed_by")
        .prefetch_related("events__actor", "events__department")
        .order_by("id")
    )


def inbox_departments(user: User) -> list[Department]:
    """The departments whose inbox the user reads (superusers: every department)."""
    if user.is_superuser:
        return list(Department.objects.order_by("id"))
    return list(Department.objects.filter(id__in=member_department_ids(user)).order_by("id"))


def inbox_list(user: User, *, department_ids: list[int], statuses: tuple[str, ...]) -> Any:
    orders = WorkOrder.objects.filter(department_id__in=department_ids)
    return workorder_list(user=user, filters=WorkOrderFilters(statuses=statuses), base=orders)


# --- the desk's ticket list (kefu.desk.listing): filter, counts and badges per row ------------

WORKORDER_OPEN = "open"  # the ticket has a dispatched or accepted order
WORKORDER_OVERDUE = "overdue"  # … and one of them is past its deadline


def ticket_workorder_condition(value: str, now: datetime) -> Q:
    """Tickets with an open (or an open and overdue) order. An EXISTS subquery, not a join:
    the list keeps its plan, and the planner reads the few open orders through
    dispatch_wo_status_deadline (a semi-join on the ticket ids)."""
    orders = WorkOrder.objects.filter(ticket_id=OuterRef("pk"), status__in=OPEN)
    if value == WORKORDER_OVERDUE:
        orders = orders.filter(deadline__lt=now)
    return Q(Exists(orders))


# A page's open orders with their deadlines, by the page's ticket ids (the index
# dispatch_wo_ticket): compiled once per connection and page length (kefu.core.fastsql), as
# compiling it cost more than running it on every list request.
_PAGE_OPEN_ORDERS = fastsql.PreparedValues(
    lambda ids: (
        WorkOrder.objects.filter(ticket_id__in=ids, status__in=OPEN)
        .order_by()
        .values("ticket_id", "deadline")
    )
)


def ticket_workorder_counts(ticket_ids: Sequence[int], now: datetime) -> dict[int, dict[str, int]]:
    """Open and overdue orders of each of a page's tickets, counted from the page's open orders
    (a handful). Tickets without an open order are left out (0 and 0)."""
    counts: dict[int, dict[str, int]] = {}
    for row in _PAGE_OPEN_ORDERS.rows(ticket_ids):
        entry = counts.setdefault(row["ticket_id"], {"workorders_open": 0, "workorders_overdue": 0})
        entry["workorders_open"] += 1
        if row["deadline"] < now:
            entry["workorders_overdue"] += 1
    return counts


def ticket_workorder_badges(facts: dict[str, int]) -> list[RowBadge]:
    """Red: open orders past their deadline; grey: open orders still within it."""
    overdue = facts.get("workorders_overdue", 0)
    within = facts.get("workorders_open", 0) - overdue
    badges = []
    if overdue:
        badges.append(
            RowBadge(
                label=_("派工单逾期 %(n)d") % {"n": overdue},
                title=_("%(n)d 张派工单已过完成时限，承办部门仍未完成") % {"n": overdue},
                tone="danger",
                anchor="work-orders",
            )
        )
    if within:
        badges.append(
            RowBadge(
                label=_("派工单 %(n)d") % {"n": within},
                title=_("%(n)d 张派工单在办，未超过完成时限") % {"n": within},
                anchor="work-orders",
            )
        )
    return badges
