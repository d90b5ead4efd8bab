"""Reading tickets: scoped lists with the queues and filters, search, the detail's timeline.

Lists are ordered by id descending (newest first), which the indexes serve directly (keyset
with ``before_id``, or offset pages); counts are capped so a list of a million tickets never
counts them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import Q, QuerySet, Value, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from kefu.core import fastsql
from kefu.core.phones import InvalidPhone, normalize_mobile
from kefu.customers.models import Customer
from kefu.desk.access import tickets_for_user
from kefu.desk.listing import facets_condition
from kefu.desk.models import (
    Ticket,
    TicketApproval,
    TicketComment,
    TicketSearchGram,
    TicketTransition,
    open_tickets_q,
)
from kefu.desk.services import subject_grams
from kefu.org.access import member_team_ids
from kefu.org.models import User

COUNT_CAP = 1_000  # a list says "1000+" beyond: counting 10,000 rows cost 80 ms at 1M tickets
SEARCH_COUNT_CAP = 100  # a keyword search says "100+": a common word matches tens of thousands
_NUMBER = re.compile(r"^GD\d{8}-\d{6,7}$", re.IGNORECASE)
_DAY = re.compile(r"^GD\d{8}-?$", re.IGNORECASE)

QUEUES = ("mine", "team", "unassigned", "at_risk", "breached", "open", "all")
QUEUE_COUNT_CAP = 99  # the queue tabs say "99+" beyond: each tab count reads at most 100 rows


@dataclass(frozen=True)
class AgeBucket:
    """An open ticket's age since creation, ``min_days`` (inclusive) to ``max_days``
    (exclusive; None: no upper bound). The keys are those of the KPI layer's backlog ageing."""

    key: str
    label: Promise
    min_days: int
    max_days: int | None


AGE_BUCKETS = (
    AgeBucket("lt1d", gettext_lazy("1天内"), 0, 1),
    AgeBucket("1to3d", gettext_lazy("1–3天"), 1, 3),
    AgeBucket("3to7d", gettext_lazy("3–7天"), 3, 7),
    AgeBucket("7to30d", gettext_lazy("7–30天"), 7, 30),
    AgeBucket("gt30d", gettext_lazy("30天以上"), 30, None),
)
AGE_KEYS = tuple(bucket.key for bucket in AGE_BUCKETS)


def age_filter(key: str, now: datetime) -> Q:
    """Tickets created within the age bucket ``key`` as of ``now``."""
    bucket = next(bucket for bucket in AGE_BUCKETS if bucket.key == key)
    condition = Q()
    if bucket.min_days:
        condition &= Q(created_at__lte=now - timedelta(days=bucket.min_days))
    if bucket.max_days is not None:
        condition &= Q(created_at__gt=now - timedelta(days=bucket.max_days))
    return condition


def day_start(day: date) -> datetime:
    """The first instant of ``day`` in the business time zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_range_filter(field: str, first: date | None, last: date | None) -> Q:
    """``field`` within the business days ``first`` to ``last``, both inclusive."""
    condition = Q()
    if first is not None:
        condition &= Q(**{f"{field}__gte": day_start(first)})
    if last is not None:
        condition &= Q(**{f"{field}__lt": day_start(last + timedelta(days=1))})
    return condition


@dataclass(frozen=True)
class TicketFilters:
    """The list's filters; empty means "any". Dates are business days (Asia/Shanghai), both
    ends inclusive; ``age`` is one of AGE_KEYS (open tickets by time since creation, as the
    dashboard's ageing chart); ``teams`` is any of several teams; ``unresolved`` leaves out
    the resolved tickets still waiting to be closed (the backlog of the KPI layer); ``facets``
    are (name, value) pairs of the filters other apps add (kefu.desk.listing, e.g.
    ("workorder", "overdue"))."""

    queue: str = ""
    status: str = ""
    type: str = ""
    priority: str = ""
    channel: str = ""
    assignee: int | None = None
    team: int | None = None
    customer_id: int | None = None
    breached: bool | None = None
    q: str = ""
    teams: tuple[int, ...] = ()
    created_from: date | None = None
    created_to: date | None = None
    resolved_from: date | None = None
    resolved_to: date | None = None
    age: str = ""
    unresolved: bool = False
    facets: tuple[tuple[str, str], ...] = ()


def ticket_search_filter(q: str) -> Q | None:
    """A ticket number (exact, or GD+date for the day's tickets), a customer's mobile, or a
    fragment of the subject (every 2-character Chinese fragment of it, through the bigram
    index; other text by a plain match)."""
    q = q.strip()
    if not q:
        return None
    if _NUMBER.match(q):
        return Q(number=q.upper())
    if _DAY.match(q):
        day = q.upper().rstrip("-")
        return Q(number__gte=f"{day}-", number__lt=f"{day}-A")
    digits = re.sub(r"[\s-]", "", q)
    if re.fullmatch(r"(\+?86|0086)?1\d{10}", digits):
        try:
            mobile = normalize_mobile(digits)
        except InvalidPhone:
            mobile = ""
        if mobile:
            return Q(customer_id__in=Customer.objects.filter(mobile=mobile).values("id"))
    grams = subject_grams(q)
    if grams:
        match = Q()
        rare = _rare_gram_ids(grams)
        if rare is not None:
            # A rare word: its few tickets by id. Walking the newest tickets for matches would
            # read the whole table when fewer than a page of tickets have it (400 ms at 1M).
            match &= Q(id__in=rare)
        for gram in sorted(grams):
            match &= Q(id__in=TicketSearchGram.objects.filter(gram=gram).values("ticket_id"))
        if len(q) > 2:
            match &= Q(subject__icontains=q)
        return match
    return Q(subject__icontains=q) | Q(number=q.upper())


def at_risk_filter(now: Any = None) -> Q:
    """Open tickets whose running SLA clock is past its warning point (80 % of the target) and
    not yet breached: warned by the periodic task, or past a check point the task has not
    reached yet (``sla_next_check_at`` is the earliest unprocessed point of the running clocks,
    a warning point first). Paused and stopped clocks have no ``sla_next_check_at``; breached
    tickets are the "breached" queue. The partial indexes desk_ticket_warned and
    desk_ticket_sla_check serve this (a bitmap of the few at-risk rows, not of every running
    clock: 20 → 7 ms at 1M tickets)."""
    now = now or timezone.now()
    return (
        open_tickets_q()
        & Q(sla_next_check_at__isnull=False, sla_breached=False)
        & (Q(response_warned=True) | Q(resolution_warned=True) | Q(sla_next_check_at__lte=now))
    )


def queue_filter(queue: str, user: User) -> Q | None:
    """The queue's condition (None: every ticket the user sees)."""
    if queue == "mine":
        return open_tickets_q() & Q(assignee_id=user.pk)
    if queue == "team":
        # the ids themselves (from the versioned cache), not a subquery: then the planner walks
        # the partial index desk_ticket_team_open
        return open_tickets_q() & Q(team_id__in=sorted(member_team_ids(user)))
    if queue == "unassigned":
        if connection.vendor == "postgresql":
            return open_tickets_q() & Q(assignee__isnull=True)
        # SQLite looks an IS NULL up in the assignee index, whatever the statistics say, and
        # reads every ticket without an assignee (220 ms at 1M seeded tickets); as a value it
        # cannot look up, the open tickets are read instead (the open queue's plan, 6–11 ms)
        return open_tickets_q() & Q(Exact(Coalesce("assignee_id", Value(0)), 0))
    if queue == "at_risk":
        return at_risk_filter()
    if queue == "breached":
        return open_tickets_q() & Q(sla_breached=True)
    if queue == "open":
        return open_tickets_q()
    return None


RARE_GRAM_LIMIT = 2_000  # a gram on fewer tickets than this is looked up by its ticket ids


def _rare_gram_ids(grams: set[str]) -> list[int] | None:
    """The ids of the tickets that have the first of the grams that is rare (on at most
    RARE_GRAM_LIMIT tickets, read from the gram index), or None when every gram is common
    (then the newest tickets fill a page fast)."""
    for gram in sorted(grams):
        tickets = TicketSearchGram.objects.filter(gram=gram)
        if tickets[: RARE_GRAM_LIMIT + 1].count() <= RARE_GRAM_LIMIT:  # an index-only count
            return list(tickets.values_list("ticket_id", flat=True))
    return None


def ticket_list(*, user: User, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    filters = filters or TicketFilters()
    tickets = tickets_for_user(user)
    queue = queue_filter(filters.queue, user)
    if queue is not None:
        tickets = tickets.filter(queue)
    if filters.status:
        tickets = tickets.filter(status__in=filters.status.split(","))
    if filters.type:
        tickets = tickets.filter(type__in=filters.type.split(","))
    if filters.priority:
        tickets = tickets.filter(priority__in=filters.priority.split(","))
    if filters.channel:
        tickets = tickets.filter(channel__in=filters.channel.split(","))
    if filters.assignee is not None:
        tickets = tickets.filter(assignee_id=filters.assignee)
    if filters.team is not None:
        tickets = tickets.filter(team_id=filters.team)
    if filters.customer_id is not None:
        tickets = tickets.filter(customer_id=filters.customer_id)
    if filters.breached is not None:
        tickets = tickets.filter(sla_breached=filters.breached)
    if filters.teams:
        tickets = tickets.filter(team_id__in=sorted(set(filters.teams)))
    if filters.created_from or filters.created_to:
        tickets = tickets.filter(
            day_range_filter("created_at", filters.created_from, filters.created_to)
        )
    if filters.resolved_from or filters.resolved_to:
        tickets = tickets.filter(
            day_range_filter("resolved_at", filters.resolved_from, filters.resolved_to)
        )
    if filters.unresolved:
        tickets = tickets.filter(resolved_at__isnull=True)
    if filters.age in AGE_KEYS:
        tickets = tickets.filter(age_filter(filters.age, timezone.now()))
    if filters.facets:
        facets = facets_condition(filters.facets, timezone.now())
        if facets is not None:
            tickets = tickets.filter(facets)
    search = ticket_search_filter(filters.q)
    if search is not None:
        tickets = tickets.filter(search)
    return tickets.select_related("customer", "assignee", "team").order_by("-id")


def queue_counts(user: User, queues: tuple[str, ...] = QUEUES) -> dict[str, int]:
    """Each queue's size for the tabs, capped at QUEUE_COUNT_CAP + 1 (shown as "99+"): one
    small query per queue, each stopping after 100 rows of its index."""
    visible = tickets_for_user(user)
    counts = {}
    for queue in queues:
        condition = queue_filter(queue, user)
        tickets = visible if condition is None else visible.filter(condition)
        counts[queue] = capped_count(tickets, QUEUE_COUNT_CAP)
    return counts


def first_page_ids(tickets: QuerySet[Ticket], size: int, cap: int) -> tuple[list[int], int]:
    """The first ``size`` ids of the list (newest first) and its count capped at ``cap`` + 1,
    in one query: the database reads the first cap + 1 ids once, counts them with a window,
    and sends back only the page. (A separate count read the same index again, with its own
    round trip; bringing the 1,001 ids over to count them in Python cost more than the
    page.)"""
    head = tickets.order_by("-id").values_list("id", flat=True)[: max(cap + 1, size)]
    try:
        sql, params = head.query.sql_with_params()
    except EmptyResultSet:  # a filter no row can match (an empty id list): nothing to read
        return [], 0
    with connections[tickets.db].cursor() as cursor:
        cursor.execute(
            f"SELECT head.id, COUNT(*) OVER () FROM ({sql}) head "  # noqa: S608 (the ORM's SQL)
            "ORDER BY head.id DESC LIMIT %s",
            [*params, size],
        )
        rows = cursor.fetchall()
    count = int(rows[0][1]) if rows else 0
    return [int(row[0]) for row in rows], min(count, cap + 1)


def capped_count(tickets: QuerySet[Ticket], cap: int = COUNT_CAP) -> int:
    """The number of rows, counting at most ``cap`` + 1 (a million-row filter stays cheap)."""
    return tickets.order_by()[: cap + 1].count()


def list_count_cap(q: str) -> int:
    return SEARCH_COUNT_CAP if q.strip() else COUNT_CAP


# A ticket's comments (with their authors), transitions (with their actors) and approvals
# (with their approvers), in their models' order: read on every ticket page and API detail,
# compiled once per connection (kefu.core.fastsql).
COMMENTS = fastsql.PreparedObjects(
    lambda pk: TicketComment.objects.select_related("author").filter(ticket_id=pk)
)
TRANSITIONS = fastsql.PreparedObjects(
    lambda pk: TicketTransition.objects.select_related("actor").filter(ticket_id=pk)
)
APPROVALS = fastsql.PreparedObjects(
    lambda pk: TicketApproval.objects.select_related("approver").filter(ticket_id=pk)
)


def ticket_comments(ticket: Ticket) -> list[TicketComment]:
    """The ticket's comments in order, each with its author and its attachments."""
    comments: list[TicketComment] = COMMENTS.all(ticket.pk)
    prefetch_related_objects(comments, "attachments")
    return comments


def ticket_transitions(ticket: Ticket) -> list[TicketTransition]:
    found: list[TicketTransition] = TRANSITIONS.all(ticket.pk)
    return found


def ticket_approvals(ticket: Ticket) -> list[TicketApproval]:
    found: list[TicketApproval] = APPROVALS.all(ticket.pk)
    return found


def ticket_timeline_entries(ticket: Ticket) -> list[dict[str, Any]]:
    """Comments and transitions in time order, for the detail page."""
    entries: list[dict[str, Any]] = []
    for comment in ticket_comments(ticket):
        entries.append({"kind": "comment", "at": comment.created_at, "item": comment})
    for transition in ticket_transitions(ticket):
        entries.append({"kind": "transition", "at": transition.created_at, "item": transition})
    entries.sort(key=lambda entry: (entry["at"], entry["kind"] == "comment"))
    return entries


def unread_notifications(user: User, limit: int = 10) -> tuple[int, list[Any]]:
    from kefu.desk.models import Notification

    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    items = list(unread.select_related("ticket").order_by("-id")[:limit])
    count = len(items) if len(items) < limit else unread.count()
    return count, items
