"""Version-token caching (kefu.core.versioned): one shared-cache read per request for every
permission, scope, routing-rule and webhook check, and a change anywhere seen on the next
request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core import versioned
from kefu.core.context import RequestMeta, reset_request_meta, set_request_meta
from kefu.org.access import group_names, user_scope
from kefu.org.models import User


class _CountingCache:
    """The cache, counting the reads that reach it (each one a Redis round trip in production)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads = 0

    def get(self, key: str, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        return self.inner.get(key, *args, **kwargs)

    def get_many(self, keys: list[str]) -> Any:
        self.reads += 1
        return self.inner.get_many(keys)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> _CountingCache:
    wrapper = _CountingCache(cache)
    monkeypatch.setattr(versioned, "cache", wrapper)
    return wrapper


@contextmanager
def a_request() -> Iterator[None]:
    token = set_request_meta(RequestMeta(channel="api", memo={}))
    try:
        yield
    finally:
        reset_request_meta(token)


def _checks(user: User) -> tuple[bool, bool, frozenset[int], frozenset[str]]:
    """What an API request typically asks: two permissions, the data scope, the roles."""
    fresh = User.objects.get(pk=user.pk)  # as the next request loads it
    scope = user_scope(
        fresh,
        all_perm="customers.view_all_customers",
        department_perm="customers.view_department_customers",
    )
    return (
        fresh.has_perm("customers.view_customer"),
        fresh.has_perm("customers.reveal_contact"),
        scope.team_ids,
        group_names(fresh),
    )


def test_a_request_reads_the_shared_cache_once_for_all_its_checks(
    make_user: Callable[..., User], org: dict[str, Any], counting: _CountingCache
) -> None:
    agent = make_user("zhangsan", "agent", teams=("team_a",))
    with a_request():
        first = _checks(agent)  # fills this process's copies
    counting.reads = 0
    with a_request(), CaptureQueriesContext(connection) as queries:
        again = _checks(agent)
    assert again == first == (True, False, frozenset({org["team_a"].pk}), frozenset({"客服专员"}))
    assert counting.reads == 1  # the tokens, all in one read
    assert [q["sql"] for q in queries.captured_queries if "org_user" not in q["sql"]] == []


def test_a_change_made_by_another_process_counts_on_the_next_request(
    make_user: Callable[..., User], org: dict[str, Any]
) -> None:
    agent = make_user("zhangsan", "agent", teams=("team_a",))
    with a_request():
        assert not _checks(agent)[1]
    # another process gives the role a permission: the row changes, and the shared token
    group = Group.objects.get(name="客服专员")
    group.permissions.add(Permission.objects.get(codename="reveal_contact"))
    cache.set(versioned.TOKENS["perms"], "token-of-another-process", timeout=None)
    with a_request():
        assert _checks(agent)[1]


def test_a_request_sees_its_own_change_at_once(make_user: Callable[..., User]) -> None:
    agent = make_user("zhangsan", "agent", teams=("team_a",))
    with a_request():
        assert not _checks(agent)[1]
        before = versioned.token("perms")
        Group.objects.get(name="客服专员").permissions.add(
            Permission.objects.get(codename="reveal_contact")
        )
        assert versioned.token("perms") != before
        assert _checks(agent)[1]


def test_jobs_read_the_tokens_on_every_use(counting: _CountingCache) -> None:
    versioned.token("rules")  # the first use ever makes the tokens
    counting.reads = 0
    versioned.token("rules")
    versioned.token("rules")
    assert counting.reads == 2


def test_without_a_shared_cache_a_copy_expires_after_the_local_ttl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr("kefu.core.versioned.time.monotonic", lambda: clock[0])
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert versioned.copy_ttl() == versioned.LOCAL_TTL  # the tests' cache is per process
    assert versioned.cached("rules", "k", compute, shared=False) == 1
    clock[0] += versioned.LOCAL_TTL - 1
    assert versioned.cached("rules", "k", compute, shared=False) == 1
    clock[0] += 2
    assert versioned.cached("rules", "k", compute, shared=False) == 2


@pytest.mark.django_db
def test_a_bump_inside_a_transaction_is_renewed_when_it_commits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        versioned.bump("webhooks")
        bumped = versioned.token("webhooks")
    assert len(callbacks) == 1
    callbacks[0]()
    assert versioned.token("webhooks") not in ("", bumped)
