"""/api/v1/routing: the caller's presence, the supervisors' board, routing rules."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from ninja import Router, Status

from kefu.api.auth import AuthedRequest
from kefu.api.schemas import ERRORS, Id
from kefu.routing.models import AgentPresence, RoutingRule
from kefu.routing.schemas import BoardOut, PresenceIn, PresenceOut, RuleIn, RuleListOut, RuleOut
from kefu.routing.selectors import board_for, rule_get, rule_list
from kefu.routing.services import (
    RuleInput,
    presence_of,
    presence_set,
    routing_rule_create,
    routing_rule_delete,
    routing_rule_update,
)

router = Router(tags=["routing"])


def presence_out(presence: AgentPresence) -> dict[str, Any]:
    return {
        "user_id": presence.user_id,
        "status": presence.status,
        "status_display": str(presence.get_status_display()),
        "since": timezone.localtime(presence.since),
        "note": presence.note,
    }


def rule_out(rule: RoutingRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
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
        "updated_at": timezone.localtime(rule.updated_at),
    }


@router.get("/presence", response={200: PresenceOut, **ERRORS}, summary="我的在线状态")
def presence_get(request: AuthedRequest) -> dict[str, Any]:
    return presence_out(presence_of(request.auth))


@router.put(
    "/presence",
    response={200: PresenceOut, **ERRORS},
    summary="设置我的在线状态（只有“在线”的坐席会被分配工单）",
)
def presence_put(request: AuthedRequest, payload: PresenceIn) -> dict[str, Any]:
    return presence_out(presence_set(actor=request.auth, status=payload.status, note=payload.note))


@router.get(
    "/board",
    response={200: BoardOut, **ERRORS},
    summary="坐席看板：所辖班组坐席的状态与在办量（客服主管）",
)
def board(request: AuthedRequest) -> dict[str, Any]:
    teams = board_for(user=request.auth)
    return {
        "items": [
            {
                "team_id": team.team_id,
                "name": team.name,
                "online": team.online,
                "load": team.load,
                "agents": [
                    {
                        **agent.__dict__,
                        "since": timezone.localtime(agent.since) if agent.since else None,
                    }
                    for agent in team.agents
                ],
            }
            for team in teams
        ],
        "count": len(teams),
    }


@router.get("/rules", response={200: RuleListOut, **ERRORS}, summary="分配规则（按匹配顺序）")
def rules_list(request: AuthedRequest) -> dict[str, Any]:
    rules = list(rule_list(user=request.auth))
    return {"items": [rule_out(rule) for rule in rules], "count": len(rules)}


@router.post("/rules", response={201: RuleOut, **ERRORS}, summary="新建分配规则（客服经理）")
def rules_create(request: AuthedRequest, payload: RuleIn) -> Status[dict[str, Any]]:
    rule = routing_rule_create(actor=request.auth, data=RuleInput(**payload.dict()))
    return Status(201, rule_out(rule_get(user=request.auth, rule_id=rule.pk)))


@router.put("/rules/{rule_id}", response={200: RuleOut, **ERRORS}, summary="修改分配规则")
def rules_update(request: AuthedRequest, rule_id: Id, payload: RuleIn) -> dict[str, Any]:
    rule = rule_get(user=request.auth, rule_id=rule_id)
    routing_rule_update(actor=request.auth, rule=rule, data=RuleInput(**payload.dict()))
    return rule_out(rule_get(user=request.auth, rule_id=rule_id))


@router.delete("/rules/{rule_id}", response={204: None, **ERRORS}, summary="删除分配规则")
def rules_delete(request: AuthedRequest, rule_id: Id) -> Status[None]:
    routing_rule_delete(actor=request.auth, rule=rule_get(user=request.auth, rule_id=rule_id))
    return Status(204, None)
