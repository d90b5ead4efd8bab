"""Work order API shapes."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from kefu.api.pagination import PageQuery
from kefu.api.schemas import Id, InputSchema, Text
from kefu.desk.schemas import AllowedOut, Ref
from kefu.dispatch.models import WorkOrder

_STATUSES = "、".join(f"{value}（{label}）" for value, label in WorkOrder.Status.choices)


class WorkOrderCreateIn(InputSchema):
    department_id: Id = Field(description="承办部门 ID")
    instructions: Text(2000, 1) = Field(description="派工说明：要对方做什么")  # type: ignore[valid-type]
    deadline: datetime | None = Field(
        None,
        description="完成时限（ISO 8601，带时区；不带时区按公司时区）；缺省为按工作日历"
        " KEFU_WORKORDER_DEADLINE_WORKDAYS 个工作日后",
    )


class WorkOrderTransitionIn(InputSchema):
    to: Text(16, 1) = Field(description=f"目标状态：{_STATUSES}")  # type: ignore[valid-type]
    note: Text(2000) = Field("", description="说明；退回、撤销时为原因（必填）")  # type: ignore[valid-type]
    result: Text(2000) = Field("", description="处理结果（完成时必填，缺省取 note）")  # type: ignore[valid-type]
    department_id: Id | None = Field(None, description="重新派单：改派到的部门（缺省原部门）")
    deadline: datetime | None = Field(None, description="重新派单：新的完成时限")
    instructions: Text(2000) | None = Field(None, description="重新派单：新的派工说明")  # type: ignore[valid-type]


class WorkOrderListQuery(PageQuery):
    status: Text(200) = Field(  # type: ignore[valid-type]
        "",
        description=f"状态，多个用逗号分隔；active = 未办结（已派单、已接单、已退回）。{_STATUSES}",
    )
    department_id: Id | None = Field(None, description="承办部门 ID")
    overdue: bool | None = Field(
        None, description="true = 只看已逾期的（已派单或已接单且过了时限）"
    )


class WorkOrderEventOut(Schema):
    from_status: str
    to_status: str
    department: Ref
    note: str
    actor: Ref | None
    created_at: datetime


class WorkOrderOut(Schema):
    id: int
    number: str
    ticket_id: int
    ticket_number: str
    department: Ref
    instructions: str
    deadline: datetime
    status: str
    status_display: str
    overdue: bool
    due_soon: bool
    result: str
    reason: str
    dispatch_count: int
    dispatched_by: Ref | None
    dispatched_at: datetime
    accepted_by: Ref | None
    accepted_at: datetime | None
    completed_by: Ref | None
    completed_at: datetime | None
    returned_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime


class WorkOrderDetailOut(WorkOrderOut):
    allowed_transitions: list[AllowedOut]
    events: list[WorkOrderEventOut]


class WorkOrderListOut(Schema):
    items: list[WorkOrderOut]
    count: int
