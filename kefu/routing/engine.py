"""The routing decision: which team and which agent a new ticket goes to (issue 4 §4).

``route(ticket_type=..., product=..., region=..., tier=..., customer_id=...)`` answers a
``RouteDecision``; it creates nothing and assigns nothing, the caller (the desk) stores the
answer on its ticket. Its only writes are the round-robin cursor and the chosen agent's
``last_routed_at``.

1. Key accounts first: when a lookup registered with
   ``kefu.routing.hooks.register_bound_team_lookup`` binds the customer to a team, that team
   wins over every rule; its agents share the work least-loaded (no skill required: the bound
   team serves everything of its customer).
2. Otherwise the first active rule (by ``order``, then id) whose non-blank fields all match:
   ticket type, product (case-insensitive), region prefix, tier.
3. Candidates are the agents whose presence is ONLINE (busy, break and offline never get work)
   and who were seen within KEFU_PRESENCE_TIMEOUT_MINUTES (a closed browser gets no work even
   before ``presence_expire`` takes it offline), active users, members of the rule's team
   (when it names one) having the rule's skill at the rule's minimum level or above (when it
   names one).
4. Round robin: the next candidate by user id after the one who got the previous item of this
   rule, wrapping round. The cursor row is locked (an UPDATE first) before it is read, so two
   concurrent routes queue on it and never pick the same agent twice in a row while two are
   online (PostgreSQL row lock; SQLite runs write transactions one at a time).
   Least loaded: the fewest open items (``register_load_counter``); ties go to the agent idle
   longest (last routed, or online since), then to the lowest id.
5. No candidate: the rule's team only (unassigned, in the team's queue), or nobody when the rule
   names only a skill; ``reason`` says why in words.

Rules are cached per process and reloaded when any process changes a rule, skill or team (the
"rules" token of kefu.core.versioned, shared through Redis and read once per request; without
Redis another process reloads within ``kefu.core.versioned.LOCAL_TTL`` seconds). A decision
costs two to four queries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import versioned
from kefu.org.models import Membership, Team
from kefu.routing.hooks import bound_team_for, loads_for
from kefu.routing.models import AgentPresence, RoutingCursor, RoutingRule

Strategy = RoutingRule.Strategy


@dataclass(frozen=True)
class RouteDecision:
    team_id: int | None
    assignee_id: int | None
    rule_id: int | None
    reason: str


@dataclass(frozen=True)
class CachedRule:
    id: int
    name: str
    ticket_type: str
    product: str
    region_prefix: str
    tier: str
    skill_id: int | None
    skill_name: str
    min_skill_level: int
    team_id: int | None
    team_name: str
    strategy: str

    def matches(self, *, ticket_type: str, product: str, region: str, tier: str) -> bool:
        return (
            (not self.ticket_type or self.ticket_type == ticket_type)
            and (not self.product or self.product.casefold() == product.strip().casefold())
            and (not self.region_prefix or region.strip().startswith(self.region_prefix))
            and (not self.tier or self.tier == tier)
        )


# --- the per-process rule cache ------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    version: str
    loaded_at: float
    rules: tuple[CachedRule, ...]


_loaded: _Loaded | None = None


def rules_changed(**kwargs: Any) -> None:
    """Rules, skills or teams changed: every process reloads its rules. Connected to their
    post_save/post_delete (kefu.core.versioned: bumped now and again on commit)."""
    versioned.bump("rules")


def active_rules() -> tuple[CachedRule, ...]:
    """The active rules in matching order, from the process cache when it is current."""
    global _loaded
    version = versioned.token("rules")
    now = time.monotonic()
    loaded = _loaded
    if (
        loaded is not None
        and loaded.version == version
        and now - loaded.loaded_at < (versioned.copy_ttl())
    ):
        return loaded.rules
    rules = tuple(
        CachedRule(
            id=rule.pk,
            name=rule.name,
            ticket_type=rule.ticket_type,
            product=rule.product,
            region_prefix=rule.region_prefix,
            tier=rule.tier,
            skill_id=rule.required_skill_id,
            skill_name=rule.required_skill.name if rule.required_skill else "",
            min_skill_level=rule.min_skill_level,
            team_id=rule.team_id,
            team_name=rule.team.name if rule.team else "",
            strategy=rule.strategy,
        )
        for rule in RoutingRule.objects.filter(is_active=True)
        .select_related("required_skill", "team")
        .order_by("order", "id")
    )
    _loaded = _Loaded(version=version, loaded_at=now, rules=rules)
    return rules


# --- candidates and strategies -------------------------------------------------------------


@dataclass(frozen=True)
class _Agent:
    user_id: int
    name: str
    idle_since: datetime


def _online_agents(
    *, team_id: int | None, skill_id: int | None, min_level: int = 1
) -> list[_Agent]:
    # Seen lately too: an agent who closed the browser is not given work in the minutes
    # before presence_expire takes them offline (same query, one more condition).
    seen_since = timezone.now() - timedelta(minutes=int(settings.PRESENCE_TIMEOUT_MINUTES))
    presences = AgentPresence.objects.filter(
        status=AgentPresence.Status.ONLINE, user__is_active=True, last_seen_at__gte=seen_since
    )
    if team_id is not None:
        presences = presences.filter(user__memberships__team_id=team_id)
    if skill_id is not None:
        presences = presences.filter(
            user__agent_skills__skill_id=skill_id, user__agent_skills__level__gte=min_level
        )
    rows = presences.order_by("user_id").values_list(
        "user_id", "since", "last_routed_at", "user__display_name", "user__username"
    )
    agents: dict[int, _Agent] = {}
    for user_id, since, last_routed_at, display_name, username in rows:
        idle_since = max(since, last_routed_at) if last_routed_at else since
        agents[user_id] = _Agent(user_id, display_name or username, idle_since)
    return list(agents.values())


@transaction.atomic(savepoint=False)  # inside the caller's transaction: no SAVEPOINT round trips
def _next_in_turn(key: str, user_ids: list[int]) -> int:
    """The next of ``user_ids`` (ascending) after the cursor's last one; advances the cursor.

    The UPDATE comes first so that the row is locked before it is read: a concurrent route
    waits here and then reads the agent this one chose."""
    cursors = RoutingCursor.objects.filter(key=key)
    if not cursors.update(turns=F("turns") + 1):
        RoutingCursor.objects.bulk_create([RoutingCursor(key=key)], ignore_conflicts=True)
        cursors.update(turns=F("turns") + 1)
    last = cursors.values_list("last_user_id", flat=True).get()
    choice = next((pk for pk in user_ids if last is None or pk > last), user_ids[0])
    cursors.update(last_user_id=choice)
    return choice


def _least_loaded(agents: list[_Agent]) -> tuple[_Agent, int]:
    loads = loads_for(agent.user_id for agent in agents)
    best = min(agents, key=lambda agent: (loads[agent.user_id], agent.idle_since, agent.user_id))
    return best, loads[best.user_id]


def _assign(*, key: str, strategy: str, agents: list[_Agent]) -> tuple[_Agent, str]:
    if strategy == Strategy.ROUND_ROBIN:
        chosen_id = _next_in_turn(key, [agent.user_id for agent in agents])
        chosen = next(agent for agent in agents if agent.user_id == chosen_id)
        how = _("轮流分配给 %(agent)s。") % {"agent": chosen.name}
    else:
        chosen, load = _least_loaded(agents)
        how = _("按负载最少分配给 %(agent)s（在办 %(load)s 件）。") % {
            "agent": chosen.name,
            "load": load,
        }
    AgentPresence.objects.filter(user_id=chosen.user_id).update(last_routed_at=timezone.now())
    return chosen, how


def route(
    *,
    ticket_type: str,
    product: str = "",
    region: str = "",
    tier: str = "",
    customer_id: int | None = None,
) -> RouteDecision:
    """Decide the team and the agent of a new ticket (see the module's docstring)."""
    bound_team_id = bound_team_for(customer_id)
    if bound_team_id is not None:
        team_name = Team.objects.filter(pk=bound_team_id).values_list("name", flat=True).first()
        if team_name is not None:
            why = _("客户绑定大客户班组“%(team)s”，优先于分配规则；") % {"team": team_name}
            agents = _online_agents(team_id=bound_team_id, skill_id=None)
            if not agents:
                return RouteDecision(
                    bound_team_id,
                    None,
                    None,
                    why + _("该班组暂无在线坐席，进入班组待分配队列。"),
                )
            chosen, how = _assign(
                key=f"team:{bound_team_id}", strategy=Strategy.LEAST_LOADED, agents=agents
            )
            return RouteDecision(bound_team_id, chosen.user_id, None, why + how)

    rule = next(
        (
            rule
            for rule in active_rules()
            if rule.matches(ticket_type=ticket_type, product=product, region=region, tier=tier)
        ),
        None,
    )
    if rule is None:
        return RouteDecision(None, None, None, _("没有匹配的分配规则，进入未分配队列。"))
    why = _("匹配规则“%(rule)s”；") % {"rule": rule.name}
    agents = _online_agents(
        team_id=rule.team_id, skill_id=rule.skill_id, min_level=rule.min_skill_level
    )
    if not agents:
        if rule.team_id is None:
            return RouteDecision(
                None,
                None,
                rule.id,
                why
                + _("没有在线且具备技能“%(skill)s”的坐席，进入未分配队列。")
                % {"skill": rule.skill_name},
            )
        if rule.skill_id is None:
            missing = _("班组“%(team)s”暂无在线坐席") % {"team": rule.team_name}
        else:
            missing = _("班组“%(team)s”暂无在线且具备技能“%(skill)s”的坐席") % {
                "team": rule.team_name,
                "skill": rule.skill_name,
            }
        return RouteDecision(
            rule.team_id, None, rule.id, why + missing + _("，进入班组待分配队列。")
        )
    chosen, how = _assign(key=f"rule:{rule.id}", strategy=rule.strategy, agents=agents)
    team_id = rule.team_id
    if team_id is None:  # a skill-only rule: the ticket goes to the chosen agent's (first) team
        team_id = (
            Membership.objects.filter(user_id=chosen.user_id)
            .order_by("id")
            .values_list("team_id", flat=True)
            .first()
        )
    return RouteDecision(team_id, chosen.user_id, rule.id, why + how)
