"""Reading presence, skills and rules, scoped to the user."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kefu.core.exceptions import Forbidden, NotFound
from kefu.org.models import Membership, Team, User
from kefu.routing.hooks import loads_for
from kefu.routing.models import AgentPresence, AgentSkill, RoutingRule, Skill

MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class BoardAgent:
    user_id: int
    name: str
    status: str
    status_display: str
    since: datetime | None
    note: str
    load: int
    skills: list[str]


@dataclass
class BoardTeam:
    team_id: int
    name: str
    agents: list[BoardAgent] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for agent in self.agents if agent.status == status)

    @property
    def online(self) -> int:
        return self.count(AgentPresence.Status.ONLINE)

    @property
    def load(self) -> int:
        return sum(agent.load for agent in self.agents)


def require_board(user: User) -> None:
    if not user.has_perm("routing.view_routing_board"):
        raise Forbidden(_("您没有查看坐席看板的权限。"))


def board_teams(user: User) -> QuerySet[Team]:
    """The teams whose agents the user watches: all with ``routing.view_all_agents``, else the
    teams the user belongs to (a supervisor's own teams)."""
    teams = Team.objects.all()
    if user.is_superuser or user.has_perm("routing.view_all_agents"):
        return teams
    return teams.filter(memberships__user=user)


def board_for(*, user: User) -> list[BoardTeam]:
    """Each team in scope with its active members: status, since, open items, skills.
    Four queries whatever the size, plus the registered load counters."""
    require_board(user)
    teams = {
        team.pk: BoardTeam(team.pk, team.name)
        for team in board_teams(user).order_by("department_id", "name")
    }
    memberships = list(
        Membership.objects.filter(team_id__in=teams, user__is_active=True)
        .select_related("user", "user__presence")
        .order_by("user__display_name", "user__username", "user_id")
    )
    user_ids = {membership.user_id for membership in memberships}
    skills: dict[int, list[str]] = defaultdict(list)
    for user_id, name, level in (
        AgentSkill.objects.filter(user_id__in=user_ids)
        .order_by("skill__code")
        .values_list("user_id", "skill__name", "level")
    ):
        skills[user_id].append(f"{name}·{level}")
    loads = loads_for(sorted(user_ids))
    for membership in memberships:
        member = membership.user
        presence = getattr(member, "presence", None)
        status = presence.status if presence else AgentPresence.Status.OFFLINE
        teams[membership.team_id].agents.append(
            BoardAgent(
                user_id=member.pk,
                name=str(member),
                status=status,
                status_display=str(AgentPresence.Status(status).label),
                since=presence.since if presence else None,
                note=presence.note if presence else "",
                load=loads.get(member.pk, 0),
                skills=skills.get(member.pk, []),
            )
        )
    return list(teams.values())


def require_manage(user: User) -> None:
    if not user.has_perm("routing.view_routingrule"):
        raise Forbidden(_("您没有查看技能与分配规则的权限。"))


def rule_list(*, user: User) -> QuerySet[RoutingRule]:
    require_manage(user)
    return RoutingRule.objects.select_related("required_skill", "team", "updated_by")


def rule_get(*, user: User, rule_id: int) -> RoutingRule:
    rule = rule_list(user=user).filter(pk=rule_id).first() if 0 < rule_id <= MAX_ID else None
    if rule is None:
        raise NotFound(_("分配规则不存在。"))
    return rule


def skill_list(*, user: User) -> QuerySet[Skill]:
    require_manage(user)
    return Skill.objects.all()


def agent_skill_rows(*, user: User) -> list[tuple[User, list[AgentSkill]]]:
    """Staff who may take work (set their presence), each with their skills."""
    require_manage(user)
    agents = list(
        User.objects.filter(is_active=True)
        .filter(
            groups__permissions__content_type__app_label="routing",
            groups__permissions__codename="set_own_presence",
        )
        .distinct()
        .order_by("display_name", "username")
    )
    by_user: dict[int, list[AgentSkill]] = defaultdict(list)
    for agent_skill in AgentSkill.objects.filter(user__in=agents).select_related("skill"):
        by_user[agent_skill.user_id].append(agent_skill)
    return [(agent, by_user.get(agent.pk, [])) for agent in agents]
