"""Screen pop: the ringing event sets a per-agent cache key; the agent's poll finds
it (one cache read, no query, while nothing is new) and renders the caller's card."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.calls import hooks
from kefu.calls.hooks import register_ticket_maker
from kefu.calls.models import AgentLine, Call
from kefu.calls.tests.helpers import event, post_event
from kefu.customers.tests.factories import CustomerFactory
from kefu.customers.views import CREATE_PREFILL_SESSION_KEY
from kefu.org.models import User

pytestmark = pytest.mark.django_db

POP = "/calls/pop/"


@pytest.fixture
def line_agent(agent: User) -> User:
    AgentLine.objects.create(user=agent, extension="8001")
    return agent


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def no_ticket_maker() -> Iterator[None]:
    """No maker during the test; the registered one (the desk's, with its types) back after."""
    saved = (hooks._TICKET_MAKER[:], hooks._TICKET_TYPES[:])
    register_ticket_maker(None)
    yield
    hooks._TICKET_MAKER[:], hooks._TICKET_TYPES[:] = saved


def test_the_ringing_agent_sees_the_known_callers_card(
    line_agent: User, org: dict[str, Any], no_ticket_maker: None
) -> None:
    # given a customer of the agent's team with the caller's mobile
    customer = CustomerFactory.create(
        name="杭州西湖电器有限公司",
        mobile="+8613812345678",
        serving_team=org["team_a"],
        tier="gold",
    )
    browser = _client(line_agent)
    assert browser.get(POP).status_code == 204
    # when the call rings on the agent's extension
    post_event(Client(), event("ringing", agent="8001"))
    # then the next poll answers the card
    response = browser.get(POP)
    assert response.status_code == 200
    html = response.content.decode()
    assert "杭州西湖电器有限公司" in html
    assert "138****5678" in html
    assert "13812345678" not in html  # never the whole number
    assert "金" in html  # the tier
    assert f'href="/customers/{customer.pk}/"' in html
    assert "转为工单" not in html  # no ticket maker registered
    # and the card carries the token, so the poll after it is empty again
    call = Call.objects.get()
    assert f"seen={call.pk}" in html
    assert browser.get(POP, {"seen": str(call.pk)}).status_code == 204


def test_another_agent_gets_nothing(line_agent: User, make_user: Callable[..., User]) -> None:
    other = make_user("lisi", "agent", teams=("team_a",))
    AgentLine.objects.create(user=other, extension="8002")
    post_event(Client(), event("ringing", agent="8001"))
    assert _client(other).get(POP).status_code == 204
    assert _client(line_agent).get(POP).status_code == 200


def test_an_unknown_number_offers_a_new_customer_prefilled_with_it(line_agent: User) -> None:
    post_event(Client(), event("ringing", agent="8001", caller="13900001111"))
    browser = _client(line_agent)
    html = browser.get(POP).content.decode()
    assert "新建客户" in html
    call = Call.objects.get()
    # the number goes through the session, not the URL
    response = browser.get(f"/calls/{call.pk}/new-customer/")
    assert response.status_code == 302
    assert response["Location"] == "/customers/new/"
    assert "139" not in response["Location"]
    form = browser.get("/customers/new/").content.decode()
    assert 'value="13900001111"' in form
    assert CREATE_PREFILL_SESSION_KEY not in browser.session
    # only once: the next visit to the form is blank
    assert 'value="13900001111"' not in browser.get("/customers/new/").content.decode()


def test_a_customer_outside_the_agents_scope_shows_name_and_tier_but_no_archive(
    line_agent: User, org: dict[str, Any]
) -> None:
    CustomerFactory.create(name="外组客户", mobile="+8613812345678", serving_team=org["team_b"])
    post_event(Client(), event("ringing", agent="8001"))
    html = _client(line_agent).get(POP).content.decode()
    assert "外组客户" in html
    assert "不在您的服务范围内" in html
    assert "/customers/" not in html


def test_the_card_lists_open_callbacks_for_the_number(line_agent: User) -> None:
    client = Client()
    post_event(client, event("hangup", call_id="MISSED", at="2025-09-30T10:00:00+08:00"))
    post_event(client, event("ringing", call_id="AGAIN", agent="8001"))
    html = _client(line_agent).get(POP).content.decode()
    assert "1 个待回呼" in html


def test_turn_into_ticket_calls_the_registered_maker(
    line_agent: User, no_ticket_maker: None
) -> None:
    made: list[tuple[int, str]] = []

    def maker(call: Call, actor: User) -> str:
        made.append((call.pk, actor.username))
        call.ticket_id = 4711
        return "/tickets/4711/"

    register_ticket_maker(maker)
    post_event(Client(), event("ringing", agent="8001"))
    browser = _client(line_agent)
    html = browser.get(POP).content.decode()
    assert "转为工单" in html
    call = Call.objects.get()
    response = browser.post(f"/calls/{call.pk}/ticket/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/tickets/4711/"
    call.refresh_from_db()
    assert call.ticket_id == 4711
    assert made == [(call.pk, "agent")]
    # a second click does not make a second ticket
    assert browser.post(f"/calls/{call.pk}/ticket/").status_code == 409
    assert len(made) == 1


def test_the_pop_is_cleared_when_the_call_ends(line_agent: User) -> None:
    client = Client()
    post_event(client, event("ringing", agent="8001"))
    post_event(client, event("hangup", at="2025-09-30T16:30:20+08:00"))
    assert _client(line_agent).get(POP).status_code == 204


def test_the_empty_poll_costs_no_query_beyond_session_and_user(line_agent: User) -> None:
    browser = _client(line_agent)
    browser.get(POP)  # warm the permission cache
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(POP).status_code == 204
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert len(queries) <= 2, tables  # the session row and the user row
    assert "calls_" not in tables


def test_the_poll_with_a_new_call_stays_small(line_agent: User, org: dict[str, Any]) -> None:
    CustomerFactory.create(mobile="+8613812345678", serving_team=org["team_a"])
    post_event(Client(), event("ringing", agent="8001"))
    browser = _client(line_agent)
    browser.get(POP, {"seen": "x"})  # warm caches
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(POP, {"seen": "y"}).status_code == 200
    assert len(queries) <= 15


def test_a_logged_out_browser_is_told_to_stop_polling() -> None:
    assert Client().get(POP).status_code == 286


def test_the_layout_polls_only_for_users_with_an_agent_line(
    line_agent: User, make_user: Callable[..., User]
) -> None:
    page = _client(line_agent).get("/").content.decode()
    assert 'id="kefu-pop-poll"' in page
    assert 'hx-trigger="every 500ms"' in page
    plain = make_user("nophone", "agent", teams=("team_a",))
    assert 'id="kefu-pop-poll"' not in _client(plain).get("/").content.decode()
    # a line given later shows up at once (the cached answer is dropped)
    AgentLine.objects.create(user=plain, extension="8009")
    assert 'id="kefu-pop-poll"' in _client(plain).get("/").content.decode()
