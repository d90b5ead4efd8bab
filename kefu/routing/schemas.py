from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field, StrictBool, StrictInt

from kefu.api.schemas import Id, InputSchema, Text

StatusCode = Literal["online", "busy", "break", "offline"]


class PresenceIn(InputSchema):
    status: StatusCode = Field(description="online 在线 · busy 忙碌 · break 小休 · offline 离线")
    note: Text(100) = ""  # type: ignore[valid-type]


class PresenceOut(Schema):
    user_id: int
    status: StatusCode
    status_display: str
    since: datetime
    note: str


class BoardAgentOut(Schema):
    user_id: int
    name: str
    status: StatusCode
    status_display: str
    since: datetime | None
    note: str
    load: int = Field(description="在办事项数（由工单等模块登记的计数函数提供）")
    skills: list[str]


class BoardTeamOut(Schema):
    team_id: int
    name: str
    online: int
    load: int
    agents: list[BoardAgentOut]


class BoardOut(Schema):
    items: list[BoardTeamOut]
    count: int


class RuleIn(InputSchema):
    """Blank match fields match anything; a target team or a required skill (or both)."""

    name: Text(64, 1)  # type: ignore[valid-type]
    order: StrictInt = Field(100, description="小的先匹配")
    is_active: StrictBool = True
    ticket_type: Text(16) = ""  # type: ignore[valid-type]
    product: Text(64) = ""  # type: ignore[valid-type]
    region_prefix: Text(32) = ""  # type: ignore[valid-type]
    tier: Text(16) = ""  # type: ignore[valid-type]
    required_skill: Text(32) = Field("", description="技能编码，空为不要求")  # type: ignore[valid-type]
    min_skill_level: StrictInt = 1
    team_id: Id | None = None
    strategy: Text(16) = Field("round_robin", description="round_robin | least_loaded")  # type: ignore[valid-type]


class RuleOut(Schema):
    id: int
    name: str
    order: int
    is_active: bool
    ticket_type: str
    product: str
    region_prefix: str
    tier: str
    required_skill: str
    min_skill_level: int
    team_id: int | None
    strategy: str
    updated_at: datetime


class RuleListOut(Schema):
    items: list[RuleOut]
    count: int
