"""Who may use and who may change canned replies and macros, and who sees the live load.

Use: everyone's, their own teams', and their own personal ones. Change: a personal one only by
its owner (any agent); team and everyone ones by supervisors (a supervisor for the teams they
belong to; a manager, who holds ``desk.manage_ticket``, for every team). Outside what a user may
use is 404 (ids don't leak); usable but not theirs to change is 403."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core.exceptions import Forbidden, NotFound
from kefu.org.models import Membership, Team, User
from kefu.workspace.models import CannedReply, Macro, Scope, Shared

MAX_ID = 2**63 - 1
S = TypeVar("S", bound=Shared)


def can_work(user: User) -> bool:
    return user.is_active and user.has_perm("desk.work_ticket")


def can_supervise(user: User) -> bool:
    return user.is_active and user.has_perm("desk.supervise_ticket")


def can_view_load(user: User) -> bool:
    """Supervisors and above: supervisors and managers (desk.supervise_ticket) and the general
    manager (desk.gm_ticket)."""
    return user.is_active and (
        user.has_perm("desk.supervise_ticket") or user.has_perm("desk.gm_ticket")
    )


def own_team_ids(user: User) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("team_id", flat=True))


def manageable_teams(user: User) -> QuerySet[Team]:
    """Teams whose team-scope replies and macros the user may change."""
    if not can_supervise(user):
        return Team.objects.none()
    if user.is_superuser or user.has_perm("desk.manage_ticket"):
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user)


def usable(model: type[S], user: User) -> QuerySet[S]:
    """What the user may use (and see on the management page), active or not."""
    visible = Q(scope=Scope.EVERYONE) | Q(scope=Scope.PERSONAL, owner=user)
    if user.is_superuser or user.has_perm("desk.manage_ticket"):
        visible |= Q(scope=Scope.TEAM)
    else:
        visible |= Q(
            scope=Scope.TEAM, team_id__in=Membership.objects.filter(user=user).values("team_id")
        )
    objects: QuerySet[S] = model._default_manager.all()
    return objects.filter(visible).select_related("team", "owner")


def may_change(user: User, item: Shared) -> bool:
    if item.scope == Scope.PERSONAL:
        return item.owner_id == user.pk and can_work(user)
    if item.scope == Scope.TEAM:
        return item.team_id is not None and manageable_teams(user).filter(pk=item.team_id).exists()
    return can_supervise(user)


def item_get_for_user(model: type[S], *, user: User, item_id: int, write: bool = False) -> S:
    if not can_work(user) and not can_supervise(user):
        raise Forbidden(_("您没有使用快捷回复和宏的权限。"))
    found = usable(model, user).filter(pk=item_id).first() if 0 < item_id <= MAX_ID else None
    if found is None:
        raise NotFound(_("快捷回复不存在。") if model is CannedReply else _("宏不存在。"))
    if write and not may_change(user, found):
        raise Forbidden(_("您不能修改这一条：个人的只有本人能改，本组和全员的由主管维护。"))
    return found


def macro_list_for_ticket(user: User) -> QuerySet[Macro]:
    return usable(Macro, user).filter(active=True).order_by("title", "id")
