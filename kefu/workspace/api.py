"""The workspace's API: merging a ticket into another (the rest of the workspace is pages)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Router

from kefu.api.auth import AuthedRequest
from kefu.api.schemas import ERRORS, ErrorOut, Id, InputSchema
from kefu.desk.access import ticket_get_for_user
from kefu.desk.api import ticket_detail_out
from kefu.desk.schemas import TicketDetailOut
from kefu.workspace.services import ticket_merge

router = Router(tags=["tickets"])


class TicketMergeIn(InputSchema):
    into: Id = Field(description="合并到的工单 ID（保留的那张）")


@router.post(
    "/{ticket_id}/merge",
    response={200: TicketDetailOut, **ERRORS, 409: ErrorOut},
    summary="把工单合并到另一张工单（同一客户、都未关闭）",
    description=(
        "本工单（B）的描述、回复、备注和附件作为内部备注复制到 `into`（A），"
        "B 记录 merged_into=A 并按流程结束（取消/撤诉，或解决后关闭），A 加一条备注；"
        "一个事务，全部审计。不同客户、已关闭、已合并或合并到自己：400/409，不做任何修改。"
        "返回 A 的详情。"
    ),
)
def tickets_merge(request: AuthedRequest, ticket_id: Id, payload: TicketMergeIn) -> dict[str, Any]:
    source = ticket_get_for_user(user=request.auth, ticket_id=ticket_id, write=True)
    target = ticket_get_for_user(user=request.auth, ticket_id=payload.into, write=True)
    ticket_merge(actor=request.auth, source=source, target=target)
    fresh = ticket_get_for_user(user=request.auth, ticket_id=target.pk)
    return ticket_detail_out(fresh, request.auth)
