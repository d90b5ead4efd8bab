"""Ticket API shapes (issue 4 item 10). Type, channel and priority are checked by the service,
not here, so an unknown value answers 400 with a Chinese message naming the allowed ones."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from django.utils.translation import gettext
from ninja import Schema
from pydantic import BeforeValidator, Field, StrictBool

from kefu.api.pagination import PageQuery
from kefu.api.schemas import Id, InputSchema, Text
from kefu.desk.models import Ticket

_TYPES = "、".join(f"{value}（{label}）" for value, label in Ticket.Type.choices)
_CHANNELS = "、".join(f"{value}（{label}）" for value, label in Ticket.Channel.choices)
_PRIORITIES = "、".join(f"{value}（{label}）" for value, label in Ticket.Priority.choices)


class TicketCreateIn(InputSchema):
    type: Text(16) = Field(description=f"工单类型：{_TYPES}")  # type: ignore[valid-type]
    channel: Text(16) = Field(description=f"渠道：{_CHANNELS}")  # type: ignore[valid-type]
    customer_id: Id | None = Field(None, description="客户 ID（网页、邮件来的陌生人可为空）")
    subject: Text(200) = Field(description="主题")  # type: ignore[valid-type]
    body: Text(10000) = Field("", description="描述")  # type: ignore[valid-type]
    priority: Text(16) = Field("normal", description=f"优先级：{_PRIORITIES}")  # type: ignore[valid-type]
    contact_id: Id | None = Field(None, description="联系人 ID（须属于该客户）")
    order_id: Id | None = Field(None, description="关联订单 ID（须属于该客户）")
    asset_id: Id | None = Field(None, description="设备 ID（须属于该客户）")
    assignee_id: Id | None = Field(None, description="处理人（员工 ID）")
    team_id: Id | None = Field(None, description="班组 ID，缺省为客户的服务班组")
    parent_id: Id | None = Field(None, description="关联的上级工单 ID")


class TicketPatchIn(InputSchema):
    priority: Text(16) | None = Field(None, description=f"优先级：{_PRIORITIES}")  # type: ignore[valid-type]
    subject: Text(200) | None = None  # type: ignore[valid-type]
    body: Text(10000) | None = None  # type: ignore[valid-type]
    contact_id: int | None = Field(None, ge=0, le=2**63 - 1, description="0 = 清除")
    order_id: int | None = Field(None, ge=0, le=2**63 - 1, description="0 = 清除")
    asset_id: int | None = Field(None, ge=0, le=2**63 - 1, description="0 = 清除")
    assignee_id: int | None = Field(None, ge=0, le=2**63 - 1, description="0 = 取消分派")
    team_id: int | None = Field(None, ge=0, le=2**63 - 1, description="0 = 清除")
    parent_id: int | None = Field(None, ge=0, le=2**63 - 1, description="0 = 清除")
    recovery_status: Text(16) | None = Field(  # type: ignore[valid-type]
        None, description="追偿：open / recovered / waived"
    )
    recovery_outcome: Text(500) | None = None  # type: ignore[valid-type]


class CommentIn(InputSchema):
    body: Text(10000, 1)  # type: ignore[valid-type]
    public: StrictBool = Field(False, description="true = 回复客户（客户可见），false = 内部备注")


class CommentFormIn(Schema):
    """The text fields of a multipart upload (POST /tickets/{id}/attachments)."""

    body: Text(10000, 1) = Field(description="说明（必填）")  # type: ignore[valid-type]
    public: bool = Field(
        False, description="true / 1 = 回复客户（客户可见），false / 0 = 内部备注（默认）"
    )


class TransitionIn(InputSchema):
    to: Text(24, 1) = Field(description="目标状态")  # type: ignore[valid-type]
    note: Text(2000) = Field("", description="说明（部分操作必填，如取消、转派、驳回）")  # type: ignore[valid-type]
    complaint_level: Text(16) | None = Field(None, description="投诉级别 general/serious/major")  # type: ignore[valid-type]
    responsible_department_id: Id | None = Field(None, description="责任部门 ID")
    liability: Text(16) | None = Field(  # type: ignore[valid-type]
        None, description="责任判定 ours/supplier/carrier/customer/none"
    )
    root_cause: Text(16) | None = Field(  # type: ignore[valid-type]
        None, description="原因分类 product/delivery/installation/service/billing/other"
    )
    proposal: Text(16) | None = Field(  # type: ignore[valid-type]
        None, description="处理方案 refund/replacement/credit_note/deduction/repair/apology"
    )
    compensation_amount: Text(40) | float | int | None = Field(  # type: ignore[valid-type]
        None, description="赔偿金额（元），十进制字符串"
    )
    recovery_outcome: Text(500) | None = Field(None, description="处理结果（结案时必填）")  # type: ignore[valid-type]
    escalation_level: int | None = Field(None, ge=1, le=4, description="升级到的层级 2–4")
    assignee_id: int | None = Field(None, ge=0, le=2**63 - 1, description="转派给（员工 ID）")
    team_id: int | None = Field(None, ge=0, le=2**63 - 1, description="转派到班组")


def _iso_day(value: Any) -> Any:
    """A query's date is "YYYY-MM-DD": pydantic would also read "0" as 1970-01-01."""
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    raise ValueError(gettext("日期格式应为 YYYY-MM-DD。"))


IsoDay = Annotated[date, BeforeValidator(_iso_day)]


class TicketListQuery(PageQuery):
    queue: Text(16) = Field(  # type: ignore[valid-type]
        "",
        description=(
            "队列：mine 我的、team 本组、unassigned 未分派、at_risk 即将超时（未超时）、"
            "breached 已超时、open 未结"
        ),
    )
    status: Text(200) = Field("", description="状态，多个用逗号分隔")  # type: ignore[valid-type]
    type: Text(100) = Field("", description="类型，多个用逗号分隔")  # type: ignore[valid-type]
    assignee: Id | None = Field(None, description="处理人 ID")
    team: Id | None = Field(None, description="班组 ID")
    customer_id: Id | None = None
    breached: bool | None = Field(None, description="true = 只看已超时的")
    q: Text(64) = Field("", description="工单号、客户手机号或主题中的词（两个汉字起）")  # type: ignore[valid-type]
    before_id: Id | None = Field(None, description="键集分页：只列出 id 小于它的工单")
    teams: Text(200) = Field("", description="班组 ID，多个用逗号分隔（任一班组）")  # type: ignore[valid-type]
    created_from: IsoDay | None = Field(None, description="创建日期起（含，北京时间）")
    created_to: IsoDay | None = Field(None, description="创建日期止（含，北京时间）")
    resolved_from: IsoDay | None = Field(None, description="解决日期起（含，北京时间）")
    resolved_to: IsoDay | None = Field(None, description="解决日期止（含，北京时间）")
    age: Text(8) = Field(  # type: ignore[valid-type]
        "", description="开单时长：lt1d 1天内、1to3d、3to7d、7to30d、gt30d 30天以上"
    )
    unresolved: bool = Field(False, description="true = 不含已解决待关闭的（积压口径）")
    workorder: Text(16) = Field(  # type: ignore[valid-type]
        "",
        description=(
            "派工单：overdue 有已逾期未完成的派工单、open 有未完成（已派单或已接单）的派工单"
        ),
    )


class Ref(Schema):
    id: int
    name: str


class TicketOut(Schema):
    id: int
    number: str
    type: str
    type_display: str
    channel: str
    priority: str
    status: str
    status_display: str
    subject: str
    customer_id: int | None
    customer: Ref | None
    contact_id: int | None
    order_id: int | None
    asset_id: int | None
    assignee: Ref | None
    team: Ref | None
    tier: str
    first_response_due: datetime | None
    resolution_due: datetime | None
    close_due: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    paused_at: datetime | None
    breached: bool
    response_breached: bool
    resolution_breached: bool
    reopen_count: int
    parent_id: int | None
    created_at: datetime
    updated_at: datetime
    workorders_open: int = Field(0, description="未完成的派工单数（已派单、已接单）")
    workorders_overdue: int = Field(0, description="其中已过完成时限的")


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class CommentOut(Schema):
    id: int
    body: str
    public: bool
    author: Ref | None
    created_at: datetime
    attachments: list[AttachmentOut]


class TransitionOut(Schema):
    id: int
    from_status: str
    to_status: str
    note: str
    actor: Ref | None
    created_at: datetime


class ApprovalOut(Schema):
    stage: str
    round: int
    role: str
    approver: Ref
    amount: str | None
    created_at: datetime


class AllowedOut(Schema):
    to: str
    label: str


class TicketDetailOut(TicketOut):
    body: str
    created_by: Ref | None
    complaint_level: str
    escalation_level: int
    responsible_department: Ref | None
    root_cause: str
    liability: str
    proposal: str
    compensation_amount: str | None
    recovery_status: str
    recovery_outcome: str
    decision: str
    allowed_transitions: list[AllowedOut]
    comments: list[CommentOut]
    transitions: list[TransitionOut]
    approvals: list[ApprovalOut]


class TicketListOut(Schema):
    items: list[TicketOut]
    count: int = Field(
        description="符合条件的工单数（超过 1000 时为 1001，即“1000+”；"
        "按关键词搜索时超过 100 即为 101）"
    )


class TransitionErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}
    allowed: list[str] = Field([], description="当前可转到的状态")


class TransitionErrorOut(Schema):
    error: TransitionErrorBody
