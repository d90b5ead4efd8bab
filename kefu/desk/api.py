"""Tickets API (issue 4 item 10): list, create (idempotent with Idempotency-Key), detail,
patch, comments, transitions. Thin: parse, call a selector or a service, shape the answer."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from ninja import File, Form, Query, Router, Status, UploadedFile

from kefu.api.auth import AuthedRequest
from kefu.api.errors import error_body
from kefu.api.output import local_time, ref, trusted_json
from kefu.api.schemas import ERRORS, MAX_ID, ErrorOut, Id
from kefu.core import fastsql
from kefu.core.exceptions import ApplicationError
from kefu.desk.access import attachment_get_for_user, ticket_get_for_user
from kefu.desk.downloads import attachment_response
from kefu.desk.listing import list_facet, page_row_facts
from kefu.desk.models import Ticket
from kefu.desk.schemas import (
    CommentFormIn,
    CommentIn,
    TicketCreateIn,
    TicketDetailOut,
    TicketListOut,
    TicketListQuery,
    TicketOut,
    TicketPatchIn,
    TransitionErrorOut,
    TransitionIn,
)
from kefu.desk.selectors import (
    AGE_KEYS,
    QUEUES,
    TicketFilters,
    capped_count,
    first_page_ids,
    list_count_cap,
    ticket_approvals,
    ticket_comments,
    ticket_list,
    ticket_transitions,
)
from kefu.desk.services import (
    StepFields,
    TicketInput,
    comment_add,
    ticket_create,
    ticket_transition,
    ticket_update,
)
from kefu.desk.workflow import allowed_targets, status_label
from kefu.org.models import User

router = Router(tags=["tickets"])
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}


# What a ticket's answer reads (ticket_row_out): a list page reads these columns only, as
# values() (a ticket row has ~60, its customer ~40; building full instances for 25 rows was a
# third of the list's time at 1M tickets, and instances of only these columns still a tenth).
LIST_COLUMNS = (
    "id",
    "number",
    "type",
    "channel",
    "priority",
    "status",
    "subject",
    "customer_id",
    "customer__name",
    "contact_id",
    "order_id",
    "asset_id",
    "assignee_id",
    "assignee__display_name",
    "assignee__username",
    "team_id",
    "team__name",
    "tier",
    "first_response_due",
    "resolution_due",
    "close_due",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "paused_at",
    "sla_breached",
    "response_breached",
    "resolution_breached",
    "reopen_count",
    "parent_id",
    "created_at",
    "updated_at",
)


# A list page's rows by their ids, with their customers, assignees and teams: compiled once per
# connection and page length (kefu.core.fastsql), which cost as much as running it.
PAGE_ROWS = fastsql.PreparedValues(
    lambda ids: Ticket.objects.filter(id__in=ids).values(*LIST_COLUMNS).order_by("-id")
)

# get_type_display() hashes the lazily translated choices on every call (2 ms a page of 25)
_TYPE_LABELS = dict(Ticket.Type.choices)


def ticket_row_out(row: dict[str, Any], facts: dict[str, int] | None = None) -> dict[str, Any]:
    """A ticket's answer from its LIST_COLUMNS (a list page reads them with values(): no model
    instances for 25 tickets and their customers, assignees and teams). ``facts``: the row's
    facts from the list facets (kefu.desk.listing), e.g. the work order counts; absent ones
    are 0."""
    assignee_name = row["assignee__display_name"] or row["assignee__username"]
    return {
        "id": row["id"],
        "number": row["number"],
        "type": row["type"],
        "type_display": str(_TYPE_LABELS.get(row["type"], row["type"])),
        "channel": row["channel"],
        "priority": row["priority"],
        "status": row["status"],
        "status_display": status_label(row["status"]),
        "subject": row["subject"],
        "customer_id": row["customer_id"],
        "customer": (
            {"id": row["customer_id"], "name": row["customer__name"]}
            if row["customer_id"]
            else None
        ),
        "contact_id": row["contact_id"],
        "order_id": row["order_id"],
        "asset_id": row["asset_id"],
        "assignee": (
            {"id": row["assignee_id"], "name": assignee_name} if row["assignee_id"] else None
        ),
        "team": {"id": row["team_id"], "name": row["team__name"]} if row["team_id"] else None,
        "tier": row["tier"],
        "first_response_due": local_time(row["first_response_due"]),
        "resolution_due": local_time(row["resolution_due"]),
        "close_due": local_time(row["close_due"]),
        "first_responded_at": local_time(row["first_responded_at"]),
        "resolved_at": local_time(row["resolved_at"]),
        "closed_at": local_time(row["closed_at"]),
        "paused_at": local_time(row["paused_at"]),
        "breached": row["sla_breached"],
        "response_breached": row["response_breached"],
        "resolution_breached": row["resolution_breached"],
        "reopen_count": row["reopen_count"],
        "parent_id": row["parent_id"],
        "created_at": local_time(row["created_at"]),
        "updated_at": local_time(row["updated_at"]),
        **(facts or {}),
    }


def ticket_out(ticket: Ticket, facts: dict[str, int] | None = None) -> dict[str, Any]:
    """The same answer from a ticket instance (create, detail)."""
    row = {
        name: getattr(ticket, name) for name in LIST_COLUMNS if "__" not in name and name != "id"
    }
    row["id"] = ticket.pk
    customer = ticket.customer if ticket.customer_id else None
    assignee = ticket.assignee if ticket.assignee_id else None
    team = ticket.team if ticket.team_id else None
    row["customer__name"] = customer.name if customer else None
    row["assignee__display_name"] = assignee.display_name if assignee else None
    row["assignee__username"] = assignee.username if assignee else None
    row["team__name"] = team.name if team else None
    return ticket_row_out(row, facts)


def ticket_detail_out(ticket: Ticket, user: User) -> dict[str, Any]:
    answer = ticket_out(ticket, page_row_facts([ticket.pk], timezone.now())[ticket.pk])
    comments = []
    for comment in ticket_comments(ticket):
        comments.append(
            {
                "id": comment.pk,
                "body": comment.body,
                "public": comment.public,
                "author": ref(comment.author),
                "created_at": local_time(comment.created_at),
                "attachments": [
                    {
                        "id": attachment.pk,
                        "filename": attachment.filename,
                        "content_type": attachment.content_type,
                        "size": attachment.size,
                        "url": reverse("api:tickets_attachment", args=[ticket.pk, attachment.pk]),
                    }
                    for attachment in comment.attachments.all()
                ],
            }
        )
    answer.update(
        {
            "body": ticket.body,
            "created_by": ref(ticket.created_by),
            "complaint_level": ticket.complaint_level,
            "escalation_level": ticket.escalation_level,
            "responsible_department": ref(ticket.responsible_department),
            "root_cause": ticket.root_cause,
            "liability": ticket.liability,
            "proposal": ticket.proposal,
            "compensation_amount": (
                f"{ticket.compensation_amount:.2f}"
                if ticket.compensation_amount is not None
                else None
            ),
            "recovery_status": ticket.recovery_status,
            "recovery_outcome": ticket.recovery_outcome,
            "decision": ticket.decision,
            "allowed_transitions": [
                {"to": to, "label": status_label(to)} for to in allowed_targets(ticket, user)
            ],
            "comments": comments,
            "transitions": [
                {
                    "id": step.pk,
                    "from_status": step.from_status,
                    "to_status": step.to_status,
                    "note": step.note,
                    "actor": ref(step.actor),
                    "created_at": local_time(step.created_at),
                }
                for step in ticket_transitions(ticket)
            ],
            "approvals": [
                {
                    "stage": approval.stage,
                    "round": approval.round,
                    "role": approval.role,
                    "approver": ref(approval.approver),
                    "amount": f"{approval.amount:.2f}" if approval.amount is not None else None,
                    "created_at": local_time(approval.created_at),
                }
                for approval in ticket_approvals(ticket)
            ],
        }
    )
    return answer


@router.get("", response={200: TicketListOut, **ERRORS}, summary="工单列表（队列、筛选、搜索）")
def tickets_list(request: AuthedRequest, filters: Query[TicketListQuery]) -> TicketListOut:
    if filters.queue and filters.queue not in QUEUES:
        raise ApplicationError(
            "提交的内容有误，请检查标出的字段。",
            status=400,
            fields={"queue": [f"队列只能是：{'、'.join(QUEUES)}。"]},
        )
    if filters.age and filters.age not in AGE_KEYS:
        raise ApplicationError(
            gettext("提交的内容有误，请检查标出的字段。"),
            status=400,
            fields={"age": [gettext("开单时长只能是：%s。") % "、".join(AGE_KEYS)]},
        )
    workorder = list_facet("workorder")
    if filters.workorder and (workorder is None or filters.workorder not in workorder.values()):
        allowed = workorder.values() if workorder is not None else ()
        raise ApplicationError(
            gettext("提交的内容有误，请检查标出的字段。"),
            status=400,
            fields={"workorder": [gettext("派工单筛选只能是：%s。") % "、".join(allowed)]},
        )
    team_ids = [part.strip() for part in filters.teams.split(",") if part.strip()]
    if not all(part.isdigit() and 0 < int(part) <= MAX_ID for part in team_ids):
        raise ApplicationError(
            gettext("提交的内容有误，请检查标出的字段。"),
            status=400,
            fields={"teams": [gettext("班组 ID 须为正整数，多个用逗号分隔。")]},
        )
    tickets = ticket_list(
        user=request.auth,
        filters=TicketFilters(
            queue=filters.queue,
            status=filters.status,
            type=filters.type,
            assignee=filters.assignee,
            team=filters.team,
            customer_id=filters.customer_id,
            breached=filters.breached,
            q=filters.q,
            teams=tuple(sorted({int(part) for part in team_ids})),
            created_from=filters.created_from,
            created_to=filters.created_to,
            resolved_from=filters.resolved_from,
            resolved_to=filters.resolved_to,
            age=filters.age,
            unresolved=filters.unresolved,
            facets=(("workorder", filters.workorder),) if filters.workorder else (),
        ),
    )
    # The page's ids first, then its rows with their customer, assignee and team: when the
    # planner misjudges a filter (the at-risk OR), joining before the LIMIT joined every
    # matching row (25 ms at 1M tickets); by ids it joins 25.
    ids = tickets.values_list("id", flat=True)
    cap = list_count_cap(filters.q)
    count: int | None = None
    if filters.before_id is not None:
        page_ids = list(ids.filter(id__lt=filters.before_id)[: filters.page_size])
    elif filters.page == 1:
        # The first page (what a queue opens on) and its capped count in one query.
        page_ids, count = first_page_ids(tickets, filters.page_size, cap)
    else:
        offset = (filters.page - 1) * filters.page_size
        page_ids = list(ids[offset : offset + filters.page_size])
    page = PAGE_ROWS.rows(page_ids)
    if count is None:
        count = capped_count(tickets, cap)
    # the page's work order counts (and any other facet's facts): one query for the 25 ids
    facts = page_row_facts(page_ids, timezone.now())
    items = [ticket_row_out(row, facts.get(row["id"])) for row in page]
    return trusted_json(TicketListOut, {"items": items, "count": count})  # type: ignore[return-value]


@router.post(
    "",
    response={200: TicketOut, 201: TicketOut, **WRITE_ERRORS},
    summary="新建工单（Idempotency-Key 头使重试返回第一次建的工单）",
    description=(
        "请求头 `Idempotency-Key`（可选，最多 100 个字符）：同一用户用同一个键重复提交时，"
        "返回第一次创建的工单（状态码 200），而不是再建一张；首次创建返回 201。"
        "类型、渠道、优先级取值不对时返回 400。"
    ),
)
def tickets_create(request: AuthedRequest, payload: TicketCreateIn) -> Status[TicketOut]:
    ticket, created = ticket_create(
        actor=request.auth,
        data=TicketInput(**payload.dict()),
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    return trusted_json(  # type: ignore[return-value]
        TicketOut, ticket_out(ticket), status=201 if created else 200
    )


@router.get("/{ticket_id}", response={200: TicketDetailOut, **ERRORS}, summary="工单详情")
def tickets_detail(request: AuthedRequest, ticket_id: Id) -> TicketDetailOut:
    ticket = ticket_get_for_user(user=request.auth, ticket_id=ticket_id)
    return trusted_json(TicketDetailOut, ticket_detail_out(ticket, request.auth))  # type: ignore[return-value]


@router.patch("/{ticket_id}", response={200: TicketDetailOut, **WRITE_ERRORS}, summary="修改工单")
def tickets_update(request: AuthedRequest, ticket_id: Id, payload: TicketPatchIn) -> dict[str, Any]:
    ticket = ticket_get_for_user(user=request.auth, ticket_id=ticket_id, write=True)
    given = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    ticket = ticket_update(actor=request.auth, ticket=ticket, data=TicketInput(**given))
    return ticket_detail_out(
        ticket_get_for_user(user=request.auth, ticket_id=ticket.pk), request.auth
    )


@router.post(
    "/{ticket_id}/comments",
    response={201: TicketDetailOut, **WRITE_ERRORS},
    summary="添加回复（public=true，客户可见）或内部备注",
)
def tickets_comment(
    request: AuthedRequest, ticket_id: Id, payload: CommentIn
) -> Status[dict[str, Any]]:
    ticket = ticket_get_for_user(user=request.auth, ticket_id=ticket_id, write=True)
    comment_add(actor=request.auth, ticket=ticket, body=payload.body, public=payload.public)
    fresh = ticket_get_for_user(user=request.auth, ticket_id=ticket.pk)
    return Status(201, ticket_detail_out(fresh, request.auth))


@router.post(
    "/{ticket_id}/attachments",
    response={201: TicketDetailOut, **WRITE_ERRORS},
    summary="上传附件（multipart/form-data：一个或多个 files，body 说明，public）",
    description=(
        "以 multipart/form-data 提交：`files`（一个或多个文件，必填）、`body`（说明，必填）、"
        "`public`（true = 回复客户，默认 false = 内部备注）。建一条带附件的回复或备注，"
        "与网页上的限制相同（类型、大小）：任一文件不合格时返回 400，fields.files 写明是哪个文件，"
        "什么也不保存。返回工单详情（comments[].attachments 含下载地址 url）。"
    ),
)
def tickets_attach(
    request: AuthedRequest,
    ticket_id: Id,
    form: Form[CommentFormIn],
    files: File[list[UploadedFile]],
) -> Status[dict[str, Any]]:
    ticket = ticket_get_for_user(user=request.auth, ticket_id=ticket_id, write=True)
    comment_add(actor=request.auth, ticket=ticket, body=form.body, public=form.public, files=files)
    fresh = ticket_get_for_user(user=request.auth, ticket_id=ticket.pk)
    return Status(201, ticket_detail_out(fresh, request.auth))


@router.get(
    "/{ticket_id}/attachments/{attachment_id}",
    response=ERRORS,
    url_name="tickets_attachment",
    summary="下载附件（原文件名，Content-Disposition: attachment）",
    openapi_extra={
        "responses": {
            200: {
                "description": "文件内容",
                "content": {"application/octet-stream": {"schema": {"type": "string"}}},
            }
        }
    },
)
def tickets_attachment(request: AuthedRequest, ticket_id: Id, attachment_id: Id) -> FileResponse:
    attachment = attachment_get_for_user(
        user=request.auth, ticket_id=ticket_id, attachment_id=attachment_id
    )
    return attachment_response(attachment)


@router.post(
    "/{ticket_id}/transitions",
    response={200: TicketDetailOut, **ERRORS, 403: TransitionErrorOut, 409: TransitionErrorOut},
    summary="状态流转（不允许时 409，error.allowed 列出可转到的状态）",
)
def tickets_transition(request: AuthedRequest, ticket_id: Id, payload: TransitionIn) -> Any:
    ticket = ticket_get_for_user(user=request.auth, ticket_id=ticket_id, write=True)
    data = payload.dict()
    to, note = data.pop("to"), data.pop("note")
    try:
        ticket_transition(
            actor=request.auth, ticket=ticket, to=to, note=note, step=StepFields(**data)
        )
    except ApplicationError as exc:
        if "allowed" not in exc.extra:
            raise
        body = error_body(exc.code, exc.message, exc.fields)
        body["error"]["allowed"] = list(exc.extra["allowed"])
        return Status(exc.status, body)
    fresh = ticket_get_for_user(user=request.auth, ticket_id=ticket.pk)
    return ticket_detail_out(fresh, request.auth)
