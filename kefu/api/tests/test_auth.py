"""POST /api/v1/auth/token and the bearer tokens it hands out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import ApiClient
from kefu.api.models import ApiToken
from kefu.audit.models import AuditEvent
from kefu.org.models import User

ApiAs = Callable[[User | None], ApiClient]


def _token_request(client: Client, username: str, password: str) -> Any:
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
    )


def _me(client: Client, token: str) -> Any:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_good_credentials_get_a_token_that_identifies_the_user(client: Client, agent: User) -> None:
    # when
    response = _token_request(client, "agent", "pw-agent")
    # then
    assert response.status_code == 200
    token = response.json()["token"]
    assert token.startswith("kf_")
    assert len(token) >= 40
    me = _me(client, token)
    assert me.status_code == 200
    assert me.json() == {
        "id": agent.pk,
        "username": "agent",
        "display_name": "agent",
        "roles": ["agent"],
        "is_superuser": False,
    }


def test_each_request_for_a_token_gets_a_new_one(client: Client, agent: User) -> None:
    first = _token_request(client, "agent", "pw-agent").json()["token"]
    second = _token_request(client, "agent", "pw-agent").json()["token"]
    assert first != second
    assert _me(client, first).status_code == _me(client, second).status_code == 200


@pytest.mark.parametrize(
    ("username", "password"), [("agent", "wrong"), ("nobody", "pw-agent"), ("AGENT", "pw-agent")]
)
def test_bad_credentials_get_a_401_that_does_not_say_which_part_was_wrong(
    client: Client, agent: User, username: str, password: str
) -> None:
    response = _token_request(client, username, password)
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "bad_credentials", "message": "用户名或密码错误。", "fields": {}}
    }
    assert not ApiToken.objects.exists()


def test_missing_credentials_are_a_422_naming_each_field(client: Client, db: None) -> None:
    response = client.post("/api/v1/auth/token", {}, content_type="application/json")
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"username", "password"}


def test_an_inactive_user_gets_no_token(client: Client, agent: User) -> None:
    agent.is_active = False
    agent.save()
    response = _token_request(client, "agent", "pw-agent")
    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_a_token_stops_working_when_its_user_is_deactivated(agent: User, api_as: ApiAs) -> None:
    # given a token in use
    api = api_as(agent)
    assert api.get("/api/v1/me").status_code == 200
    # when the account is deactivated
    User.objects.filter(pk=agent.pk).update(is_active=False)
    # then
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_token_stops_working_when_its_user_is_deleted(agent: User, api_as: ApiAs) -> None:
    api = api_as(agent)
    agent.delete()
    assert api.get("/api/v1/me").status_code == 401


def test_a_token_stops_working_when_it_expires(client: Client, agent: User, settings: Any) -> None:
    # given a token issued with the configured lifetime
    settings.API_TOKEN_DAYS = 30
    token = _token_request(client, "agent", "pw-agent").json()["token"]
    stored = ApiToken.objects.get()
    lifetime = stored.expires_at - stored.created_at
    assert timedelta(days=30) - timedelta(minutes=1) < lifetime <= timedelta(days=30)
    # when its time is up
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    # then
    assert _me(client, token).status_code == 401


def test_only_a_hash_of_the_token_is_stored(client: Client, agent: User) -> None:
    # when
    token = _token_request(client, "agent", "pw-agent").json()["token"]
    # then: the row holds the SHA-256 and a short prefix, never the token itself
    stored = ApiToken.objects.get()
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.prefix == token[:8]
    rows = list(ApiToken.objects.values()) + list(AuditEvent.objects.values())
    dumped = json.dumps(rows, default=str)
    assert token not in dumped
    assert token[8:20] not in dumped


def test_a_token_with_its_hash_in_place_of_the_token_is_refused(
    client: Client, agent: User
) -> None:
    # given someone who has read the token table
    _token_request(client, "agent", "pw-agent")
    leaked_hash = ApiToken.objects.get().key_hash
    # when they present what they read
    response = _me(client, leaked_hash)
    # then
    assert response.status_code == 401


def test_an_oversized_token_is_refused_without_a_lookup(
    agent: User, django_assert_num_queries: Any
) -> None:
    client = Client()
    with django_assert_num_queries(0):
        response = _me(client, "kf_" + "x" * 300)
    assert response.status_code == 401


def test_using_a_token_records_when_it_was_last_used(agent: User, api_as: ApiAs) -> None:
    api = api_as(agent)
    assert ApiToken.objects.get().last_used_at is None
    api.get("/api/v1/me")
    first_use = ApiToken.objects.get().last_used_at
    assert first_use is not None
    # a second use within ten minutes does not write again
    api.get("/api/v1/me")
    assert ApiToken.objects.get().last_used_at == first_use


def test_a_token_is_for_the_api_only_not_for_the_web_pages(agent: User, api_as: ApiAs) -> None:
    api = api_as(agent)
    response = api.client.get("/customers/", headers=api.headers)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_token_endpoint_needs_no_token_but_everything_else_does(
    client: Client, agent: User
) -> None:
    assert _token_request(client, "agent", "pw-agent").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_the_token_user_is_the_user_the_orm_loads(agent: User) -> None:
    """token_user reads the user with hand-written SQL: every field must come back exactly as
    the ORM would load it (SQLite answers text for datetimes and 0/1 for booleans)."""
    from kefu.api.tokens import token_issue, token_user

    # given
    agent.last_login = timezone.now().replace(microsecond=123456)
    agent.save(update_fields=["last_login"])
    raw = token_issue(user=agent)
    # when
    loaded = token_user(raw)
    # then
    expected = User.objects.get(pk=agent.pk)
    assert loaded is not None
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
        assert type(getattr(loaded, field.attname)) is type(getattr(expected, field.attname))
    assert loaded._state.adding is False
    assert loaded.has_perm("customers.add_customer")


def test_a_token_of_a_deactivated_user_or_past_its_expiry_identifies_nobody(agent: User) -> None:
    from kefu.api.tokens import token_issue, token_user

    # given
    raw = token_issue(user=agent)
    expired = token_issue(user=agent)
    ApiToken.objects.filter(key_hash=hashlib.sha256(expired.encode()).hexdigest()).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    # then
    assert token_user(expired) is None
    assert token_user(raw + "x") is None
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert token_user(raw) is None


def test_a_token_records_its_last_use_at_most_every_ten_minutes(agent: User) -> None:
    from kefu.api.tokens import token_issue, token_user

    # given
    raw = token_issue(user=agent)
    token = ApiToken.objects.get(user=agent)
    assert token.last_used_at is None
    # when
    token_user(raw)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    token_user(raw)
    # then
    assert first is not None
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=11))
    token_user(raw)
    touched = ApiToken.objects.get(pk=token.pk).last_used_at
    assert touched is not None
    assert touched > first
