from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from kefu.org.models import Team, User
from kefu.routing.models import AgentPresence, AgentSkill, RoutingRule, Skill


def set_status(user: User, status: str, *, since: datetime | None = None) -> AgentPresence:
    """Presence straight into the table (the services are tested on their own)."""
    presence, _created = AgentPresence.objects.update_or_create(
        user=user, defaults={"status": status, "since": since or timezone.now()}
    )
    return presence


def online(*users: User, minutes_ago: int = 60) -> None:
    for offset, user in enumerate(users):
        set_status(
            user,
            AgentPresence.Status.ONLINE,
            since=timezone.now() - timedelta(minutes=minutes_ago - offset),
        )


def skill(code: str, name: str | None = None) -> Skill:
    return Skill.objects.get_or_create(code=code, defaults={"name": name or code})[0]


def give(user: User, code: str, level: int = 3) -> AgentSkill:
    return AgentSkill.objects.update_or_create(
        user=user, skill=skill(code), defaults={"level": level}
    )[0]


def rule(
    name: str,
    *,
    team: Team | None = None,
    skill_code: str = "",
    order: int = 100,
    strategy: str = RoutingRule.Strategy.ROUND_ROBIN,
    **match: object,
) -> RoutingRule:
    return RoutingRule.objects.create(
        name=name,
        team=team,
        required_skill=skill(skill_code) if skill_code else None,
        order=order,
        strategy=strategy,
        **match,
    )
