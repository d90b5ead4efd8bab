"""The desk wired to its neighbours: routing decides who gets a new ticket (and counts each
agent's open tickets for least-loaded), and a call becomes a ticket in one click."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from conftest import ApiClient
from kefu.calls.models import AgentLine, Call
from kefu.calls.tests.helpers import event, post_event
from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.desk.services import TicketInput, open_tickets_per_agent, ticket_create
from kefu.org.models import User
from kefu.routing.models import RoutingRule
from kefu.routing.tests.helpers import give, online, rule

ApiAs = Callable[[User | None], ApiClient]


def _create(api: ApiClient, customer: Customer, **extra: Any) -> Any:
    return api.post(
        "/api/v1/tickets",
        {
            "type": "complaint",
            "channel": "phone",
            "customer_id": customer.pk,
            "subject": "空调不制冷",
            "body": "安装三天后不制冷",
            "priority": "normal",
            **extra,
        },
    )


def test_a_new_ticket_goes_to_the_online_agent_with_the_skill_the_rule_asks_for(
    make_user: Callable[..., User],
    org: dict[str, Any],
    customer: Customer,
    agent: User,
    api_as: ApiAs,
) -> None:
    # given: complaints go to team A, to agents with the complaint skill; only one has it
    handler = make_user("handler", "agent", teams=("team_a",))
    other = make_user("other", "agent", teams=("team_a",))
    give(handler, "complaint")
    online(handler, other)
    rule("投诉", team=org["team_a"], skill_code="complaint", ticket_type="complaint")
    # when
    response = _create(api_as(agent), customer)
    # then
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert (ticket.assignee, ticket.team) == (handler, org["team_a"])


def test_an_assignee_chosen_by_hand_is_kept(
    make_user: Callable[..., User],
    org: dict[str, Any],
    customer: Customer,
    agent: User,
) -> None:
    handler = make_user("handler", "agent", teams=("team_a",))
    give(handler, "complaint")
    online(handler)
    rule("投诉", team=org["team_a"], skill_code="complaint", ticket_type="complaint")
    ticket, _created = ticket_create(
        actor=agent,
        data=TicketInput(
            type="complaint",
            channel="phone",
            subject="s",
            customer_id=customer.pk,
            assignee_id=agent.pk,
        ),
    )
    assert ticket.assignee == agent


def test_least_loaded_counts_each_agents_open_tickets(
    make_user: Callable[..., User],
    org: dict[str, Any],
    customer: Customer,
    agent: User,
) -> None:
    # given: two online agents of team A; the first already holds two open tickets
    busy = make_user("busy", "agent", teams=("team_a",))
    free = make_user("free", "agent", teams=("team_a",))
    online(busy, free)
    for _n in range(2):
        ticket_create(
            actor=agent,
            data=TicketInput(
                type="inquiry",
                channel="phone",
                subject="旧",
                customer_id=customer.pk,
                assignee_id=busy.pk,
            ),
        )
    assert open_tickets_per_agent([busy.pk, free.pk]) == {busy.pk: 2}
    rule(
        "咨询",
        team=org["team_a"],
        ticket_type="inquiry",
        strategy=RoutingRule.Strategy.LEAST_LOADED,
    )
    # when
    ticket, _created = ticket_create(
        actor=agent,
        data=TicketInput(type="inquiry", channel="phone", subject="新", customer_id=customer.pk),
    )
    # then
    assert ticket.assignee == free


def test_without_a_matching_rule_the_ticket_waits_in_the_customers_team(
    org: dict[str, Any], customer: Customer, agent: User
) -> None:
    ticket, _created = ticket_create(
        actor=agent,
        data=TicketInput(type="inquiry", channel="web", subject="问", customer_id=customer.pk),
    )
    assert (ticket.assignee, ticket.team) == (None, org["team_a"])


def test_one_click_turns_a_call_into_a_ticket_of_the_caller(
    agent: User, customer: Customer
) -> None:
    # given: the customer calls agent 8001, who answers
    AgentLine.objects.create(user=agent, extension="8001")
    client = Client()
    post_event(client, event("ringing", agent="8001"))
    post_event(client, event("answered", agent="8001", at="2025-09-30T16:30:12+08:00"))
    post_event(client, event("hangup", agent="8001", at="2025-09-30T16:34:12+08:00"))
    call = Call.objects.get()
    browser = Client()
    browser.force_login(agent)
    # when
    response = browser.post(f"/calls/{call.pk}/ticket/")
    # then
    call.refresh_from_db()
    ticket = Ticket.objects.get()
    assert call.ticket_id == ticket.pk
    assert response.status_code in (200, 302)
    assert (ticket.type, ticket.channel, ticket.customer, ticket.assignee) == (
        "inquiry",
        "phone",
        customer,
        agent,
    )
    assert "138****5678" in ticket.subject
    assert call.call_id in ticket.body
    # and a second click makes no second ticket
    assert browser.post(f"/calls/{call.pk}/ticket/").status_code == 409
    assert Ticket.objects.count() == 1


def test_the_pop_files_a_call_as_a_complaint_with_the_agents_subject(
    agent: User, customer: Customer
) -> None:
    # given: the customer is on the phone with agent 8001 (answered, not hung up)
    AgentLine.objects.create(user=agent, extension="8001")
    client = Client()
    post_event(client, event("ringing", agent="8001"))
    post_event(client, event("answered", agent="8001", at="2025-09-30T16:30:12.4+08:00"))
    call = Call.objects.get()
    browser = Client()
    browser.force_login(agent)
    # then the pop offers the ticket types (no arbitration: that comes from a complaint)
    html = browser.get("/calls/pop/").content.decode()
    assert 'value="complaint"' in html
    assert 'value="arbitration"' not in html
    # when a made-up type is posted, nothing is made and the call stays free
    assert browser.post(f"/calls/{call.pk}/ticket/", {"type": "x"}).status_code == 400
    assert not Ticket.objects.exists()
    # when the agent picks 投诉 and writes the subject
    response = browser.post(
        f"/calls/{call.pk}/ticket/", {"type": "complaint", "subject": " 安装后漏水 "}
    )
    # then the complaint carries it, linked to the call, the call's facts in the body
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.type, ticket.status, ticket.subject) == ("complaint", "registered", "安装后漏水")
    call.refresh_from_db()
    assert call.ticket_id == ticket.pk
    assert "等待 12 秒，建单时通话中" in ticket.body
