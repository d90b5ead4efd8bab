"""Presence: the service, its log, the API, the top-bar switch, logging out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.org.models import User
from kefu.routing.models import AgentPresence, PresenceLog
from kefu.routing.services import presence_set

pytestmark = pytest.mark.django_db
Status = AgentPresence.Status


def _logs(user: User) -> list[tuple[str, bool]]:
    return [
        (log.status, log.ended_at is None)
        for log in PresenceLog.objects.filter(user=user).order_by("started_at", "id")
    ]


def test_each_change_closes_one_period_and_opens_the_next(agent: User) -> None:
    presence_set(actor=agent, status=Status.ONLINE)
    presence_set(actor=agent, status=Status.BREAK, note="午饭")
    presence = presence_set(actor=agent, status=Status.ONLINE)

    assert (presence.status, presence.note) == (Status.ONLINE, "")
    assert _logs(agent) == [("online", False), ("break", False), ("online", True)]
    periods = list(PresenceLog.objects.filter(user=agent).order_by("started_at", "id"))
    # the periods follow each other without gaps, for occupancy figures
    assert periods[0].ended_at == periods[1].started_at
    assert periods[1].ended_at == periods[2].started_at
    assert periods[1].note == "午饭"


def test_the_same_status_again_only_changes_the_note(agent: User) -> None:
    first = presence_set(actor=agent, status=Status.BUSY, note="外呼")
    since = first.since
    again = presence_set(actor=agent, status=Status.BUSY, note="回访")
    assert (again.since, again.note) == (since, "回访")
    assert _logs(agent) == [("busy", True)]


@pytest.mark.parametrize("status", ["away", "", "ONLINE"])
def test_unknown_status_is_refused_in_chinese(agent: User, status: str) -> None:
    with pytest.raises(ApplicationError) as caught:
        presence_set(actor=agent, status=status)
    assert caught.value.fields == {"status": ["状态只能是在线、忙碌、小休或离线。"]}
    assert not PresenceLog.objects.exists()


def test_staff_who_take_no_work_have_no_presence(auditor: User) -> None:
    with pytest.raises(Forbidden):
        presence_set(actor=auditor, status=Status.ONLINE)


def test_api_reads_and_sets_the_callers_presence(agent: User, api_as: Callable[..., Any]) -> None:
    client = api_as(agent)
    before = client.get("/api/v1/routing/presence")
    assert before.status_code == 200
    assert before.json()["status"] == "offline"

    response = client.client.put(
        "/api/v1/routing/presence",
        {"status": "online", "note": "值班"},
        content_type="application/json",
        headers=client.headers,
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["status_display"], body["note"]) == ("online", "在线", "值班")
    assert body["since"].endswith("+08:00")
    assert client.get("/api/v1/routing/presence").json()["status"] == "online"
    assert _logs(agent) == [("online", True)]


def test_api_refuses_a_bad_status_and_unauthenticated_callers(
    agent: User, auditor: User, api_as: Callable[..., Any]
) -> None:
    client = api_as(agent)
    bad = client.client.put(
        "/api/v1/routing/presence",
        {"status": "away"},
        content_type="application/json",
        headers=client.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {"status": ["取值不在允许范围内。"]}
    anonymous = Client().put(
        "/api/v1/routing/presence", {"status": "online"}, content_type="application/json"
    )
    assert anonymous.status_code == 401
    auditors = api_as(auditor)
    refused = auditors.client.put(
        "/api/v1/routing/presence",
        {"status": "online"},
        content_type="application/json",
        headers=auditors.headers,
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "您没有设置在线状态的权限。"


def test_the_top_bar_switch_shows_and_sets_the_status(agent: User, auditor: User) -> None:
    client = Client()
    client.force_login(agent)
    page = client.get(reverse("web:home"))
    assert 'data-testid="presence-status"' in page.content.decode()

    response = client.post(
        reverse("routing:presence"), {"status": "break"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert '<option value="break" selected>' in response.content.decode()
    assert AgentPresence.objects.get(user=agent).status == Status.BREAK
    # staff who take no work see no switch
    other = Client()
    other.force_login(auditor)
    assert 'data-testid="presence-status"' not in other.get(reverse("web:home")).content.decode()


def test_the_switch_without_htmx_redirects_back(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    response = client.post(reverse("routing:presence"), {"status": "online", "next": "/tiers/"})
    assert (response.status_code, response["Location"]) == (302, "/tiers/")
    refused = client.post(reverse("routing:presence"), {"status": "gone"})
    assert refused.status_code == 422


def test_logging_out_makes_the_agent_offline(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    presence_set(actor=agent, status=Status.ONLINE)
    client.post(reverse("logout"))
    assert AgentPresence.objects.get(user=agent).status == Status.OFFLINE
    assert _logs(agent) == [("online", False), ("offline", True)]


def test_presence_log_periods_measure_time_in_each_status(agent: User) -> None:
    # given a morning: 3 hours online, 30 minutes on a break (times set for the test)
    presence_set(actor=agent, status=Status.ONLINE)
    presence_set(actor=agent, status=Status.BREAK)
    presence_set(actor=agent, status=Status.ONLINE)
    start = timezone.now() - timedelta(hours=4)
    online, pause, _open = PresenceLog.objects.filter(user=agent).order_by("started_at", "id")
    PresenceLog.objects.filter(pk=online.pk).update(
        started_at=start, ended_at=start + timedelta(hours=3)
    )
    PresenceLog.objects.filter(pk=pause.pk).update(
        started_at=start + timedelta(hours=3), ended_at=start + timedelta(hours=3, minutes=30)
    )
    # then a KPI can sum closed periods per status
    closed = PresenceLog.objects.filter(user=agent, ended_at__isnull=False)
    total = {log.status: log.ended_at - log.started_at for log in closed}  # type: ignore[operator]
    assert total == {"online": timedelta(hours=3), "break": timedelta(minutes=30)}
