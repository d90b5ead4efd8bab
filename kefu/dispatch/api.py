"""Work orders API: a ticket's orders (list, dispatch with Idempotency-Key), every order the
user sees (filters), one order, and its transitions (409 with the allowed ones). Thin: parse,
call a selector or a service, shape the answer."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kefu.api.auth import AuthedRequest
from kefu.api.errors import error_body
from kefu.api.output import local_time, ref
from kefu.api.schemas import ERRORS, ErrorOut, Id
from kefu.core.exceptions import ApplicationError
from kefu.desk.access import ticket_get_for_user
from kefu.desk.schemas import TransitionErrorOut
from kefu.dispatch.access import workorder_get_for_user, workorder_roles
from kefu.dispatch.models import WorkOrder
from kefu.dispatch.schemas import (
    WorkOrderCreateIn,
    WorkOrderDetailOut,
    WorkOrderListOut,
    WorkOrderListQuery,
    WorkOrderTransitionIn,
)
from kefu.dispatch.selectors import WorkOrderFilters, parse_statuses, workorder_list
from kefu.dispatch.services import workorder_dispatch, workorder_transition
from kefu.dispatch.workflow import allowed_targets, status_label
from kefu.org.models import User

router = Router(tags=["work-orders"])
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}


def workorder_out(order: WorkOrder) -> dict[str, Any]:
    return {
        "id": order.pk,
        "number": order.number,
        "ticket_id": order.ticket_id,
        "ticket_number": order.ticket.number,
        "department": ref(order.department),
        "instructions": order.instructions,
        "deadline": local_time(order.deadline),
        "status": order.status,
        "status_display": status_label(order.status),
        "overdue": order.is_overdue,
        "due_soon": order.is_due_soon,
        "result": order.result,
        "reason": order.reason,
        "dispatch_count": order.dispatch_count,
        "dispatched_by": ref(order.created_by),
        "dispatched_at": local_time(order.dispatched_at),
        "accepted_by": ref(order.accepted_by),
        "accepted_at": local_time(order.accepted_at),
        "completed_by": ref(order.completed_by),
        "completed_at": local_time(order.completed_at),
        "returned_at": local_time(order.returned_at),
        "cancelled_at": local_time(order.cancelled_at),
        "created_at": local_time(order.created_at),
    }


def workorder_detail_out(order: WorkOrder, user: User) -> dict[str, Any]:
    answer = workorder_out(order)
    answer["allowed_transitions"] = [
        {"to": to, "label": status_label(to)}
        for to in allowed_targets(order.status, workorder_roles(user, order))
    ]
    answer["events"] = [
        {
            "from_status": event.from_status,
            "to_status": event.to_status,
            "department": ref(event.department),
            "note": event.note,
            "actor": ref(event.actor),
            "created_at": local_time(event.created_at),
        }
        for event in order.events.select_related("actor", "department")
    ]
    return answer


def _page(orders: Any, query: WorkOrderListQuery) -> dict[str, Any]:
    offset = (query.page - 1) * query.page_size
    page = list(
        orders.select_related("accepted_by", "completed_by")[offset : offset + query.page_size]
    )
    count = len(page) if query.page == 1 and len(page) < query.page_size else orders.count()
    return {"items": [workorder_out(order) for order in page], "count": count}


def _filters(query: WorkOrderListQuery, *, ticket_id: int | None = None) -> WorkOrderFilters:
    statuses, unknown = parse_statuses(query.status)
    if unknown:
        message = _("状态“%(value)s”无效，可选：%(choices)s。") % {
            "value": "、".join(unknown)[:60],
            "choices": "、".join(("active", *WorkOrder.Status.values)),
        }
        raise ApplicationError(
            _("提交的内容有误，请检查标出的字段。"), status=400, fields={"status": [message]}
        )
    return WorkOrderFilters(
        statuses=statuses,
        department_id=query.department_id,
        overdue=query.overdue,
        ticket_id=ticket_id,
    )


@router.get(
    "/tickets/{ticket_id}/work-orders",
    response={200: WorkOrderListOut, **ERRORS},
    summary="工单的派工单",
)
def ticket_workorders_list(
    request: AuthedRequest, ticket_id: Id, query: Query[WorkOrderListQuery]
) -> dict[str, Any]:
    ticket = ticket_get_for_user(user=request.auth, ticket_id=ticket_id)
    orders = workorder_list(
        user=request.auth,
        filters=_filters(query, ticket_id=ticket.pk),
        base=WorkOrder.objects.filter(ticket=ticket),
    )
    return _page(orders, query)


@router.post(
    "/tickets/{ticket_id}/work-orders",
    response={200: WorkOrderDetailOut, 201: WorkOrderDetailOut, **WRITE_ERRORS},
    summary="派工（Idempotency-Key 头使重试返回第一次派出的派工单）",
    description=(
        "把工单的一部分工作派给其他部门（维修部、销售部、物流、财务……）。"
        "请求头 `Idempotency-Key`（可选）：同一用户用同一个键重复提交时返回第一次的派工单"
        "（状态码 200），首次返回 201。工单已解决、已关闭或已合并时返回 409。"
    ),
)
def ticket_workorders_create(
    request: AuthedRequest, ticket_id: Id, payload: WorkOrderCreateIn
) -> Status[dict[str, Any]]:
    ticket = ticket_get_for_user(user=request.auth, ticket_id=ticket_id, write=True)
    order, created = workorder_dispatch(
        actor=request.auth,
        ticket=ticket,
        department_id=payload.department_id,
        instructions=payload.instructions,
        deadline=payload.deadline,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    fresh = workorder_get_for_user(user=request.auth, work_order_id=order.pk)
    return Status(201 if created else 200, workorder_detail_out(fresh, request.auth))


@router.get(
    "/work-orders",
    response={200: WorkOrderListOut, **ERRORS},
    summary="派工单列表（按时限排序；筛选状态、部门、逾期）",
)
def workorders_list(request: AuthedRequest, query: Query[WorkOrderListQuery]) -> dict[str, Any]:
    return _page(workorder_list(user=request.auth, filters=_filters(query)), query)


@router.get(
    "/work-orders/{work_order_id}",
    response={200: WorkOrderDetailOut, **ERRORS},
    summary="派工单详情",
)
def workorders_detail(request: AuthedRequest, work_order_id: Id) -> dict[str, Any]:
    order = workorder_get_for_user(user=request.auth, work_order_id=work_order_id)
    return workorder_detail_out(order, request.auth)


@router.post(
    "/work-orders/{work_order_id}/transitions",
    response={200: WorkOrderDetailOut, **ERRORS, 403: TransitionErrorOut, 409: TransitionErrorOut},
    summary="派工单流转：接单、退回、完成、重新派单、撤销",
    description="不允许的流转返回 409，角色不对返回 403；error.allowed 列出当前可转到的状态。",
)
def workorders_transition(
    request: AuthedRequest, work_order_id: Id, payload: WorkOrderTransitionIn
) -> Any:
    order = workorder_get_for_user(user=request.auth, work_order_id=work_order_id)
    try:
        workorder_transition(
            actor=request.auth,
            work_order=order,
            to=payload.to,
            note=payload.note,
            result=payload.result,
            department_id=payload.department_id,
            deadline=payload.deadline,
            instructions=payload.instructions,
        )
    except ApplicationError as exc:
        if "allowed" not in exc.extra:
            raise
        body = error_body(exc.code, exc.message, exc.fields)
        body["error"]["allowed"] = list(exc.extra["allowed"])
        return Status(exc.status, body)
    fresh = workorder_get_for_user(user=request.auth, work_order_id=order.pk)
    return workorder_detail_out(fresh, request.auth)
