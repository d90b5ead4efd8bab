"""Calls API: the PBX posts call events (signed, not a user's token); staff read calls and
callback tasks and record callback attempts."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.security import APIKeyHeader
from pydantic import AfterValidator, Field

from kefu.api.auth import AuthedRequest
from kefu.api.pagination import PageQuery, paginate
from kefu.api.schemas import ERRORS, Id, InputSchema, Text
from kefu.calls import signing
from kefu.calls.models import Call, CallbackTask
from kefu.calls.selectors import callback_get_for_user, callbacks_for_user, calls_for_user
from kefu.calls.services import CallEventInput, call_event_ingest, callback_record_attempt
from kefu.core.exceptions import ApplicationError
from kefu.core.phones import mask_mobile

logger = logging.getLogger("kefu.calls")

router = Router(tags=["calls"])

_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    """Naive times are Asia/Shanghai (TIME_ZONE), as a local PBX writes them."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if not _EARLIEST <= value < _LATEST:
        raise ValueError(_("时间超出允许范围（2000–2099 年）。"))
    return value


When = Annotated[dt.datetime, AfterValidator(_aware)]


class CtiSignature(APIKeyHeader):
    """HMAC-SHA256 over the timestamp header and the raw body (see kefu.calls.signing)."""

    param_name = signing.SIGNATURE_HEADER
    openapi_description = (
        "`X-Kefu-Signature: sha256=<hex>`，即 HMAC-SHA256(KEFU_CTI_SECRET, "
        "`<X-Kefu-Timestamp>.<原始请求体>`)；`X-Kefu-Timestamp` 为签名时的 Unix 秒，"
        "与服务器时间相差超过 5 分钟即拒绝；已接受过的同一签名再次提交也拒绝（防重放），"
        "重试请用重试时的时间戳重新签名。"
    )

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        secret = getattr(settings, "CTI_SECRET", "") or ""
        if not secret:
            logger.warning("call event refused: KEFU_CTI_SECRET is not set")
            return None
        ok = signing.verify(
            secret=secret,
            timestamp=request.headers.get(signing.TIMESTAMP_HEADER, ""),
            signature=key or "",
            body=request.body,
        )
        if not ok:
            return None
        if signing.replayed(key or ""):
            logger.warning("call event refused: a replay of an accepted signed request")
            raise ApplicationError(
                _("这条签名的请求已经收到过（重放）：重试请用重试时的时间戳重新签名。"),
                code="replayed",
                status=401,
            )
        return key


class CallEventIn(InputSchema):
    event: Literal["ringing", "answered", "hangup"]
    call_id: Text(64, 1)  # type: ignore[valid-type]
    timestamp: When = Field(description="事件发生时间，ISO 8601（无时区按 Asia/Shanghai）")
    caller: Text(40) = Field("", description="主叫号码")  # type: ignore[valid-type]
    called: Text(40) = Field("", description="被叫号码（如 400 热线）")  # type: ignore[valid-type]
    queue: Text(64) = Field("", description="队列 / 技能组")  # type: ignore[valid-type]
    agent: Text(64) = Field(  # type: ignore[valid-type]
        "", description="坐席：分机号、工号或用户名"
    )
    direction: Literal["inbound", "outbound", ""] = Field("", description="缺省为呼入")
    queued_at: When | None = Field(None, description="进入队列的时间（缺省为最早事件的时间）")
    hold_seconds: Decimal | None = Field(
        None, ge=0, le=86400, description="挂断事件：通话中保持的总时长（秒）"
    )
    acw_seconds: Decimal | None = Field(
        None, ge=0, le=86400, description="挂断事件：话后处理（ACW）时长（秒）"
    )


class CallOut(Schema):
    id: int
    call_id: str
    direction: str
    caller: str = Field(description="主叫号码（脱敏）")
    called: str = Field(description="被叫号码（脱敏）")
    queue: str
    agent: str | None = Field(description="坐席用户名")
    customer_id: int | None
    status: Literal["ringing", "answered", "ended"]
    outcome: Literal["", "answered", "abandoned"]
    offered_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    wait_seconds: float | None = Field(description="等待时长（排队 + 振铃），秒")
    talk_seconds: float | None
    hold_seconds: float | None = Field(description="保持时长，秒（挂断事件上报时）")
    acw_seconds: float | None = Field(description="话后处理时长，秒（挂断事件上报时）")
    out_of_hours: bool
    ticket_id: int | None
    callback_id: int | None


class CallEventOut(Schema):
    accepted: bool
    duplicate: bool = Field(description="同一通话的同一事件已收到过：未做任何修改")
    event_id: int
    call: CallOut


class CallListOut(Schema):
    items: list[CallOut]
    count: int


class CallListQuery(PageQuery):
    outcome: Literal["answered", "abandoned"] | None = None


class CallbackOut(Schema):
    id: int
    number: str = Field(description="回呼号码（脱敏）")
    customer_id: int | None
    reason: Literal["abandoned", "out_of_hours"]
    due_at: dt.datetime
    status: Literal["open", "done", "failed", "cancelled"]
    attempts: int
    assignee: str | None
    note: str


class CallbackListOut(Schema):
    items: list[CallbackOut]
    count: int


class CallbackListQuery(PageQuery):
    status: Literal["open", "done", "failed", "cancelled"] | None = None


class CallbackAttemptIn(InputSchema):
    result: Literal["done", "no_answer", "failed"]
    note: Text(500) = ""  # type: ignore[valid-type]


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value) if value is not None else None


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def call_out(call: Call) -> dict[str, Any]:
    return {
        "id": call.pk,
        "call_id": call.call_id,
        "direction": call.direction,
        "caller": mask_mobile(call.caller),
        "called": mask_mobile(call.called),
        "queue": call.queue,
        "agent": call.agent.username if call.agent else None,
        "customer_id": call.customer_id,
        "status": call.status,
        "outcome": call.outcome,
        "offered_at": _local(call.offered_at),
        "answered_at": _local(call.answered_at),
        "ended_at": _local(call.ended_at),
        "wait_seconds": _float(call.wait_seconds),
        "talk_seconds": _float(call.talk_seconds),
        "hold_seconds": _float(call.hold_seconds),
        "acw_seconds": _float(call.acw_seconds),
        "out_of_hours": call.out_of_hours,
        "ticket_id": call.ticket_id,
        "callback_id": call.callback_id,
    }


def callback_out(task: CallbackTask) -> dict[str, Any]:
    return {
        "id": task.pk,
        "number": task.number_masked,
        "customer_id": task.customer_id,
        "reason": task.reason,
        "due_at": _local(task.due_at),
        "status": task.status,
        "attempts": task.attempts,
        "assignee": task.assignee.username if task.assignee else None,
        "note": task.note,
    }


@router.post(
    "/events",
    auth=CtiSignature(),
    response={200: CallEventOut, **ERRORS},
    summary="接收呼叫中心 / PBX 的通话事件",
    description=(
        "事件 `ringing`（振铃）、`answered`（接听）、`hangup`（挂断）。按 (`call_id`, `event`) "
        "幂等：重发的事件返回 200 与首次相同的 `event_id`，不做任何修改。事件可乱序到达。"
        "签名缺失、错误或时间戳超过 5 分钟 → 401，不保存任何内容；同一签名的请求再次提交"
        "（重放）→ 401，错误码 `replayed`，不保存任何内容。"
    ),
)
def call_event_post(request: HttpRequest, payload: CallEventIn) -> dict[str, Any]:
    result = call_event_ingest(
        data=CallEventInput(
            event=payload.event,
            call_id=payload.call_id.strip(),
            timestamp=payload.timestamp,
            caller=payload.caller,
            called=payload.called,
            queue=payload.queue.strip(),
            agent=payload.agent.strip(),
            direction=payload.direction,
            queued_at=payload.queued_at,
            hold_seconds=payload.hold_seconds,
            acw_seconds=payload.acw_seconds,
        )
    )
    # stored (or already there): the same signed request again is now a replay
    signing.remember(str(getattr(request, "auth", "")))
    call = Call.objects.select_related("agent").get(pk=result.call.pk)
    return {
        "accepted": True,
        "duplicate": result.duplicate,
        "event_id": result.log.pk,
        "call": call_out(call),
    }


@router.get(
    "",
    response={200: CallListOut, **ERRORS},
    summary="通话记录（坐席看自己的，主管看全部）",
)
def call_list(request: AuthedRequest, filters: Query[CallListQuery]) -> dict[str, Any]:
    calls = calls_for_user(request.auth)
    if filters.outcome:
        calls = calls.filter(outcome=filters.outcome)
    items, count = paginate(calls, page=filters.page, page_size=filters.page_size)
    return {"items": [call_out(call) for call in items], "count": count}


@router.get(
    "/callbacks",
    response={200: CallbackListOut, **ERRORS},
    summary="回呼任务（留言/回呼）",
)
def callback_list(request: AuthedRequest, filters: Query[CallbackListQuery]) -> dict[str, Any]:
    tasks = callbacks_for_user(request.auth, status=filters.status)
    items, count = paginate(tasks, page=filters.page, page_size=filters.page_size)
    return {"items": [callback_out(task) for task in items], "count": count}


@router.post(
    "/callbacks/{task_id}/attempts",
    response={200: CallbackOut, **ERRORS, 409: ERRORS[404]},
    summary="记录一次回呼：已联系 / 未接通 / 失败（附说明）",
)
def callback_attempt(
    request: AuthedRequest, task_id: Id, payload: CallbackAttemptIn
) -> dict[str, Any]:
    task = callback_get_for_user(user=request.auth, task_pk=task_id)
    task = callback_record_attempt(
        task=task, actor=request.auth, result=payload.result, note=payload.note
    )
    return callback_out(task)
