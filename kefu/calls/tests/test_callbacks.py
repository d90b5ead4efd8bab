"""Callback tasks: the agent's list, and done / no answer / failed with a note."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kefu.audit.models import AuditEvent
from kefu.calls.models import AgentLine, CallbackTask
from kefu.calls.tests.helpers import event, post_event
from kefu.org.models import User

pytestmark = pytest.mark.django_db


def _missed(call_id: str = "M-1", caller: str = "13812345678", agent: str = "") -> CallbackTask:
    client = Client()
    post_event(client, event("ringing", call_id=call_id, caller=caller, agent=agent))
    post_event(
        client, event("hangup", call_id=call_id, caller=caller, at="2025-09-30T16:31:00+08:00")
    )
    return CallbackTask.objects.get(calls__call_id=call_id)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_agent_marks_a_callback_done_with_a_note(agent: User) -> None:
    task = _missed()
    browser = _client(agent)
    page = browser.get("/calls/callbacks/").content.decode()
    assert "138****5678" in page
    response = browser.post(
        f"/calls/callbacks/{task.pk}/attempts/",
        {"result": "done", "note": "已回电，客户预约周四上门"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.status == CallbackTask.Status.DONE
    assert task.attempts == 1
    assert task.closed_by == agent
    assert task.assignee == agent
    assert "已回电，客户预约周四上门" in task.note
    assert AuditEvent.objects.filter(
        action="update", field="status", object_type="calls.callbacktask", object_id=str(task.pk)
    ).exists()


def test_three_unanswered_tries_fail_the_task(agent: User) -> None:
    task = _missed()
    browser = _client(agent)
    for _ in range(3):
        browser.post(f"/calls/callbacks/{task.pk}/attempts/", {"result": "no_answer"})
    task.refresh_from_db()
    assert task.status == CallbackTask.Status.FAILED
    assert task.attempts == 3


def test_failing_needs_a_reason_and_a_closed_task_takes_nothing(
    agent: User, api_as: Callable[[User | None], Any]
) -> None:
    task = _missed()
    api = api_as(agent)
    response = api.post(f"/api/v1/calls/callbacks/{task.pk}/attempts", {"result": "failed"})
    assert response.status_code == 422
    assert "note" in response.json()["error"]["fields"]
    response = api.post(
        f"/api/v1/calls/callbacks/{task.pk}/attempts", {"result": "failed", "note": "空号"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    again = api.post(f"/api/v1/calls/callbacks/{task.pk}/attempts", {"result": "done"})
    assert again.status_code == 409


def test_an_agent_sees_own_and_unassigned_tasks_a_supervisor_sees_all(
    make_user: Callable[..., User],
    supervisor: User,
    api_as: Callable[[User | None], Any],
) -> None:
    zhang = make_user("zhang", "agent", teams=("team_a",))
    wang = make_user("wang", "agent", teams=("team_a",))
    AgentLine.objects.create(user=zhang, extension="8001")
    AgentLine.objects.create(user=wang, extension="8002")
    mine = _missed("M-1", "13800000001", agent="8001")
    theirs = _missed("M-2", "13800000002", agent="8002")
    nobodys = _missed("M-3", "13800000003")
    seen = {item["id"] for item in api_as(zhang).get("/api/v1/calls/callbacks").json()["items"]}
    assert seen == {mine.pk, nobodys.pk}
    everything = api_as(supervisor).get("/api/v1/calls/callbacks").json()
    assert {item["id"] for item in everything["items"]} == {mine.pk, theirs.pk, nobodys.pk}
    assert everything["items"][0]["number"].count("*") == 4
    # another agent's task is a 404, not a 403
    response = api_as(zhang).post(
        f"/api/v1/calls/callbacks/{theirs.pk}/attempts", {"result": "done"}
    )
    assert response.status_code == 404


def test_the_call_list_shows_own_calls_to_an_agent(
    agent: User, outsider: User, api_as: Callable[[User | None], Any]
) -> None:
    AgentLine.objects.create(user=agent, extension="8001")
    _missed(agent="8001")
    mine = api_as(agent).get("/api/v1/calls").json()
    assert mine["count"] == 1
    assert mine["items"][0]["outcome"] == "abandoned"
    assert mine["items"][0]["wait_seconds"] == 60.0
    assert api_as(outsider).get("/api/v1/calls").json()["count"] == 0
    page = _client(agent).get("/calls/").content.decode()
    assert "138****5678" in page


def test_people_without_the_permission_are_refused(
    make_user: Callable[..., User], api_as: Callable[[User | None], Any]
) -> None:
    engineer = make_user("gong", "engineer", department="repair")
    assert api_as(engineer).get("/api/v1/calls/callbacks").status_code == 403
    assert _client(engineer).get("/calls/callbacks/").status_code == 403


def test_an_admin_gives_lines_and_an_extension_is_one_agents(
    make_user: Callable[..., User], agent: User
) -> None:
    from kefu.calls.services import agent_line_set
    from kefu.core.exceptions import Conflict, Forbidden

    admin = make_user("it", "admin")
    other = make_user("lisi", "agent", teams=("team_a",))
    line = agent_line_set(user=agent, extension="8001", actor=admin)
    assert line is not None
    assert line.extension == "8001"
    with pytest.raises(Conflict):
        agent_line_set(user=other, extension="8001", actor=admin)
    with pytest.raises(Forbidden):
        agent_line_set(user=other, extension="8002", actor=agent)
    assert agent_line_set(user=agent, extension="", actor=admin) is None
    assert not AgentLine.objects.exists()
    assert AuditEvent.objects.filter(field="agent_line", object_id=str(agent.pk)).count() == 2
