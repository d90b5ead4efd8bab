"""The audit log is append-only (model, queryset and database), readable page by page by the
roles allowed to, and records every login attempt with the caller's address."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from kefu.audit.models import AppendOnlyError, AuditEvent
from kefu.audit.services import audit_record
from kefu.org.models import Membership, Team, User


def _event(actor: User | None = None, **fields: Any) -> AuditEvent:
    return audit_record(
        actor=actor,
        action=fields.pop("action", AuditEvent.Action.EXPORT),
        object_type=fields.pop("object_type", "customers.customer"),
        object_repr=fields.pop("object_repr", "客户导出 3 条"),
        **fields,
    )


_REWRITES = {
    "update every row": "UPDATE audit_auditevent SET actor_name = 'someone else'",
    "update one row": "UPDATE audit_auditevent SET changes = '{}' WHERE action = 'export'",
    "delete one row": "DELETE FROM audit_auditevent WHERE action = 'export'",
    "delete every row": "DELETE FROM audit_auditevent",
    # SQLite has no TRUNCATE: its DELETE without WHERE is the truncate (and is refused above)
    "truncate": "TRUNCATE audit_auditevent",
}


# --- append-only ---------------------------------------------------------------------------


def test_a_saved_event_cannot_be_saved_again(agent: User) -> None:
    # given
    event = _event(agent)
    # when
    event.actor_name = "someone else"
    with pytest.raises(AppendOnlyError):
        event.save()
    # then
    assert AuditEvent.objects.get(pk=event.pk).actor_name == "agent"


def test_an_event_cannot_be_deleted_through_the_model(agent: User) -> None:
    event = _event(agent)
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_events_cannot_be_updated_or_deleted_through_a_queryset(agent: User) -> None:
    # given
    event = _event(agent)
    events = AuditEvent.objects.filter(pk=event.pk)
    # when / then
    with pytest.raises(AppendOnlyError):
        events.update(actor_name="someone else")
    with pytest.raises(AppendOnlyError):
        events.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    event.actor_name = "someone else"
    with pytest.raises(AppendOnlyError), transaction.atomic():  # bulk_update opens its own
        AuditEvent.objects.bulk_update([event], ["actor_name"])
    assert AuditEvent.objects.get(pk=event.pk).actor_name == "agent"


@pytest.mark.parametrize("rewrite", _REWRITES)
def test_the_database_refuses_raw_sql_that_rewrites_history(agent: User, rewrite: str) -> None:
    statement = _REWRITES[rewrite]
    if statement.startswith("TRUNCATE") and connection.vendor == "sqlite":
        statement = _REWRITES["delete every row"]
    # given
    event = _event(agent, changes={"count": 3})
    # when
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    # then
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_name, stored.changes) == ("agent", {"count": 3})


def test_the_database_still_accepts_new_events(agent: User) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (created_at, actor_name, action, object_type, object_id,"
            " object_repr, field, changes, user_agent, channel, note)"
            " VALUES (CURRENT_TIMESTAMP, 'raw', 'export', 'x', '', '', '', '{}', '', '', '')"
        )
    assert AuditEvent.objects.filter(actor_name="raw").count() == 1


def test_deleting_a_staff_member_keeps_the_events_that_name_them(
    agent: User, make_user: Callable[..., User]
) -> None:
    # given a member of staff with a history (SET_NULL on the actor was an UPDATE the trigger
    # refused, so the delete failed)
    event = _event(agent)
    agent_id = agent.pk
    # when
    agent.delete()
    # then the event is untouched: same actor id, same name
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.actor_name) == (agent_id, "agent")
    assert not User.objects.filter(pk=agent_id).exists()


@pytest.mark.django_db(transaction=True)
def test_a_test_database_flush_gets_past_the_triggers_and_restores_them(
    make_user: Callable[..., User],
) -> None:
    # given events in a test that runs outside a transaction (like a live-server test)
    _event(make_user("someone", "agent"))
    # when the database is flushed, as it is after every such test (TransactionTestCase's
    # teardown: no sequence reset)
    call_command("flush", interactive=False, verbosity=0, reset_sequences=False)
    # then the log is empty, and so are the other tables the test wrote to (on PostgreSQL
    # the suite's flush DELETEs from the tables that have rows, conftest.py)
    assert AuditEvent.objects.count() == 0
    assert not User.objects.exists()
    assert not Membership.objects.exists()
    assert not Team.objects.exists()
    # and history is protected again right after
    event = _event()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# --- the audit log page -------------------------------------------------------------------


def test_the_audit_page_shows_fifty_events_a_page_newest_first(
    client: Client, auditor: User
) -> None:
    # given 60 exports
    for n in range(60):
        _event(object_repr=f"客户导出 {n} 条")
    client.force_login(auditor)
    # when
    first = client.get("/audit/", {"action": "export"})
    second = client.get("/audit/", {"action": "export", "page": "2"})
    # then
    assert first.status_code == second.status_code == 200
    assert first.context["page"].paginator.count == 60
    assert len(first.context["page"].object_list) == 50
    assert [e.object_repr for e in second.context["page"].object_list] == [
        f"客户导出 {n} 条" for n in range(9, -1, -1)
    ]
    assert first.context["page"].object_list[0].object_repr == "客户导出 59 条"
    assert "page=2" in first.content.decode()


def test_a_page_beyond_the_end_shows_the_last_page(client: Client, auditor: User) -> None:
    for n in range(3):
        _event(object_repr=f"导出 {n}")
    client.force_login(auditor)
    response = client.get("/audit/", {"action": "export", "page": "99"})
    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_the_audit_page_filters_by_action_and_by_object(client: Client, auditor: User) -> None:
    # given
    _event(action=AuditEvent.Action.EXPORT, object_repr="客户导出 3 条")
    _event(action=AuditEvent.Action.REVEAL, object_id="42", object_repr="上海示例科技")
    _event(action=AuditEvent.Action.REVEAL, object_id="43", object_repr="北京示例贸易")
    client.force_login(auditor)
    # when
    reveals = client.get("/audit/", {"action": "reveal"}).context["page"].object_list
    by_id = client.get("/audit/", {"q": "42"}).context["page"].object_list
    by_name = client.get("/audit/", {"q": "导出"}).context["page"].object_list
    # then
    assert sorted(e.object_id for e in reveals) == ["42", "43"]
    assert [(e.action, e.object_id) for e in by_id] == [("reveal", "42")]
    assert [e.action for e in by_name] == ["export"]


def test_an_unknown_action_filter_is_ignored(client: Client, auditor: User) -> None:
    _event(action=AuditEvent.Action.EXPORT)
    client.force_login(auditor)  # writes a login event too
    response = client.get("/audit/", {"action": "drop table"})
    assert response.status_code == 200
    assert response.context["action"] == ""
    assert {e.action for e in response.context["page"].object_list} == {"export", "login"}


def test_the_audit_page_is_closed_to_roles_without_the_audit_permission(
    client: Client, supervisor: User
) -> None:
    client.force_login(supervisor)
    response = client.get("/audit/")
    assert response.status_code == 403
    assert "审计日志" in response.content.decode()


# --- logins ---------------------------------------------------------------------------------


def test_a_web_login_is_audited_with_the_callers_address(client: Client, agent: User) -> None:
    # when
    response = client.post(
        "/login/",
        {"username": "agent", "password": "pw-agent"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="Firefox/130",
    )
    # then
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert (event.actor_id, event.actor_name, event.object_id) == (agent.pk, "agent", str(agent.pk))
    assert (event.ip, event.channel, event.user_agent) == ("203.0.113.7", "web", "Firefox/130")


def test_a_failed_web_login_is_audited_with_the_address_but_not_the_password(
    client: Client, agent: User
) -> None:
    # when
    response = client.post(
        "/login/", {"username": "agent", "password": "wrong-pw-123"}, REMOTE_ADDR="198.51.100.9"
    )
    # then
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert (event.actor_id, event.object_repr) == (None, "agent")
    assert (event.ip, event.channel) == ("198.51.100.9", "web")
    stored = json.dumps([event.changes, event.note, event.object_repr, event.user_agent])
    assert "wrong-pw-123" not in stored
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).exists()


def test_a_login_to_an_inactive_account_fails_and_is_audited(client: Client, agent: User) -> None:
    agent.is_active = False
    agent.save()
    response = client.post("/login/", {"username": "agent", "password": "pw-agent"})
    assert response.status_code == 200
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.LOGIN_FAILED, object_repr="agent"
    ).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).exists()


def test_an_api_token_issued_for_good_credentials_is_audited_with_the_address(
    client: Client, agent: User
) -> None:
    response = client.post(
        "/api/v1/auth/token",
        {"username": "agent", "password": "pw-agent"},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.8",
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN)
    assert (event.actor_id, event.ip, event.channel) == (agent.pk, "203.0.113.8", "api")


def test_bad_api_credentials_are_audited_with_the_address(client: Client, agent: User) -> None:
    response = client.post(
        "/api/v1/auth/token",
        {"username": "agent", "password": "wrong-pw-123"},
        content_type="application/json",
        REMOTE_ADDR="198.51.100.10",
    )
    assert response.status_code == 401
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert (event.object_repr, event.ip, event.channel) == ("agent", "198.51.100.10", "api")
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN).exists()


def test_a_forwarded_address_is_recorded_only_from_a_trusted_proxy(
    client: Client, agent: User, settings: Any
) -> None:
    # given a proxy the deployment trusts
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    # when a caller forges X-Forwarded-For, and when the trusted proxy forwards a real one
    client.post(
        "/login/",
        {"username": "agent", "password": "bad-1"},
        REMOTE_ADDR="198.51.100.20",
        HTTP_X_FORWARDED_FOR="1.2.3.4",
    )
    client.post(
        "/login/",
        {"username": "agent", "password": "bad-2"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.30, 10.0.0.1",
    )
    # then
    addresses = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).order_by("id")
    assert [e.ip for e in addresses] == ["198.51.100.20", "203.0.113.30"]
