"""The ticket list's queues (with their counts), its filters, and its query count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from kefu.desk.models import (
    ENDED_TICKET_STATUSES,
    OPEN_TICKET_STATUSES,
    Ticket,
    open_tickets_q,
)
from kefu.desk.selectors import QUEUES, TicketFilters, queue_counts, ticket_list
from kefu.desk.sla import sla_schedule
from kefu.desk.workflow import ENDED_STATUSES, OPEN_STATUSES
from kefu.org.models import User

pytestmark = pytest.mark.django_db


def _ids(user: User, **filters: Any) -> list[int]:
    return list(
        ticket_list(user=user, filters=TicketFilters(**filters)).values_list("pk", flat=True)
    )


def test_the_open_indexes_leave_out_exactly_the_final_statuses_of_the_lifecycles() -> None:
    # the partial indexes on open tickets are used only when the query's condition matches
    # theirs, NOT IN the ended statuses (PostgreSQL) or IN the open ones (SQLite): both lists
    # are the lifecycles'
    assert ENDED_TICKET_STATUSES == ENDED_STATUSES
    assert OPEN_TICKET_STATUSES == OPEN_STATUSES
    # and every status is either open or ended, never both
    assert set(ENDED_STATUSES) | set(OPEN_STATUSES) == set(Ticket.Status.values)
    assert not set(ENDED_STATUSES) & set(OPEN_STATUSES)


def test_open_tickets_are_those_in_an_open_status(open_ticket: Callable[..., Ticket]) -> None:
    tickets = [open_ticket() for _ in range(len(Ticket.Status.values))]
    for ticket, status in zip(tickets, Ticket.Status.values, strict=True):
        Ticket.objects.filter(pk=ticket.pk).update(status=status)
    found = Ticket.objects.filter(open_tickets_q()).values_list("status", flat=True)
    assert sorted(found) == sorted(OPEN_STATUSES)


def test_the_open_queue_asks_in_the_form_of_the_open_tickets_indexes(agent: User) -> None:
    queue = ticket_list(user=agent, filters=TicketFilters(queue="open"))
    sql, params = queue.values_list("id", flat=True)[:25].query.sql_with_params()
    if connection.vendor != "postgresql":
        # SQLite asks IN the open statuses (its planner looks them up in desk_ticket_queue)
        # with the statuses written into the SQL, as its partial indexes have them
        assert "IN ('new', 'open', 'in_progress'" in sql
        assert " NOT " not in sql
        # and "unassigned" not as an IS NULL, which it would look up in the assignee index
        unassigned = ticket_list(user=agent, filters=TicketFilters(queue="unassigned"))
        assert "IS NULL" not in str(unassigned.query)
        assert "COALESCE" in str(unassigned.query)
        return
    # PostgreSQL: NOT IN the ended statuses, as desk_ticket_open's condition reads, and that
    # index carries every column the agent's scope tests (the bench's EXPLAIN at 1M tickets
    # shows the index-only scan; a test's few rows would rightly be read from the table)
    assert 'NOT ("desk_ticket"."status" IN (%s, %s, %s, %s, %s, %s))' in sql
    assert set(ENDED_TICKET_STATUSES) <= set(params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'desk_ticket_open'")
        (definition,) = cursor.fetchone()
    included = definition.split(" INCLUDE (")[1].split(")")[0].split(", ")
    scope = ("team_id", "customer_team_id", "assignee_id", "created_by_id", "customer_id")
    assert set(scope) | {"status"} <= set(included)
    assert "WHERE (NOT ((status)::text = ANY" in definition
    assert all(f"'{status}'" in definition for status in ENDED_TICKET_STATUSES)


def test_at_risk_is_warned_or_past_the_warning_point_and_not_breached(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    # given four open tickets with running clocks
    calm, warned, past_warning, breached = (open_ticket() for _ in range(4))
    paused = open_ticket()
    now = timezone.now()
    Ticket.objects.filter(pk=warned.pk).update(resolution_warned=True)
    # past the warning point before the periodic task has run: the next check point, which
    # the desk keeps on the ticket, is behind us
    late = Ticket.objects.get(pk=past_warning.pk)
    late.resolution_warn_at = now - timedelta(minutes=1)
    sla_schedule(late)
    late.save()
    assert late.sla_next_check_at is not None
    assert late.sla_next_check_at <= now
    Ticket.objects.filter(pk=breached.pk).update(
        sla_breached=True, resolution_breached=True, resolution_warned=True
    )
    # a paused clock (waiting on the customer) has no next check: not at risk
    Ticket.objects.filter(pk=paused.pk).update(resolution_warned=True, sla_next_check_at=None)

    # then
    assert _ids(agent, queue="at_risk") == [past_warning.pk, warned.pk]
    assert _ids(agent, queue="breached") == [breached.pk]
    assert calm.pk not in _ids(agent, queue="at_risk")


def test_a_closed_breached_ticket_leaves_the_breached_queue(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    Ticket.objects.filter(pk=ticket.pk).update(sla_breached=True, status=Ticket.Status.CLOSED)
    assert _ids(agent, queue="breached") == []
    assert _ids(agent, breached=True) == [ticket.pk]


def test_queue_counts_cover_every_queue_and_stop_at_100(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    mine = open_ticket(assignee_id=agent.pk)
    open_ticket(team_id=0)
    counts = queue_counts(agent)
    assert set(counts) == set(QUEUES)
    assert counts["mine"] == 1
    assert counts["open"] == 2
    assert counts["breached"] == 0
    Ticket.objects.filter(pk=mine.pk).update(status=Ticket.Status.CLOSED)
    assert queue_counts(agent, ("mine", "all")) == {"mine": 0, "all": 2}


def test_filters_by_priority_channel_team_assignee_and_customer(
    agent: User,
    supervisor: User,
    org: dict[str, Any],
    open_ticket: Callable[..., Ticket],
    make_user: Callable[..., User],
) -> None:
    urgent = open_ticket(priority="urgent", channel="email", assignee_id=supervisor.pk)
    normal = open_ticket(priority="normal", channel="phone")
    assert _ids(agent, priority="urgent") == [urgent.pk]
    assert _ids(agent, channel="phone") == [normal.pk]
    assert _ids(agent, assignee=supervisor.pk) == [urgent.pk]
    assert _ids(agent, team=org["team_a"].pk) == [normal.pk, urgent.pk]
    assert _ids(agent, team=org["team_b"].pk) == []
    assert _ids(agent, customer_id=normal.customer_id) == [normal.pk, urgent.pk]


def test_the_list_page_shows_the_queues_with_counts_and_filters(
    agent: User, open_ticket: Callable[..., Ticket], login: Callable[[User], Client]
) -> None:
    ticket = open_ticket(priority="high", assignee_id=agent.pk)
    Ticket.objects.filter(pk=ticket.pk).update(sla_breached=True)
    client = login(agent)
    page = client.get("/tickets/?queue=breached&priority=high").content.decode()
    assert 'data-count="breached">1<' in page
    assert 'data-count="mine">1<' in page
    assert ticket.number in page
    assert 'name="ids"' in page  # a checkbox per row for the bulk actions
    assert "queue=mine&amp;priority=high" in page  # the tabs keep the filters
    assert ticket.number not in client.get("/tickets/?queue=all&priority=low").content.decode()


def test_the_customer_filter_names_the_customer(
    agent: User, open_ticket: Callable[..., Ticket], login: Callable[[User], Client]
) -> None:
    ticket = open_ticket()
    page = login(agent).get(f"/tickets/?queue=all&customer={ticket.customer_id}")
    assert "上海海尔空调有限公司" in page.content.decode()
    assert 'data-testid="customer-filter"' in page.content.decode()


def test_the_list_page_query_count_does_not_grow_with_rows(
    agent: User,
    open_ticket: Callable[..., Ticket],
    login: Callable[[User], Client],
    django_assert_max_num_queries: Any,
) -> None:
    # given a full page and more of tickets, each with customer, assignee and team
    for _ in range(30):
        open_ticket(assignee_id=agent.pk)
    client = login(agent)
    client.get("/tickets/")  # warm the session and permission caches
    # then the page with its 7 queue counts, filters, rows and the rows' work order counts
    # (one query for the page, kefu.desk.listing) stays within a fixed budget
    with django_assert_max_num_queries(17):
        response = client.get("/tickets/?queue=mine&page=2")
    assert response.status_code == 200
    # and the htmx rows alone skip the counts and the filter lists
    with django_assert_max_num_queries(8):
        assert client.get("/tickets/?queue=mine", headers={"HX-Request": "true"}).status_code == 200


@pytest.mark.parametrize(
    ("tickets", "page", "says"),
    [
        (3, 1, "共 3 张工单"),
        (5, 1, "超过 4 张工单"),
        (30, 1, "超过 4 张工单"),
        (30, 2, "超过 4 张工单"),
    ],
)
def test_the_list_says_how_many_up_to_the_cap_on_every_page(
    agent: User,
    open_ticket: Callable[..., Ticket],
    login: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
    tickets: int,
    page: int,
    says: str,
) -> None:
    # given the list's count capped at 4 (1,000 in production) and some of the agent's tickets
    monkeypatch.setattr("kefu.desk.selectors.COUNT_CAP", 4)
    made = [open_ticket(assignee_id=agent.pk) for _ in range(tickets)]
    # when a page of the agent's queue is shown (the first reads its count with its ids)
    content = login(agent).get(f"/tickets/?queue=mine&page={page}").content.decode()
    # then it says how many, or that there are more than the cap
    assert says in content
    newest_first = sorted(made, key=lambda ticket: -ticket.pk)
    assert newest_first[(page - 1) * 25].number in content


def test_the_literal_status_list_takes_status_codes_only() -> None:
    # the SQLite form writes the statuses into the SQL: anything but a code is refused
    from django.db.models import F

    from kefu.desk.models import _InLiterals

    with pytest.raises(ValueError, match="status codes only"):
        _InLiterals(F("status"), ("open", "x') OR 1=1 --"))
    assert _InLiterals(F("status"), ("open", "in_progress")).rhs == ("open", "in_progress")
