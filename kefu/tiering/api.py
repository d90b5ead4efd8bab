"""/api/v1/tiers: tier rules (分层规则), recompute, tier history and pins."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Status

from kefu.api.auth import AuthedRequest
from kefu.api.pagination import paginate
from kefu.api.schemas import ERRORS, Id
from kefu.customers.access import customer_get_for_user
from kefu.tiering.models import TierChange, TierRuleSet
from kefu.tiering.schemas import (
    PinIn,
    RecomputeOut,
    RuleSetCreateIn,
    RuleSetListOut,
    RuleSetOut,
    RuleSetPatchIn,
    TierChangeListOut,
    TierChangeOut,
    TierHistoryQuery,
    UnpinIn,
)
from kefu.tiering.selectors import rule_set_get, rule_set_list, tier_change_list
from kefu.tiering.services import (
    LevelInput,
    RuleSetInput,
    tier_pin,
    tier_rule_set_activate,
    tier_rule_set_create,
    tier_rule_set_update,
    tier_unpin,
    tiers_recompute,
)

router = Router(tags=["tiers"])


def rule_set_out(rule_set: TierRuleSet) -> dict[str, Any]:
    return {
        "id": rule_set.pk,
        "name": rule_set.name,
        "measure": rule_set.measure,
        "measure_display": str(rule_set.get_measure_display()),
        "method": rule_set.method,
        "method_display": str(rule_set.get_method_display()),
        "weights": {str(key): str(value) for key, value in (rule_set.weights or {}).items()},
        "cut_a": rule_set.cut_a,
        "cut_b": rule_set.cut_b,
        "diamond_share": rule_set.diamond_share,
        "apply_credit_caps": rule_set.apply_credit_caps,
        "is_active": rule_set.is_active,
        "levels": [
            {
                "tier": level.tier,
                "tier_display": str(level.get_tier_display()),
                "min_value": level.min_value,
                "sla_policy": level.sla_policy,
                "priority_bump": level.priority_bump,
                "followup_days": level.followup_days,
                "discount_rate": level.discount_rate,
                "dedicated_team_id": level.dedicated_team_id,
            }
            for level in rule_set.levels.all()
        ],
        "updated_at": rule_set.updated_at,
    }


def tier_change_out(change: TierChange) -> dict[str, Any]:
    return {
        "id": change.pk,
        "customer_id": change.customer_id,
        "from_tier": change.from_tier,
        "from_tier_display": str(change.get_from_tier_display()),
        "to_tier": change.to_tier,
        "to_tier_display": str(change.get_to_tier_display()),
        "kind": change.kind,
        "kind_display": str(change.get_kind_display()),
        "reason": change.reason,
        "figures": change.figures,
        "rule_set_id": change.rule_set_id,
        "actor": str(change.actor) if change.actor else None,
        "created_at": change.created_at,
    }


def _rule_set_input(payload: RuleSetCreateIn | RuleSetPatchIn) -> RuleSetInput:
    data = payload.dict(exclude_unset=True)
    levels = data.pop("levels", None)
    return RuleSetInput(
        **data,
        levels=None if levels is None else [LevelInput(**level) for level in levels],
    )


@router.post(
    "/recompute",
    response={200: RecomputeOut, **ERRORS},
    summary="立即重算全部客户等级（客服经理；不做降级缓冲）",
)
def tiers_recompute_now(request: AuthedRequest) -> dict[str, Any]:
    return tiers_recompute(actor=request.auth, hysteresis=False).as_dict()


@router.get("/rules", response={200: RuleSetListOut, **ERRORS}, summary="分层规则列表")
def rules_list(request: AuthedRequest) -> dict[str, Any]:
    rule_sets = list(rule_set_list(user=request.auth))
    return {"items": [rule_set_out(r) for r in rule_sets], "count": len(rule_sets)}


@router.post("/rules", response={201: RuleSetOut, **ERRORS}, summary="新建分层规则（未启用）")
def rules_create(request: AuthedRequest, payload: RuleSetCreateIn) -> Status[dict[str, Any]]:
    rule_set = tier_rule_set_create(actor=request.auth, data=_rule_set_input(payload))
    return Status(201, rule_set_out(rule_set_get(user=request.auth, rule_set_id=rule_set.pk)))


@router.get("/rules/{rule_set_id}", response={200: RuleSetOut, **ERRORS}, summary="分层规则详情")
def rules_detail(request: AuthedRequest, rule_set_id: Id) -> dict[str, Any]:
    return rule_set_out(rule_set_get(user=request.auth, rule_set_id=rule_set_id))


@router.patch(
    "/rules/{rule_set_id}",
    response={200: RuleSetOut, **ERRORS},
    summary="修改分层规则（阈值、权益、权重；重叠的阈值返回 422）",
)
def rules_update(
    request: AuthedRequest, rule_set_id: Id, payload: RuleSetPatchIn
) -> dict[str, Any]:
    rule_set = rule_set_get(user=request.auth, rule_set_id=rule_set_id)
    tier_rule_set_update(actor=request.auth, rule_set=rule_set, data=_rule_set_input(payload))
    return rule_set_out(rule_set_get(user=request.auth, rule_set_id=rule_set_id))


@router.post(
    "/rules/{rule_set_id}/activate",
    response={200: RuleSetOut, **ERRORS},
    summary="启用分层规则（同一时间只有一套生效）",
)
def rules_activate(request: AuthedRequest, rule_set_id: Id) -> dict[str, Any]:
    rule_set = rule_set_get(user=request.auth, rule_set_id=rule_set_id)
    tier_rule_set_activate(actor=request.auth, rule_set=rule_set)
    return rule_set_out(rule_set_get(user=request.auth, rule_set_id=rule_set_id))


@router.get(
    "/history", response={200: TierChangeListOut, **ERRORS}, summary="等级变更记录（含依据数据）"
)
def tiers_history(request: AuthedRequest, filters: Query[TierHistoryQuery]) -> dict[str, Any]:
    customer = None
    if filters.customer_id is not None:
        customer = customer_get_for_user(user=request.auth, customer_id=filters.customer_id)
    changes = tier_change_list(user=request.auth, customer=customer)
    items, count = paginate(changes, page=filters.page, page_size=filters.page_size)
    return {"items": [tier_change_out(c) for c in items], "count": count}


@router.post(
    "/pins",
    response={201: TierChangeOut, **ERRORS},
    summary="人工指定客户等级（原因与到期日必填）",
)
def tiers_pin(request: AuthedRequest, payload: PinIn) -> Status[dict[str, Any]]:
    customer = customer_get_for_user(user=request.auth, customer_id=payload.customer_id)
    change = tier_pin(
        actor=request.auth,
        customer=customer,
        tier=payload.tier,
        reason=payload.reason,
        expires_on=payload.expires_on,
    )
    return Status(201, tier_change_out(change))


@router.post(
    "/pins/{customer_id}/remove",
    response={200: TierChangeOut, **ERRORS},
    summary="取消人工指定的等级（恢复按规则计算）",
)
def tiers_unpin(request: AuthedRequest, customer_id: Id, payload: UnpinIn) -> dict[str, Any]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id)
    return tier_change_out(tier_unpin(actor=request.auth, customer=customer, reason=payload.reason))
