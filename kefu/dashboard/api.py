"""/api/v1/dashboard: the supervisor dashboard's figures, as /dashboard/data/ gives them."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema
from pydantic import Field

from kefu.api.auth import AuthedRequest
from kefu.api.schemas import ERRORS, Id
from kefu.dashboard.selectors import dashboard_data, dashboard_scope

router = Router(tags=["dashboard"])


class DashboardQuery(Schema):
    team: Id | None = Field(None, description="班组 ID（不填：主管为本人所在班组，经理为全部）")


@router.get(
    "",
    response={200: dict[str, Any], **ERRORS},
    summary="服务看板（今日与本周指标、未结工单、即将超时、排队来电、坐席负载）",
    description=(
        "与 /dashboard/data/ 相同的内容，每个数字附带工单列表的链接（link），"
        "链接列出的工单数等于该数字。需要“可查看服务指标与看板”权限。"
    ),
)
def dashboard_get(request: AuthedRequest, filters: Query[DashboardQuery]) -> dict[str, Any]:
    return dashboard_data(dashboard_scope(user=request.auth, team_id=filters.team))
