"""Every write of routing: presence, skills, agents' skills and rules.

Presence changes are not written to the audit log (an agent changes status dozens of times a
day); PresenceLog is their record. Skill and rule changes are audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core.exceptions import ApplicationError, Forbidden, NotFound
from kefu.core.text import clean_text
from kefu.customers.models import Customer
from kefu.org.models import Team, User
from kefu.routing.models import (
    AgentPresence,
    AgentSkill,
    PresenceLog,
    RoutingRule,
    Skill,
    TicketType,
)

Status = AgentPresence.Status
SKILL_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _invalid(fields: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError(_("提交的内容有误，请检查标出的字段。"), fields=fields)


# --- presence ------------------------------------------------------------------------------


def presence_of(user: User) -> AgentPresence:
    """The user's presence; an agent who never set one is offline (not saved)."""
    presence = AgentPresence.objects.filter(user=user).first()
    return presence or AgentPresence(user=user, status=Status.OFFLINE, since=user.date_joined)


@transaction.atomic
def presence_set(*, actor: User, status: str, note: str = "") -> AgentPresence:
    """Set the actor's own status.

    1. Lock (or create) the presence row, so two tabs switching at once log one change each.
    2. Same status: only the note changes; no log entry.
    3. Otherwise close the open PresenceLog period and open one in the new status.
    """
    if not actor.has_perm("routing.set_own_presence"):
        raise Forbidden(_("您没有设置在线状态的权限。"))
    if status not in Status.values:
        raise _invalid({"status": [_("状态只能是在线、忙碌、小休或离线。")]})
    try:
        note = clean_text(note, max_length=100)
    except ValueError as exc:
        raise _invalid({"note": [str(exc)]}) from None
    now = timezone.now()
    AgentPresence.objects.bulk_create(
        [AgentPresence(user=actor, status=Status.OFFLINE, since=now)], ignore_conflicts=True
    )
    presence = AgentPresence.objects.select_for_update().get(user=actor)
    presence.last_seen_at = now  # whoever sets a status is here
    if (
        presence.status == status
        and PresenceLog.objects.filter(user=actor, ended_at__isnull=True).exists()
    ):
        presence.note = note
        presence.save(update_fields=["note", "last_seen_at", "updated_at"])
        return presence
    PresenceLog.objects.filter(user=actor, ended_at__isnull=True).update(ended_at=now)
    PresenceLog.objects.create(user=actor, status=status, started_at=now, note=note)
    presence.status, presence.since, presence.note = status, now, note
    presence.save(update_fields=["status", "since", "note", "last_seen_at", "updated_at"])
    return presence


def presence_timeout() -> timedelta:
    return timedelta(minutes=int(settings.PRESENCE_TIMEOUT_MINUTES))


def _heartbeat_key(user_id: int) -> str:
    return f"kefu:routing:seen:{user_id}"


def presence_heartbeat(*, user: User, now: datetime | None = None) -> bool:
    """The agent's browser is still there: record ``last_seen_at``, at most once per
    KEFU_PRESENCE_HEARTBEAT_SECONDS. True when a row was written.

    1. ``cache.add`` lets one heartbeat per interval through without touching the database
       (exact with Redis; without it, once per interval per web process).
    2. The UPDATE is conditional too: only a working agent (not offline: an agent taken
       offline stays offline until they choose otherwise), and only when the stored moment is
       older than the interval, so that processes with their own caches do not all write.
    It writes neither ``updated_at`` nor a PresenceLog: being seen is not a change of status.
    """
    interval = int(settings.PRESENCE_HEARTBEAT_SECONDS)
    if not cache.add(_heartbeat_key(user.pk), 1, timeout=interval):
        return False
    now = now or timezone.now()
    return bool(
        AgentPresence.objects.filter(
            user_id=user.pk, last_seen_at__lt=now - timedelta(seconds=interval)
        )
        .exclude(status=Status.OFFLINE)
        .update(last_seen_at=now)
    )


def presence_expire(now: datetime | None = None) -> int:
    """Online and busy agents not seen for KEFU_PRESENCE_TIMEOUT_MINUTES go offline (the browser
    was closed without logging out); how many.

    Each agent in a transaction of their own, under the row lock ``presence_set`` takes, and
    only if still online or busy and still unseen: a heartbeat or a status chosen meanwhile
    wins. The open period ends and the offline one starts when the agent was last seen, so
    occupancy counts no ghost time; the log says "超时自动下线" (the system did it, not them).
    Break is left alone: nobody routes work to a break."""
    now = now or timezone.now()
    cutoff = now - presence_timeout()
    working = [Status.ONLINE, Status.BUSY]
    stale = AgentPresence.objects.filter(status__in=working, last_seen_at__lt=cutoff)
    expired = 0
    for user_id in stale.values_list("user_id", flat=True)[:500]:
        with transaction.atomic():
            presence = (
                AgentPresence.objects.select_for_update()
                .filter(user_id=user_id, status__in=working, last_seen_at__lt=cutoff)
                .first()
            )
            if presence is None:
                continue
            # (never before the period began: a status chosen counts as being seen)
            gone_at = max(presence.last_seen_at, presence.since)
            PresenceLog.objects.filter(user_id=user_id, ended_at__isnull=True).update(
                ended_at=gone_at
            )
            PresenceLog.objects.create(
                user_id=user_id, status=Status.OFFLINE, started_at=gone_at, note=_("超时自动下线")
            )
            presence.status, presence.since, presence.note = Status.OFFLINE, gone_at, ""
            presence.save(update_fields=["status", "since", "note", "updated_at"])
            expired += 1
    return expired


def presence_sign_off(*, user: User) -> None:
    """Logging out makes an agent offline (nobody routes work to an empty seat)."""
    if AgentPresence.objects.filter(user=user).exclude(status=Status.OFFLINE).exists():
        with transaction.atomic():
            now = timezone.now()
            PresenceLog.objects.filter(user=user, ended_at__isnull=True).update(ended_at=now)
            PresenceLog.objects.create(
                user=user, status=Status.OFFLINE, started_at=now, note=_("退出登录")
            )
            AgentPresence.objects.filter(user=user).update(
                status=Status.OFFLINE, since=now, note="", updated_at=now
            )


# --- skills --------------------------------------------------------------------------------


def _require(actor: User, perm: str) -> None:
    if not actor.has_perm(perm):
        raise Forbidden(_("您没有维护技能与分配规则的权限。"))


@transaction.atomic
def skill_create(*, actor: User, code: str, name: str) -> Skill:
    _require(actor, "routing.add_skill")
    code, name = _skill_fields(code=code, name=name)
    if Skill.objects.filter(code=code).exists():
        raise _invalid({"code": [_("编码“%(code)s”已被使用。") % {"code": code}]})
    if Skill.objects.filter(name=name).exists():
        raise _invalid({"name": [_("名称“%(name)s”已被使用。") % {"name": name}]})
    skill = Skill.objects.create(code=code, name=name)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, target=skill)
    return skill


@transaction.atomic
def skill_update(*, actor: User, skill: Skill, name: str) -> Skill:
    """Only the name changes: rules and agents refer to the skill, reports to its code."""
    _require(actor, "routing.change_skill")
    _code, name = _skill_fields(code=skill.code, name=name)
    if Skill.objects.filter(name=name).exclude(pk=skill.pk).exists():
        raise _invalid({"name": [_("名称“%(name)s”已被使用。") % {"name": name}]})
    old = skill.name
    skill.name = name
    skill.save(update_fields=["name", "updated_at"])
    audit_record(
        actor=actor, action=AuditEvent.Action.UPDATE, target=skill, changes={"name": [old, name]}
    )
    return skill


@transaction.atomic
def skill_delete(*, actor: User, skill: Skill) -> None:
    _require(actor, "routing.delete_skill")
    if skill.rules.exists():
        raise ApplicationError(
            _("技能“%(name)s”仍被分配规则使用，请先修改这些规则。") % {"name": skill.name},
            code="skill_in_use",
            status=409,
        )
    audit_record(actor=actor, action=AuditEvent.Action.DELETE, target=skill)
    skill.delete()


def _skill_fields(*, code: str, name: str) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    try:
        code = clean_text(code, max_length=32, required=True)
        if not SKILL_CODE.match(code):
            errors["code"] = [_("编码只能包含小写字母、数字、_ 和 -。")]
    except ValueError as exc:
        errors["code"] = [str(exc)]
    try:
        name = clean_text(name, max_length=64, required=True)
    except ValueError as exc:
        errors["name"] = [str(exc)]
    if errors:
        raise _invalid(errors)
    return code, name


@transaction.atomic
def agent_skill_set(*, actor: User, user: User, skill_code: str, level: int) -> AgentSkill:
    """Give the agent the skill at ``level`` (1–5), or change the level they have."""
    _require(actor, "routing.change_agentskill")
    skill = Skill.objects.filter(code=skill_code).first()
    errors: dict[str, list[str]] = {}
    if skill is None:
        errors["skill"] = [_("技能编码“%(code)s”不存在。") % {"code": skill_code[:32]}]
    if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
        errors["level"] = [_("熟练度必须是 1 到 5 的整数。")]
    if errors or skill is None:
        raise _invalid(errors)
    agent_skill, created = AgentSkill.objects.update_or_create(
        user=user, skill=skill, defaults={"level": level}
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        target=agent_skill,
        changes={"user": user.pk, "skill": skill.code, "level": level},
    )
    return agent_skill


@transaction.atomic
def agent_skill_remove(*, actor: User, user: User, skill_code: str) -> None:
    _require(actor, "routing.delete_agentskill")
    agent_skill = AgentSkill.objects.filter(user=user, skill__code=skill_code).first()
    if agent_skill is None:
        raise NotFound(_("该坐席没有这项技能。"))
    audit_record(actor=actor, action=AuditEvent.Action.DELETE, target=agent_skill)
    agent_skill.delete()


# --- rules ---------------------------------------------------------------------------------


@dataclass
class RuleInput:
    name: str
    order: int = 100
    is_active: bool = True
    ticket_type: str = ""
    product: str = ""
    region_prefix: str = ""
    tier: str = ""
    required_skill: str = ""  # a Skill code; blank = no skill required
    min_skill_level: int = 1
    team_id: int | None = None
    strategy: str = RoutingRule.Strategy.ROUND_ROBIN


def _rule_values(data: RuleInput, *, rule: RoutingRule | None) -> dict[str, object]:
    """Check the input as a whole; every problem is reported at once, in Chinese."""
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    for field, max_length, required in (
        ("name", 64, True),
        ("product", 64, False),
        ("region_prefix", 32, False),
    ):
        try:
            values[field] = clean_text(
                str(getattr(data, field) or ""), max_length=max_length, required=required
            )
        except ValueError as exc:
            errors[field] = [str(exc)]
    name = values.get("name")
    same_name = RoutingRule.objects.filter(name=name)
    if rule is not None:
        same_name = same_name.exclude(pk=rule.pk)
    if name and same_name.exists():
        errors["name"] = [_("名称“%(name)s”已被使用。") % {"name": name}]
    if (
        isinstance(data.order, bool)
        or not isinstance(data.order, int)
        or not (0 <= data.order <= 1_000_000)
    ):
        errors["order"] = [_("顺序必须是 0 到 1000000 的整数。")]
    if data.ticket_type and data.ticket_type not in TicketType.values:
        errors["ticket_type"] = [
            _("未知的工单类型“%(code)s”，可选：%(codes)s。")
            % {"code": data.ticket_type[:32], "codes": "、".join(TicketType.values)}
        ]
    if data.tier and data.tier not in Customer.Tier.values:
        errors["tier"] = [
            _("未知的客户等级“%(code)s”，可选：%(codes)s。")
            % {"code": data.tier[:32], "codes": "、".join(Customer.Tier.values)}
        ]
    if data.strategy not in RoutingRule.Strategy.values:
        errors["strategy"] = [
            _("分配方式只能是轮流分配（round_robin）或负载最少优先（least_loaded）。")
        ]
    if (
        isinstance(data.min_skill_level, bool)
        or not isinstance(data.min_skill_level, int)
        or not (1 <= data.min_skill_level <= 5)
    ):
        errors["min_skill_level"] = [_("最低熟练度必须是 1 到 5 的整数。")]
    skill = None
    if data.required_skill:
        skill = Skill.objects.filter(code=data.required_skill).first()
        if skill is None:
            errors["required_skill"] = [
                _("技能编码“%(code)s”不存在。") % {"code": data.required_skill[:32]}
            ]
    team = None
    if data.team_id is not None:
        team = Team.objects.filter(pk=data.team_id).first() if 0 < data.team_id < 2**63 else None
        if team is None:
            errors["team_id"] = [_("班组不存在（编号 %(id)s）。") % {"id": data.team_id}]
    if not data.required_skill and data.team_id is None:
        errors.setdefault("__all__", []).append(_("目标班组和所需技能至少要填一项。"))
    if errors:
        raise _invalid(errors)
    values.update(
        order=data.order,
        is_active=bool(data.is_active),
        ticket_type=data.ticket_type,
        tier=data.tier,
        strategy=data.strategy,
        min_skill_level=data.min_skill_level,
        required_skill=skill,
        team=team,
    )
    return values


@transaction.atomic
def routing_rule_create(*, actor: User, data: RuleInput) -> RoutingRule:
    _require(actor, "routing.add_routingrule")
    values = _rule_values(data, rule=None)
    try:
        with transaction.atomic():
            rule = RoutingRule.objects.create(**values, updated_by=actor)
    except IntegrityError:  # the same name saved at the same moment
        raise _invalid(
            {"name": [_("名称“%(name)s”已被使用。") % {"name": values["name"]}]}
        ) from None
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, target=rule, changes=_audit(rule))
    return rule


@transaction.atomic
def routing_rule_update(*, actor: User, rule: RoutingRule, data: RuleInput) -> RoutingRule:
    _require(actor, "routing.change_routingrule")
    values = _rule_values(data, rule=rule)
    before = _audit(rule)
    for field, value in values.items():
        setattr(rule, field, value)
    rule.updated_by = actor
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        raise _invalid(
            {"name": [_("名称“%(name)s”已被使用。") % {"name": values["name"]}]}
        ) from None
    after = _audit(rule)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=rule, changes=changes)
    return rule


@transaction.atomic
def routing_rule_delete(*, actor: User, rule: RoutingRule) -> None:
    _require(actor, "routing.delete_routingrule")
    audit_record(actor=actor, action=AuditEvent.Action.DELETE, target=rule, changes=_audit(rule))
    rule.delete()


def _audit(rule: RoutingRule) -> dict[str, object]:
    return {
        "name": rule.name,
        "order": rule.order,
        "is_active": rule.is_active,
        "ticket_type": rule.ticket_type,
        "product": rule.product,
        "region_prefix": rule.region_prefix,
        "tier": rule.tier,
        "required_skill": rule.required_skill.code if rule.required_skill else "",
        "min_skill_level": rule.min_skill_level,
        "team_id": rule.team_id,
        "strategy": rule.strategy,
    }
