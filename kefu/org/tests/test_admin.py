from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from kefu.audit.models import AuditEvent
from kefu.org.models import Team, User


def _admin_client(make_user: Callable[..., User]) -> tuple[Client, User]:
    admin_user = make_user("sysadmin", "admin", department="service")
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(admin_user)
    return client, admin_user


def test_system_admin_cannot_make_anyone_superuser(make_user: Callable[..., User]) -> None:
    # given a 系统管理员 and an agent
    client, _admin = _admin_client(make_user)
    agent = make_user("a1", "agent", teams=("team_a",))
    # when the admin opens the agent in 系统管理
    page = client.get(f"/admin/org/user/{agent.pk}/change/")
    # then the superuser flag is shown read-only, not as an input
    assert page.status_code == 200
    assert b'name="is_superuser"' not in page.content
    assert b'name="is_active"' in page.content


def test_team_created_in_admin_is_written_to_the_audit_log(
    make_user: Callable[..., User], org: dict[str, object]
) -> None:
    client, admin_user = _admin_client(make_user)
    service = org["service"]
    response = client.post(
        "/admin/org/team/add/", {"name": "客服三组", "department": getattr(service, "pk", None)}
    )
    assert response.status_code == 302, response.content[:500]
    team = Team.objects.get(name="客服三组")
    event = AuditEvent.objects.get(object_type="org.team", object_id=str(team.pk))
    assert event.action == AuditEvent.Action.CREATE
    assert event.actor == admin_user


def test_agent_has_no_access_to_system_admin(make_user: Callable[..., User]) -> None:
    agent = make_user("a2", "agent", teams=("team_a",))
    client = Client()
    client.force_login(agent)
    assert client.get("/admin/").status_code == 302  # sent to the admin login
