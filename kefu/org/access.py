"""Who may see what: the data scope of a member of staff (see kefu.org.roles)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache

from kefu.org.backends import permissions_ttl, permissions_version
from kefu.org.models import Team, User


@dataclass(frozen=True)
class Scope:
    all: bool
    team_ids: frozenset[int]
    user_id: int | None


def user_scope(user: User | AnonymousUser, *, all_perm: str, department_perm: str) -> Scope:
    """The teams whose records the user sees.

    1. superuser or ``all_perm`` → everything;
    2. ``department_perm`` → every team of the departments of the user and of their teams;
    3. otherwise the user's own teams (plus, for callers that use ``user_id``, what they own).
    """
    if not user.is_authenticated or not user.is_active:
        return Scope(all=False, team_ids=frozenset(), user_id=None)
    assert isinstance(user, User)
    if user.is_superuser or user.has_perm(all_perm):
        return Scope(all=True, team_ids=frozenset(), user_id=user.pk)
    department_wide = user.has_perm(department_perm)
    key = f"kefu:scope:{permissions_version()}:{user.pk}:{int(department_wide)}"
    team_ids = cache.get(key)
    if team_ids is None:
        team_ids = _scope_team_ids(user, department_wide=department_wide)
        cache.set(key, team_ids, timeout=permissions_ttl())
    return Scope(all=False, team_ids=team_ids, user_id=user.pk)


def _scope_team_ids(user: User, *, department_wide: bool) -> frozenset[int]:
    """The user's own teams, and with ``department_wide`` every team of their departments.
    Cached by user_scope under the permissions version, which memberships, teams and users
    bump when they change (kefu.org.apps)."""
    own = list(user.memberships.values_list("team_id", "team__department_id"))
    team_ids = {team_id for team_id, _dept in own}
    if department_wide:
        departments = {dept for _team, dept in own}
        if user.department_id:
            departments.add(user.department_id)
        team_ids |= set(
            Team.objects.filter(department_id__in=departments).values_list("id", flat=True)
        )
    return frozenset(team_ids)


def assignable_teams(user: User) -> list[Team]:
    """Teams the user may give a record to: all when they see everything, else their scope.
    Cached under the permissions version (a team's change bumps it)."""
    scope = user_scope(
        user,
        all_perm="customers.view_all_customers",
        department_perm="customers.view_department_customers",
    )
    key = f"kefu:teams:{permissions_version()}:" + ("all" if scope.all else str(user.pk))
    teams: list[Team] | None = cache.get(key)
    if teams is None:
        query = Team.objects.select_related("department")
        teams = list(query if scope.all else query.filter(id__in=scope.team_ids))
        cache.set(key, teams, timeout=permissions_ttl())
    return teams


def member_team_ids(user: User) -> frozenset[int]:
    """The teams the user is a member of (cached like the scope)."""
    key = f"kefu:member-teams:{permissions_version()}:{user.pk}"
    team_ids: frozenset[int] | None = cache.get(key)
    if team_ids is None:
        team_ids = frozenset(user.memberships.values_list("team_id", flat=True))
        cache.set(key, team_ids, timeout=permissions_ttl())
    return team_ids


def group_names(user: User) -> frozenset[str]:
    """The names of the user's groups (roles), cached like the permissions: a change of the
    user's groups, or a group renamed or deleted, bumps the version."""
    key = f"kefu:groups:{permissions_version()}:{user.pk}"
    names: frozenset[str] | None = cache.get(key)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True))
        cache.set(key, names, timeout=permissions_ttl())
    return names
