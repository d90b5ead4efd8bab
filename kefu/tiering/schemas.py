from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field, StrictBool, StrictInt

from kefu.api.pagination import PageQuery
from kefu.api.schemas import Id, InputSchema, Text
from kefu.customers.schemas import DateText

TierCode = Literal["diamond", "gold", "silver", "ordinary"]
MeasureCode = Literal[
    "revenue_t12", "gross_profit_t12", "order_count_t12", "credit_grade", "weighted"
]
MethodCode = Literal["ranking", "thresholds"]


class LevelIn(InputSchema):
    tier: TierCode
    min_value: Decimal | None = Field(None, description="固定阈值方法：该等级的下限（含）")
    sla_policy: Text(32) = ""  # type: ignore[valid-type]
    priority_bump: StrictInt = Field(0, ge=0, le=3, description="工单优先级提升档数")
    followup_days: StrictInt | None = Field(
        None, ge=1, le=366, description="回访周期（天），空为不回访"
    )
    discount_rate: Decimal = Field(Decimal("0"), description="折扣率，0.05 即 5%")
    dedicated_team_id: Id | None = None


class RuleSetCreateIn(InputSchema):
    name: Text(64, 1)  # type: ignore[valid-type]
    measure: MeasureCode = "gross_profit_t12"
    method: MethodCode = "ranking"
    weights: dict[str, Decimal] = Field(
        default_factory=dict, description="加权综合分：各指标权重，和为 1"
    )
    cut_a: Decimal = Decimal("0.70")
    cut_b: Decimal = Decimal("0.90")
    diamond_share: Decimal = Decimal("0.05")
    apply_credit_caps: StrictBool = True
    levels: list[LevelIn] = Field(default_factory=list, max_length=4)


class RuleSetPatchIn(InputSchema):
    name: Text(64, 1) | None = None  # type: ignore[valid-type]
    measure: MeasureCode | None = None
    method: MethodCode | None = None
    weights: dict[str, Decimal] | None = None
    cut_a: Decimal | None = None
    cut_b: Decimal | None = None
    diamond_share: Decimal | None = None
    apply_credit_caps: StrictBool | None = None
    levels: list[LevelIn] | None = Field(
        None, max_length=4, description="给出的等级整体替换，未给出的等级不变"
    )


class LevelOut(Schema):
    tier: TierCode
    tier_display: str
    min_value: Decimal | None
    sla_policy: str
    priority_bump: int
    followup_days: int | None
    discount_rate: Decimal
    dedicated_team_id: int | None


class RuleSetOut(Schema):
    id: int
    name: str
    measure: MeasureCode
    measure_display: str
    method: MethodCode
    method_display: str
    weights: dict[str, str]
    cut_a: Decimal
    cut_b: Decimal
    diamond_share: Decimal
    apply_credit_caps: bool
    is_active: bool
    levels: list[LevelOut]
    updated_at: datetime


class RuleSetListOut(Schema):
    items: list[RuleSetOut]
    count: int


class RecomputeOut(Schema):
    evaluated: int
    upgraded: int
    downgraded: int
    unchanged: int
    pending_downgrades: int
    duration: float = Field(description="耗时（秒）")
    rule_set_id: int | None
    kind: str


class TierChangeOut(Schema):
    id: int
    customer_id: int
    from_tier: TierCode
    from_tier_display: str
    to_tier: TierCode
    to_tier_display: str
    kind: str
    kind_display: str
    reason: str
    figures: dict[str, object]
    rule_set_id: int | None
    actor: str | None
    created_at: datetime


class TierChangeListOut(Schema):
    items: list[TierChangeOut]
    count: int


class TierHistoryQuery(PageQuery):
    customer_id: Id | None = Field(None, description="只看这个客户的等级变更")


class PinIn(InputSchema):
    customer_id: Id
    tier: TierCode
    reason: Text(200, 1)  # type: ignore[valid-type]
    expires_on: DateText = Field(description="到期日（含），YYYY-MM-DD，须晚于今天")


class UnpinIn(InputSchema):
    reason: Text(200) = ""  # type: ignore[valid-type]
