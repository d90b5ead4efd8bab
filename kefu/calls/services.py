"""Writes of the calls context: call events in, callback tasks, agent lines, call → ticket."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.calls import screenpop
from kefu.calls.hooks import ticket_maker
from kefu.calls.hours import in_business_hours, next_business_start
from kefu.calls.models import AgentLine, Call, CallbackTask, CallEventLog
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden
from kefu.core.phones import InvalidPhone, digits_only, normalize_mobile
from kefu.core.text import clean_text
from kefu.customers.models import Contact, Customer
from kefu.org.models import User

# A missed call is returned within this much business time of the hang-up (or of the next
# opening, for a call out of hours). A product default; the SLA calendar takes over later.
CALLBACK_WITHIN = dt.timedelta(hours=2)
# domain.md §4.6: unreachable after 3 tries
MAX_CALLBACK_ATTEMPTS = 3

_EVENT_ORDER = (CallEventLog.Event.RINGING, CallEventLog.Event.ANSWERED, CallEventLog.Event.HANGUP)


@dataclass(frozen=True)
class CallEventInput:
    event: str  # ringing | answered | hangup
    call_id: str
    timestamp: dt.datetime
    caller: str = ""
    called: str = ""
    queue: str = ""
    agent: str = ""
    direction: str = ""
    queued_at: dt.datetime | None = None
    # on the hang-up: the agent's hold and after-call work (话后处理) in seconds, if reported
    hold_seconds: Decimal | None = None
    acw_seconds: Decimal | None = None

    def payload(self) -> dict[str, Any]:
        """What is kept in the event log: the event as sent, numbers included (the log is the
        raw material of the KPIs and of disputes; it is never shown unmasked)."""
        return {
            "event": self.event,
            "call_id": self.call_id,
            "timestamp": self.timestamp.isoformat(),
            "caller": self.caller,
            "called": self.called,
            "queue": self.queue,
            "agent": self.agent,
            "direction": self.direction,
            "queued_at": self.queued_at.isoformat() if self.queued_at else None,
            "hold_seconds": None if self.hold_seconds is None else str(self.hold_seconds),
            "acw_seconds": None if self.acw_seconds is None else str(self.acw_seconds),
        }


@dataclass(frozen=True)
class CallEventResult:
    log: CallEventLog
    call: Call
    duplicate: bool


def _text(value: str, *, field: str, max_length: int) -> str:
    try:
        return clean_text(value or "", max_length=max_length)
    except ValueError as exc:
        raise ApplicationError(str(exc), fields={field: [str(exc)]}) from None


def number_normalize(raw: str) -> str:
    """A CN mobile as E.164; any other number as its digits (a landline, a 400 number);
    an anonymous or withheld caller as ""."""
    raw = (raw or "").strip()
    try:
        return normalize_mobile(raw)
    except InvalidPhone:
        digits = digits_only(raw)[:20]
        return ("+" + digits) if raw.startswith("+") and digits else digits


def customer_match_number(number: str) -> tuple[Customer | None, Contact | None]:
    """The customer whose own mobile is the number, else the customer of a contact with it.

    Erased customers match nothing; a merged one is followed to the customer it became.
    Several matches: the newest customer wins (the number most likely moved to it).
    """
    if not number.startswith("+86"):
        return None, None
    live = Q(erased_at__isnull=True)
    customer = Customer.objects.filter(live, mobile=number).order_by("-id").first()
    contact = (
        Contact.objects.filter(mobile=number, customer__erased_at__isnull=True)
        .select_related("customer")
        .order_by("-is_primary", "-id")
        .first()
    )
    if customer is None and contact is not None:
        customer = contact.customer
    if customer is not None and contact is not None and contact.customer_id != customer.pk:
        contact = None
    if customer is not None and customer.merged_into_id is not None:
        survivor = Customer.objects.filter(live, pk=customer.merged_into_id).first()
        customer, contact = (survivor, None) if survivor else (customer, contact)
    return customer, contact


def agent_resolve(ref: str) -> User | None:
    """The user the PBX means: an agent line's extension, else a username or 工号."""
    ref = (ref or "").strip()
    if not ref:
        return None
    line = AgentLine.objects.select_related("user").filter(extension=ref).first()
    if line is not None and line.user.is_active:
        return line.user
    return (
        User.objects.filter(is_active=True)
        .filter(Q(username=ref) | Q(employee_no=ref))
        .order_by("id")
        .first()
    )


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> Decimal | None:
    if start is None or end is None:
        return None
    # clocks of two PBX nodes may disagree by a little: never a negative duration
    delta = max((end - start).total_seconds(), 0.0)
    return Decimal(f"{delta:.3f}")


def _payload_seconds(log: CallEventLog | None, key: str) -> Decimal | None:
    value = None if log is None else log.payload.get(key)
    if value in (None, ""):
        return None
    try:
        seconds = Decimal(str(value))
    except ArithmeticError:
        return None
    return seconds.quantize(Decimal("0.001")) if seconds.is_finite() and seconds >= 0 else None


def _fold(call: Call, logs: dict[str, CallEventLog]) -> None:
    """Set every derived field of the call from its events, whatever order they came in:
    the same events always give the same call."""
    ordered = [logs[name] for name in _EVENT_ORDER if name in logs]

    def first(key: str) -> str:
        for log in ordered:
            value = str(log.payload.get(key) or "")
            if value:
                return value
        return ""

    ringing = logs.get(CallEventLog.Event.RINGING)
    answered = logs.get(CallEventLog.Event.ANSWERED)
    hangup = logs.get(CallEventLog.Event.HANGUP)

    direction = first("direction")
    call.direction = direction if direction in Call.Direction.values else Call.Direction.INBOUND
    call.caller = number_normalize(first("caller"))
    call.called = number_normalize(first("called"))
    call.queue = first("queue")[:64]
    # who took the call, else who it rang on
    agent_ref = ""
    for log in (answered, ringing, hangup):
        if log is not None and log.payload.get("agent"):
            agent_ref = str(log.payload["agent"])
            break
    if agent_ref != call.agent_ref or (agent_ref and call.agent_id is None):
        call.agent_ref = agent_ref[:64]
        call.agent = agent_resolve(agent_ref)

    starts = [log.occurred_at for log in ordered]
    for log in ordered:
        queued = log.payload.get("queued_at")
        if queued:
            starts.append(dt.datetime.fromisoformat(queued))
    call.offered_at = min(starts)
    call.ringing_at = ringing.occurred_at if ringing else None
    call.answered_at = answered.occurred_at if answered else None
    call.ended_at = hangup.occurred_at if hangup else None
    if hangup:
        call.status = Call.Status.ENDED
    elif answered:
        call.status = Call.Status.ANSWERED
    else:
        call.status = Call.Status.RINGING
    if answered:
        call.outcome = Call.Outcome.ANSWERED
        call.wait_seconds = _seconds(call.offered_at, call.answered_at)
        call.talk_seconds = _seconds(call.answered_at, call.ended_at)
    elif hangup:
        call.outcome = Call.Outcome.ABANDONED
        call.wait_seconds = _seconds(call.offered_at, call.ended_at)
        call.talk_seconds = None
    else:
        call.outcome = Call.Outcome.NONE
        call.wait_seconds = call.talk_seconds = None
    # hold and ACW come only with the hang-up (a retried hang-up stores nothing, so they cannot
    # be counted twice); an abandoned call has neither
    call.hold_seconds = _payload_seconds(hangup, "hold_seconds") if answered else None
    call.acw_seconds = _payload_seconds(hangup, "acw_seconds") if answered else None
    call.out_of_hours = not in_business_hours(call.offered_at)
    customer, contact = customer_match_number(call.customer_number)
    call.customer, call.contact = customer, contact


def _callback_due(ended_at: dt.datetime) -> dt.datetime:
    return next_business_start(ended_at) + CALLBACK_WITHIN


def _callback_open_for(call: Call) -> None:
    """An abandoned call (in hours or out of them) gets a callback task; a second missed call
    from the same number joins the open task instead of opening another."""
    if call.callback_id is not None or not call.customer_number or call.ended_at is None:
        return
    reason = (
        CallbackTask.Reason.OUT_OF_HOURS if call.out_of_hours else CallbackTask.Reason.ABANDONED
    )
    task = (
        CallbackTask.objects.select_for_update()
        .filter(number=call.customer_number, status=CallbackTask.Status.OPEN)
        .first()
    )
    if task is None:
        try:
            with transaction.atomic():
                task = CallbackTask.objects.create(
                    number=call.customer_number,
                    customer=call.customer,
                    reason=reason,
                    due_at=_callback_due(call.ended_at),
                    assignee=call.agent,
                )
        except IntegrityError:  # another event opened it meanwhile: join that one
            task = CallbackTask.objects.select_for_update().get(
                number=call.customer_number, status=CallbackTask.Status.OPEN
            )
    elif task.customer_id is None and call.customer_id is not None:
        task.customer = call.customer
        task.save(update_fields=["customer", "updated_at"])
    call.callback = task


def _callback_withdraw_for(call: Call) -> None:
    """The call turned out answered (its "answered" came after the hang-up): the task it
    opened is no longer needed, unless other missed calls joined it."""
    task = call.callback
    if task is None:
        return
    call.callback = None
    if task.status == CallbackTask.Status.OPEN and not task.calls.exclude(pk=call.pk).exists():
        task.status = CallbackTask.Status.CANCELLED
        task.note = (task.note + "\n" if task.note else "") + _("来电实为已接听，自动取消。")
        task.closed_at = timezone.now()
        task.save(update_fields=["status", "note", "closed_at", "updated_at"])


@transaction.atomic
def call_event_ingest(*, data: CallEventInput) -> CallEventResult:
    """Store one event from the PBX and fold it into its call.

    1. A retried event (same call id and event) changes nothing and answers as the first time.
    2. The call row is locked, so concurrent events of one call apply one after another.
    3. The call is recomputed from all its events (out of order is fine), a finished missed
       call gets its callback task, and the agent's screen pop is set after the commit.
    """
    existing = (
        CallEventLog.objects.select_related("call")
        .filter(call_ref=data.call_id, event=data.event)
        .first()
    )
    if existing is not None:
        return CallEventResult(log=existing, call=existing.call, duplicate=True)
    call, _created = Call.objects.get_or_create(
        call_id=data.call_id,
        defaults={"offered_at": data.timestamp, "caller": number_normalize(data.caller)},
    )
    call = Call.objects.select_for_update().get(pk=call.pk)
    existing = CallEventLog.objects.filter(call_ref=data.call_id, event=data.event).first()
    if existing is not None:  # a concurrent retry got the lock first
        return CallEventResult(log=existing, call=call, duplicate=True)
    log = CallEventLog.objects.create(
        call=call,
        call_ref=data.call_id,
        event=data.event,
        occurred_at=data.timestamp,
        payload=data.payload(),
    )
    logs = {entry.event: entry for entry in call.events.all()}
    was_answered = call.outcome == Call.Outcome.ANSWERED
    _fold(call, logs)
    if call.status == Call.Status.ENDED and call.outcome == Call.Outcome.ABANDONED:
        _callback_open_for(call)
    elif call.outcome == Call.Outcome.ANSWERED and not was_answered:
        _callback_withdraw_for(call)
    call.save()
    agent_id, call_pk = call.agent_id, call.pk
    if agent_id is not None:
        if call.status == Call.Status.ENDED:
            transaction.on_commit(lambda: screenpop.pop_clear(user_id=agent_id, call_pk=call_pk))
        elif data.event in (CallEventLog.Event.RINGING, CallEventLog.Event.ANSWERED):
            transaction.on_commit(lambda: screenpop.pop_set(user_id=agent_id, call_pk=call_pk))
    return CallEventResult(log=log, call=call, duplicate=False)


# --- callback tasks -----------------------------------------------------------------------

ATTEMPT_RESULTS = ("done", "no_answer", "failed")


@transaction.atomic
def callback_record_attempt(
    *, task: CallbackTask, actor: User, result: str, note: str = ""
) -> CallbackTask:
    """Record one callback attempt: done, no answer (the task stays open until the third
    try, then fails as unreachable) or failed (given up, with a reason)."""
    if not actor.has_perm("calls.change_callbacktask"):
        raise Forbidden(_("您没有处理回呼任务的权限。"))
    if result not in ATTEMPT_RESULTS:
        raise ApplicationError(_("回呼结果无效。"), fields={"result": [_("取值不在允许范围内。")]})
    note = _text(note, field="note", max_length=500)
    if result == "failed" and not note:
        raise ApplicationError(_("请填写回呼失败的原因。"), fields={"note": [_("此项为必填项。")]})
    task = CallbackTask.objects.select_for_update().get(pk=task.pk)
    if not task.is_open:
        raise Conflict(
            _("该回呼任务已是“%(status)s”，不能再记录。") % {"status": task.get_status_display()}
        )
    before = task.status
    task.attempts += 1
    now = timezone.now()
    line = _("%(time)s 第 %(n)s 次回呼（%(who)s）：%(result)s") % {
        "time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
        "n": task.attempts,
        "who": str(actor),
        "result": {"done": _("已联系"), "no_answer": _("未接通"), "failed": _("失败")}[result],
    }
    if note:
        line += " — " + note
    task.note = (task.note + "\n" + line) if task.note else line
    if result == "done":
        task.status = CallbackTask.Status.DONE
    elif result == "failed" or task.attempts >= MAX_CALLBACK_ATTEMPTS:
        task.status = CallbackTask.Status.FAILED
    if task.status != CallbackTask.Status.OPEN:
        task.closed_at = now
        task.closed_by = actor
    if task.assignee_id is None:
        task.assignee = actor
    task.save(
        update_fields=[
            "attempts",
            "note",
            "status",
            "closed_at",
            "closed_by",
            "assignee",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=task,
        field="status",
        changes={"status": [before, task.status], "attempts": task.attempts, "result": result},
        note=note,
    )
    return task


# --- agent lines --------------------------------------------------------------------------


@transaction.atomic
def agent_line_set(*, user: User, extension: str, actor: User) -> AgentLine | None:
    """Give the user a line with this extension ("" removes the line)."""
    if not actor.has_perm("calls.change_agentline"):
        raise Forbidden(_("您没有维护坐席线路的权限。"))
    extension = _text(extension, field="extension", max_length=32)
    line = AgentLine.objects.filter(user=user).first()
    before = line.extension if line else ""
    if not extension:
        if line is not None:
            line.delete()
    else:
        taken = AgentLine.objects.filter(extension=extension).exclude(user=user).first()
        if taken is not None:
            raise Conflict(
                _("分机号 %(ext)s 已分配给 %(user)s。") % {"ext": extension, "user": taken.user},
                fields={"extension": [_("分机号已被占用。")]},
            )
        if line is None:
            line = AgentLine.objects.create(user=user, extension=extension)
        else:
            line.extension = extension
            line.save(update_fields=["extension", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=user,
        field="agent_line",
        changes={"extension": [before, extension]},
    )
    transaction.on_commit(lambda: screenpop.line_forget(user.pk))
    return line if extension else None


def user_has_agent_line(user: User) -> bool:
    """Cached: asked on every page (the base layout polls for screen pops only for agents)."""
    cached = screenpop.line_cached(user.pk)
    if cached is not None:
        return cached
    has_line = AgentLine.objects.filter(user_id=user.pk).exists()
    screenpop.line_remember(user.pk, has_line)
    return has_line


# --- call → ticket ------------------------------------------------------------------------


@transaction.atomic
def call_make_ticket(*, call: Call, actor: User, ticket_type: str = "", subject: str = "") -> str:
    """Turn the call into a ticket through the registered maker; answers the ticket's URL.
    The type and subject the agent chose in the pop go to the maker only when given (a maker
    registered without types takes the call and the actor alone)."""
    maker = ticket_maker()
    if maker is None:
        raise ApplicationError(_("工单功能尚未启用。"), code="not_available", status=409)
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.ticket_id is not None:
        raise Conflict(_("该通话已转为工单。"))
    options = {
        name: value for name, value in (("ticket_type", ticket_type), ("subject", subject)) if value
    }
    url = maker(call, actor, **options)
    if call.ticket_id is not None:
        call.save(update_fields=["ticket_id", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=call,
        field="ticket_id",
        changes={"ticket_id": call.ticket_id},
    )
    return url
