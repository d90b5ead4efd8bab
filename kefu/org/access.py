"""Who may see what: the data scope of a member of staff (see kefu.org.roles)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser

from kefu.core import versioned
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
    team_ids = versioned.cached(
        "perms",
        f"scope:{user.pk}:{int(department_wide)}",
        lambda: _scope_team_ids(user, department_wide=department_wide),
    )
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

    def teams() -> list[Team]:
        query = Team.objects.select_related("department")
        return list(query if scope.all else query.filter(id__in=scope.team_ids))

    # a list of its own: the cached one is shared by the process's requests
    return list(versioned.cached("perms", "teams:" + ("all" if scope.all else str(user.pk)), teams))


def member_team_ids(user: User) -> frozenset[int]:
    """The teams the user is a member of (cached like the scope)."""
    return versioned.cached(
        "perms",
        f"member-teams:{user.pk}",
        lambda: frozenset(user.memberships.values_list("team_id", flat=True)),
    )


def group_names(user: User) -> frozenset[str]:
    """The names of the user's groups (roles), cached like the permissions: a change of the
    user's groups, or a group renamed or deleted, bumps the version."""
    return versioned.cached(
        "perms", f"groups:{user.pk}", lambda: frozenset(user.groups.values_list("name", flat=True))
    )
