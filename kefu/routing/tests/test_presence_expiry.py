"""Stale presence: the heartbeat (throttled), the expiry to offline with its log row, routing
skipping an agent not seen lately, and no cost on the API's ticket create."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.org.models import User
from kefu.routing.engine import route
from kefu.routing.models import AgentPresence, PresenceLog
from kefu.routing.services import presence_expire, presence_heartbeat, presence_set
from kefu.routing.tests.helpers import online, rule

pytestmark = pytest.mark.django_db
Status = AgentPresence.Status


def _last_seen(user: User, minutes_ago: float) -> None:
    AgentPresence.objects.filter(user=user).update(
        last_seen_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def _presence_writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and "routing_agentpresence" in q["sql"]
    ]


@pytest.fixture
def agents(make_user: Callable[..., User]) -> list[User]:
    return [make_user(f"p{n}", "agent", teams=("team_a",)) for n in range(2)]


def test_setting_a_status_counts_as_being_seen(agent: User) -> None:
    before = timezone.now()
    presence = presence_set(actor=agent, status=Status.ONLINE)
    assert presence.last_seen_at >= before


def test_an_agent_not_seen_for_16_minutes_goes_offline_with_a_log_row(agent: User) -> None:
    # given an agent online for an hour whose browser went quiet 16 minutes ago
    presence_set(actor=agent, status=Status.ONLINE)
    hour_ago = timezone.now() - timedelta(hours=1)
    AgentPresence.objects.filter(user=agent).update(since=hour_ago)
    PresenceLog.objects.filter(user=agent).update(started_at=hour_ago)
    _last_seen(agent, 16)
    seen = AgentPresence.objects.get(user=agent).last_seen_at
    # when the expiry runs, twice
    assert presence_expire() == 1
    assert presence_expire() == 0
    # then they are offline since they were last seen, and the log says why
    presence = AgentPresence.objects.get(user=agent)
    assert (presence.status, presence.since) == (Status.OFFLINE, seen)
    periods = list(PresenceLog.objects.filter(user=agent).order_by("started_at", "id"))
    assert [(p.status, p.ended_at, p.note) for p in periods] == [
        ("online", seen, ""),
        ("offline", None, "超时自动下线"),
    ]
    assert periods[1].started_at == seen


def test_busy_expires_break_and_recent_agents_do_not(
    agents: list[User], make_user: Callable[..., User]
) -> None:
    busy, on_break = agents
    recent = make_user("recent", "agent", teams=("team_a",))
    presence_set(actor=busy, status=Status.BUSY)
    presence_set(actor=on_break, status=Status.BREAK)
    presence_set(actor=recent, status=Status.ONLINE)
    for user, minutes in ((busy, 20), (on_break, 60), (recent, 14)):
        _last_seen(user, minutes)
    assert presence_expire() == 1
    statuses = dict(AgentPresence.objects.values_list("user__username", "status"))
    assert statuses == {"p0": "offline", "p1": "break", "recent": "online"}


def test_the_timeout_is_a_setting(agent: User, settings: Any) -> None:
    settings.PRESENCE_TIMEOUT_MINUTES = 30
    presence_set(actor=agent, status=Status.ONLINE)
    _last_seen(agent, 16)
    assert presence_expire() == 0
    assert presence_expire(timezone.now() + timedelta(minutes=15)) == 1


def test_routing_skips_an_online_agent_not_seen_lately(agents: list[User], org: Any) -> None:
    # given two online agents of the rule's team, one not seen for 16 minutes (the expiry has
    # not run yet)
    fresh, ghost = agents
    online(fresh, ghost)
    _last_seen(ghost, 16)
    rule("咨询", team=org["team_a"], ticket_type="inquiry")
    # then every ticket goes to the one still there
    assert {route(ticket_type="inquiry").assignee_id for _ in range(4)} == {fresh.pk}
    # and with only the ghost online, nobody is assigned
    AgentPresence.objects.filter(user=fresh).update(status=Status.OFFLINE)
    decision = route(ticket_type="inquiry")
    assert decision.assignee_id is None
    assert "暂无在线坐席" in decision.reason


def test_after_expiry_the_agent_gets_no_more_tickets(agents: list[User], org: Any) -> None:
    first, second = agents
    online(first, second)
    rule("咨询", team=org["team_a"], ticket_type="inquiry")
    _last_seen(second, 30)
    presence_expire()
    assert {route(ticket_type="inquiry").assignee_id for _ in range(3)} == {first.pk}


def test_a_fresh_heartbeat_keeps_the_agent_online(agent: User) -> None:
    # given an agent last seen 14 minutes ago, whose browser polls now
    presence_set(actor=agent, status=Status.ONLINE)
    _last_seen(agent, 14)
    client = Client()
    client.force_login(agent)
    assert client.get(reverse("routing:heartbeat")).status_code == 204
    # then five minutes later they are still online and routable
    assert presence_expire(timezone.now() + timedelta(minutes=5)) == 0
    presence = AgentPresence.objects.get(user=agent)
    assert presence.status == Status.ONLINE
    assert timezone.now() - presence.last_seen_at < timedelta(seconds=5)


def test_two_polls_within_60_seconds_write_once(agent: User) -> None:
    presence_set(actor=agent, status=Status.ONLINE)
    _last_seen(agent, 2)
    client = Client()
    client.force_login(agent)
    client.get(reverse("web:home"))  # session and permission caches warm
    with CaptureQueriesContext(connection) as first:
        assert client.get(reverse("routing:heartbeat")).status_code == 204
    with CaptureQueriesContext(connection) as second:
        assert client.get(reverse("routing:heartbeat")).status_code == 204
    assert len(_presence_writes(first)) == 1
    assert _presence_writes(second) == []
    assert not any("routing_agentpresence" in q["sql"] for q in second.captured_queries)


def test_the_throttle_holds_across_processes_without_a_shared_cache(agent: User) -> None:
    # given a heartbeat just written, and another web process whose own cache has no key
    presence_set(actor=agent, status=Status.ONLINE)
    assert presence_heartbeat(user=agent) is False  # presence_set has just stamped it
    from django.core.cache import cache

    cache.clear()
    # then the conditional UPDATE still writes nothing within the interval
    assert presence_heartbeat(user=agent) is False
    cache.clear()
    assert presence_heartbeat(user=agent, now=timezone.now() + timedelta(seconds=61)) is True


def test_an_offline_agent_is_not_brought_back_by_a_heartbeat(agent: User) -> None:
    presence_set(actor=agent, status=Status.ONLINE)
    _last_seen(agent, 20)
    presence_expire()
    before = AgentPresence.objects.get(user=agent).last_seen_at
    assert presence_heartbeat(user=agent) is False
    presence = AgentPresence.objects.get(user=agent)
    assert (presence.status, presence.last_seen_at) == (Status.OFFLINE, before)


def test_the_top_bar_polls_only_while_the_agent_works(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    assert (
        'data-testid="presence-heartbeat"' not in client.get(reverse("web:home")).content.decode()
    )
    presence_set(actor=agent, status=Status.ONLINE)
    page = client.get(reverse("web:home")).content.decode()
    assert 'data-testid="presence-heartbeat"' in page
    assert 'hx-trigger="every 60s"' in page


def test_a_logged_out_browser_is_told_to_stop_polling(outsider: User) -> None:
    assert Client().get(reverse("routing:heartbeat")).status_code == 286


def test_the_api_ticket_create_writes_no_heartbeat(
    agent: User, org: Any, api_as: Callable[..., Any]
) -> None:
    from kefu.customers.models import Customer

    customer = Customer.objects.create(name="上海某公司", serving_team=org["team_a"])
    online(agent)
    rule("咨询", team=org["team_a"], ticket_type="inquiry")
    client = api_as(agent)
    body = {"type": "inquiry", "channel": "phone", "customer_id": customer.pk, "subject": "问"}
    client.post("/api/v1/tickets", body)  # caches warm
    with CaptureQueriesContext(connection) as queries:
        assert client.post("/api/v1/tickets", body).status_code == 201
    writes = _presence_writes(queries)
    # routing stamps the chosen agent's last_routed_at; nothing writes last_seen_at
    assert all("last_seen_at" not in sql.split("WHERE")[0] for sql in writes), writes
    assert len(writes) <= 1


def test_the_command_and_the_periodic_task(agent: User) -> None:
    from kefu.core.schedules import PRESENCE_EXPIRE
    from kefu.routing.tasks import presence_expire_task

    presence_set(actor=agent, status=Status.ONLINE)
    _last_seen(agent, 16)
    out = StringIO()
    call_command("expire_presence", stdout=out)
    assert out.getvalue().strip() == "1"
    assert presence_expire_task.task_class.__name__ == "presence_expire_task"
    assert PRESENCE_EXPIRE(timezone.localtime().replace(second=0, microsecond=0))
