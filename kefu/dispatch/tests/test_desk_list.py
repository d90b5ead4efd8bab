"""Work orders in the desk's own ticket list (kefu.desk.listing, filled by kefu.dispatch): the
counts and badges per row (only dispatched and accepted orders count; overdue means strictly
past the deadline), the ``workorder=overdue|open`` filter on the web page and the API, one
query for a page's counts whatever its length, and the ticket page's "已逾期 3 小时"."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.desk.services import TicketInput, ticket_create
from kefu.dispatch.models import WorkOrder
from kefu.dispatch.selectors import ticket_workorder_condition, ticket_workorder_counts
from kefu.org.models import User

Dispatch = Callable[..., WorkOrder]


def _ticket(agent: User, customer: Customer, subject: str) -> Ticket:
    made, created = ticket_create(
        actor=agent,
        data=TicketInput(type="repair", channel="phone", subject=subject, customer_id=customer.pk),
    )
    assert created
    return made


def _order(dispatch: Dispatch, ticket: Ticket, *, status: str, deadline: dt.datetime) -> WorkOrder:
    order = dispatch(ticket=ticket)
    # the states and deadlines directly: the lifecycle has its own tests (test_lifecycle.py)
    WorkOrder.objects.filter(pk=order.pk).update(status=status, deadline=deadline)
    return order


@pytest.fixture
def tickets(agent: User, customer: Customer, dispatch: Dispatch) -> dict[str, Ticket]:
    """late: 2 orders overdue + 1 open within its deadline; open: 1 open within its deadline;
    done: completed, returned and cancelled orders, all past their deadlines; none: no order."""
    now = timezone.now()
    past, future = now - dt.timedelta(hours=3), now + dt.timedelta(days=1)
    made = {
        name: _ticket(agent, customer, f"派工测试 {name}")
        for name in ("late", "open", "done", "none")
    }
    _order(dispatch, made["late"], status="dispatched", deadline=past)
    _order(dispatch, made["late"], status="accepted", deadline=past)
    _order(dispatch, made["late"], status="accepted", deadline=future)
    _order(dispatch, made["open"], status="dispatched", deadline=future)
    for status in ("completed", "returned", "cancelled"):
        _order(dispatch, made["done"], status=status, deadline=past)
    return made


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _row(html: str, ticket: Ticket) -> str:
    found = re.search(
        rf"<tr>(?:(?!</tr>).)*?{re.escape(ticket.number)}(?:(?!</tr>).)*</tr>", html, re.S
    )
    assert found, ticket.number
    return found.group(0)


def _badges(row: str) -> list[tuple[str, str]]:
    return re.findall(r'data-badge="(\w+)">([^<]+)</a>', row)


@pytest.mark.django_db
def test_only_open_orders_count_and_a_deadline_of_exactly_now_is_not_overdue(
    agent: User, customer: Customer, dispatch: Dispatch, tickets: dict[str, Ticket]
) -> None:
    # given an order due at exactly the moment of the question
    at = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
    edge = _ticket(agent, customer, "派工测试 edge")
    _order(dispatch, edge, status="accepted", deadline=at)
    ids = [ticket.pk for ticket in (*tickets.values(), edge)]
    # when
    counts = ticket_workorder_counts(ids, at)
    overdue = set(
        Ticket.objects.filter(ticket_workorder_condition("overdue", at)).values_list(
            "pk", flat=True
        )
    )
    open_ = set(
        Ticket.objects.filter(ticket_workorder_condition("open", at)).values_list("pk", flat=True)
    )
    # then: "due at 10:00" is not late at 10:00, only after it
    assert counts == {
        tickets["late"].pk: {"workorders_open": 3, "workorders_overdue": 2},
        tickets["open"].pk: {"workorders_open": 1, "workorders_overdue": 0},
        edge.pk: {"workorders_open": 1, "workorders_overdue": 0},
    }
    assert overdue == {tickets["late"].pk}
    assert open_ == {tickets["late"].pk, tickets["open"].pk, edge.pk}
    later = at + dt.timedelta(microseconds=1)
    assert ticket_workorder_counts([edge.pk], later) == {
        edge.pk: {"workorders_open": 1, "workorders_overdue": 1}
    }
    assert ticket_workorder_counts([], at) == {}


@pytest.mark.django_db
def test_the_list_page_badges_each_row_and_filters_by_work_orders(
    agent: User, ticket: Ticket, tickets: dict[str, Ticket]
) -> None:
    # (``ticket``, the fixture's own, has no order: it is left out of the comparisons)
    client = _client(agent)
    # the badges: red for overdue orders, grey for the others still open, nothing for the rest
    html = client.get("/tickets/").content.decode()
    assert _badges(_row(html, tickets["late"])) == [
        ("danger", "派工单逾期 2"),
        ("neutral", "派工单 1"),
    ]
    assert _badges(_row(html, tickets["open"])) == [("neutral", "派工单 1")]
    assert _badges(_row(html, tickets["done"])) == []
    assert _badges(_row(html, tickets["none"])) == []
    late_row = _row(html, tickets["late"])
    assert 'title="2 张派工单已过完成时限，承办部门仍未完成"' in late_row
    assert f'href="/tickets/{tickets["late"].pk}/#work-orders"' in late_row
    # the quick link in the filter bar and the select of the form
    assert 'data-quick="workorder-overdue"' in html
    assert '<select class="form-select" name="workorder"' in html

    def listed(query: str) -> set[str]:
        page = client.get(f"/tickets/?queue=all&{query}").content.decode()
        table = page[page.index('data-testid="ticket-table"') :]
        return set(re.findall(r"GD\d{8}-\d{6}", table)) - {ticket.number}

    numbers = {name: ticket.number for name, ticket in tickets.items()}
    assert listed("workorder=overdue") == {numbers["late"]}
    assert listed("workorder=open") == {numbers["late"], numbers["open"]}
    # a bad value is ignored, as the list's other filters' are
    assert listed("workorder=late") == set(numbers.values())
    assert listed("workorder=") == set(numbers.values())
    selected = client.get("/tickets/?workorder=overdue").content.decode()
    assert '<option value="overdue" selected>' in selected
    assert re.search(
        r'class="nav-link active text-red"[^>]*data-quick="workorder-overdue"', selected
    )


@pytest.mark.django_db
def test_the_api_list_and_detail_carry_the_counts_and_filter_by_them(
    api_as: Callable[..., Any], agent: User, tickets: dict[str, Ticket]
) -> None:
    client = api_as(agent)
    items = {item["id"]: item for item in client.get("/api/v1/tickets").json()["items"]}
    counts = {
        name: (items[ticket.pk]["workorders_open"], items[ticket.pk]["workorders_overdue"])
        for name, ticket in tickets.items()
    }
    assert counts == {"late": (3, 2), "open": (1, 0), "done": (0, 0), "none": (0, 0)}
    detail = client.get(f"/api/v1/tickets/{tickets['late'].pk}").json()
    assert (detail["workorders_open"], detail["workorders_overdue"]) == (3, 2)

    def listed(value: str) -> set[int]:
        answer = client.get("/api/v1/tickets", workorder=value)
        assert answer.status_code == 200, answer.content
        return {item["id"] for item in answer.json()["items"]}

    assert listed("overdue") == {tickets["late"].pk}
    assert listed("open") == {tickets["late"].pk, tickets["open"].pk}
    # a bad value is 400, as the API's other choice filters (queue, age)
    refused = client.get("/api/v1/tickets", workorder="late")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {"workorder": ["派工单筛选只能是：overdue、open。"]}


@pytest.mark.django_db
def test_the_filter_stays_within_the_callers_scope(
    api_as: Callable[..., Any], outsider: User, tickets: dict[str, Ticket]
) -> None:
    assert api_as(outsider).get("/api/v1/tickets", workorder="open").json() == {
        "items": [],
        "count": 0,
    }
    page = _client(outsider).get("/tickets/?queue=all&workorder=overdue").content.decode()
    assert tickets["late"].number not in page


def _queries(run: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


@pytest.mark.django_db
def test_the_counts_cost_one_query_whatever_the_page_length(
    api_as: Callable[..., Any],
    agent: User,
    customer: Customer,
    dispatch: Dispatch,
    tickets: dict[str, Ticket],
) -> None:
    # given: a full page of tickets without orders (the 4 of the fixture are further down)
    web, api = _client(agent), api_as(agent)
    page = [_ticket(agent, customer, f"满页 {number}") for number in range(25)]
    web.get("/tickets/?queue=all")  # warm the session, permission and scope caches
    api.get("/api/v1/tickets")
    short_web = _queries(lambda: web.get("/tickets/?queue=all"))
    short_api = _queries(lambda: api.get("/api/v1/tickets"))
    assert 'data-badge="' not in web.get("/tickets/?queue=all").content.decode()
    # and then every one of them with an overdue order
    past = timezone.now() - dt.timedelta(hours=1)
    for ticket in page:
        _order(dispatch, ticket, status="accepted", deadline=past)
    # when
    full_web = _queries(lambda: web.get("/tickets/?queue=all"))
    full_api = _queries(lambda: api.get("/api/v1/tickets"))
    # then
    assert (full_web, full_api) == (short_web, short_api)
    html = web.get("/tickets/?queue=all").content.decode()
    assert html.count('data-badge="danger"') == 25  # every row of the page has its badge
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/v1/tickets")
    reads = [q["sql"] for q in queries if "dispatch_workorder" in q["sql"]]
    assert len(reads) == 1  # the page's open orders, by the page's ticket ids
    assert '"dispatch_workorder"."ticket_id" IN (' in reads[0]


@pytest.mark.django_db
def test_the_ticket_page_says_how_long_an_order_is_overdue(
    agent: User, ticket: Ticket, dispatch: Dispatch
) -> None:
    now = timezone.now()
    late = _order(
        dispatch, ticket, status="accepted", deadline=now - dt.timedelta(hours=3, minutes=5)
    )
    on_time = _order(dispatch, ticket, status="dispatched", deadline=now + dt.timedelta(days=2))
    html = _client(agent).get(f"/tickets/{ticket.pk}/").content.decode()
    late_row = re.search(
        rf'<div class="list-group-item([^"]*)" data-work-order="{late.number}">(.*?)</details>',
        html,
        re.S,
    )
    assert late_row
    assert "bg-red-lt" in late_row.group(1)
    assert "已逾期 3 小时" in late_row.group(2)
    on_time_row = re.search(
        rf'<div class="list-group-item([^"]*)" data-work-order="{on_time.number}">(.*?)</details>',
        html,
        re.S,
    )
    assert on_time_row
    assert "bg-red-lt" not in on_time_row.group(1)
    assert "已逾期" not in on_time_row.group(2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("late", "words"),
    [
        (dt.timedelta(seconds=10), "已逾期 1 分钟"),
        (dt.timedelta(minutes=42, seconds=30), "已逾期 42 分钟"),
        (dt.timedelta(hours=3, minutes=59), "已逾期 3 小时"),
        (dt.timedelta(days=1), "已逾期 1 天"),
        (dt.timedelta(days=2, hours=4, minutes=1), "已逾期 2 天 4 小时"),
    ],
)
def test_overdue_display_in_words(late: dt.timedelta, words: str) -> None:
    order = WorkOrder(status="accepted", deadline=timezone.now() - late)
    assert order.overdue_display == words
    assert WorkOrder(status="completed", deadline=timezone.now() - late).overdue_display == ""
    assert WorkOrder(status="accepted", deadline=timezone.now() + late).overdue_display == ""
