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
