"""The cached permission backend: fewer queries per request, and a role change still takes
effect on the very next request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.org.models import User


def _fresh(user: User) -> User:
    """The user as the next request loads it (ModelBackend's per-object cache empty)."""
    return User.objects.get(pk=user.pk)


def test_a_second_request_reads_permissions_from_the_cache(
    make_user: Callable[..., User],
) -> None:
    agent = make_user("zhangsan", "agent", teams=("team_a",))
    assert _fresh(agent).has_perm("customers.view_customer")
    user = _fresh(agent)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("customers.view_customer")
        assert not user.has_perm("customers.reveal_contact")
    assert len(queries) == 0


def test_a_new_group_permission_counts_on_the_next_request(
    make_user: Callable[..., User],
) -> None:
    agent = make_user("zhangsan", "agent", teams=("team_a",))
    assert not _fresh(agent).has_perm("customers.reveal_contact")
    Group.objects.get(name="客服专员").permissions.add(
        Permission.objects.get(codename="reveal_contact")
    )
    assert _fresh(agent).has_perm("customers.reveal_contact")


def test_leaving_a_role_takes_its_permissions_away_on_the_next_request(
    make_user: Callable[..., User],
) -> None:
    supervisor = make_user("lisi", "supervisor", teams=("team_a",))
    assert _fresh(supervisor).has_perm("customers.export_customers")
    supervisor.groups.clear()
    assert not _fresh(supervisor).has_perm("customers.export_customers")


def test_an_inactive_user_has_no_permissions_even_when_cached(
    make_user: Callable[..., User],
) -> None:
    agent = make_user("zhangsan", "agent", teams=("team_a",))
    assert _fresh(agent).has_perm("customers.view_customer")
    User.objects.filter(pk=agent.pk).update(is_active=False)
    assert not _fresh(agent).has_perm("customers.view_customer")


def test_joining_a_team_widens_the_data_scope_on_the_next_request(
    make_user: Callable[..., User], org: dict[str, Any]
) -> None:
    from kefu.org.access import user_scope
    from kefu.org.models import Membership

    def scope_of(user: User) -> frozenset[int]:
        return user_scope(
            _fresh(user),
            all_perm="customers.view_all_customers",
            department_perm="customers.view_department_customers",
        ).team_ids

    agent = make_user("zhangsan", "agent", teams=("team_a",))
    assert scope_of(agent) == {org["team_a"].pk}
    Membership.objects.create(user=agent, team=org["team_b"])
    assert scope_of(agent) == {org["team_a"].pk, org["team_b"].pk}
    Membership.objects.filter(user=agent, team=org["team_a"]).delete()
    assert scope_of(agent) == {org["team_b"].pk}


class _CountingCache:
    """The cache, counting the reads that reach it (each one a Redis round trip in production)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads: list[str] = []

    def get(self, key: str, *args: Any, **kwargs: Any) -> Any:
        self.reads.append(key)
        return self.inner.get(key, *args, **kwargs)

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        self.reads.append("+".join(keys))
        found: dict[str, Any] = self.inner.get_many(keys)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_request_reads_the_permissions_version_once_and_sees_its_own_bump(
    monkeypatch: Any,
) -> None:
    from django.core.cache import cache

    from kefu.core.context import RequestMeta, reset_request_meta, set_request_meta
    from kefu.org import backends

    counting = _CountingCache(cache)
    monkeypatch.setattr(backends, "cache", counting)
    token = set_request_meta(RequestMeta(channel="api", memo={}))
    try:
        first = backends.permissions_version()
        assert backends.permissions_version() == first
        assert counting.reads.count(backends.VERSION_KEY) == 1
        backends.bump_permissions_version()  # roles changed in this very request
        assert backends.permissions_version() == first + 1
    finally:
        reset_request_meta(token)
    # a job or a command has no memo: every call reads the shared cache
    counting.reads.clear()
    backends.permissions_version()
    backends.permissions_version()
    assert counting.reads.count(backends.VERSION_KEY) == 2


def test_the_user_and_group_permission_sets_come_in_one_cache_read(
    make_user: Callable[..., User], monkeypatch: Any
) -> None:
    from kefu.core.context import RequestMeta, reset_request_meta, set_request_meta
    from kefu.org import backends

    agent = make_user("zhangsan", "agent", teams=("team_a",))
    assert _fresh(agent).has_perm("customers.view_customer")  # fills the cache
    from django.core.cache import cache

    counting = _CountingCache(cache)
    monkeypatch.setattr(backends, "cache", counting)
    token = set_request_meta(RequestMeta(channel="api", memo={}))
    try:
        user = _fresh(agent)
        with CaptureQueriesContext(connection) as queries:
            assert user.has_perm("customers.view_customer")
            assert not user.has_perm("customers.reveal_contact")
        version = backends.permissions_version()
    finally:
        reset_request_meta(token)
    assert len(queries) == 0
    assert counting.reads == [
        backends.VERSION_KEY,
        f"kefu:perms:{version}:user:{agent.pk}+kefu:perms:{version}:group:{agent.pk}",
    ]
