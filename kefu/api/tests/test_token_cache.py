"""The per-process token cache (kefu.api.tokens, API_TOKEN_CACHE): a token read once costs
no query on the next request, and every change that matters is seen on the request after."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import ApiClient
from kefu.api import tokens
from kefu.api.models import ApiToken
from kefu.api.tokens import token_issue, token_user
from kefu.org.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cache_on(settings: Any) -> Iterator[None]:
    settings.API_TOKEN_CACHE = True
    tokens._held.clear()
    yield
    tokens._held.clear()


def _lookup(raw: str) -> tuple[User | None, int]:
    """The user and how many queries the lookup made."""
    with CaptureQueriesContext(connection) as queries:
        user = token_user(raw)
    return user, len(queries)


def test_a_token_read_once_is_answered_without_a_query(agent: User) -> None:
    raw = token_issue(user=agent)
    first, first_queries = _lookup(raw)
    second, second_queries = _lookup(raw)
    assert first is not None
    assert second is not None
    assert first.pk == second.pk == agent.pk
    assert first_queries >= 1
    assert second_queries == 0
    assert first is not second  # each request gets its own instance
    first.display_name = "改过的"
    assert second.display_name != "改过的"


def test_the_cache_is_off_without_a_shared_cache(agent: User, settings: Any) -> None:
    settings.API_TOKEN_CACHE = False
    raw = token_issue(user=agent)
    _lookup(raw)
    assert _lookup(raw)[1] == 1


def test_a_deactivated_user_is_refused_on_the_next_request(agent: User) -> None:
    raw = token_issue(user=agent)
    assert _lookup(raw)[0] is not None
    agent.is_active = False
    agent.save()  # the admin's change form saves the whole user
    assert _lookup(raw)[0] is None


def test_a_renamed_user_comes_back_renamed(agent: User) -> None:
    raw = token_issue(user=agent)
    _lookup(raw)
    agent.display_name = "王小明"
    agent.save(update_fields=["display_name"])
    user, queries = _lookup(raw)
    assert user is not None
    assert user.display_name == "王小明"
    assert queries >= 1


def test_a_deleted_token_or_user_is_refused_on_the_next_request(
    agent: User, make_user: Callable[..., User]
) -> None:
    raw = token_issue(user=agent)
    _lookup(raw)
    ApiToken.objects.get(user=agent).delete()
    assert _lookup(raw)[0] is None
    other = make_user("lisi", "agent")
    other_raw = token_issue(user=other)
    _lookup(other_raw)
    other.delete()
    assert _lookup(other_raw)[0] is None


def test_an_expired_token_is_refused_though_it_is_held(
    agent: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = token_issue(user=agent)
    _lookup(raw)
    stored = ApiToken.objects.get(user=agent)
    later = stored.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert _lookup(raw) == (None, 0)  # refused by the held expiry, no query needed


def test_a_login_does_not_drop_the_held_tokens(agent: User, client: Any) -> None:
    raw = token_issue(user=agent)
    _lookup(raw)
    assert client.login(username="agent", password="pw-agent")  # saves last_login only
    assert _lookup(raw)[1] == 0


def test_a_change_behind_the_orms_back_is_seen_within_a_minute(
    agent: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = token_issue(user=agent)
    _lookup(raw)
    User.objects.filter(pk=agent.pk).update(is_active=False)  # no signal: nothing bumped
    assert _lookup(raw)[0] is not None  # still held
    clock = time.monotonic() + tokens._HELD_FOR + 1
    monkeypatch.setattr(time, "monotonic", lambda: clock)
    assert _lookup(raw)[0] is None


def test_over_the_api_a_deactivated_user_gets_401_on_the_next_request(
    agent: User, api_as: Callable[[User | None], ApiClient]
) -> None:
    api = api_as(agent)
    assert api.get("/api/v1/me").status_code == 200
    assert api.get("/api/v1/me").status_code == 200  # answered from the held token
    agent.is_active = False
    agent.save()
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
