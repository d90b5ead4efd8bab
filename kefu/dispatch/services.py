"""Every change to a work order goes through here: one transaction, one event row, one audit
event, and the notifications of the people who have to act next.

1. ``workorder_dispatch``: the desk sends a piece of a ticket's work to a department, with
   instructions and a deadline (default: KEFU_WORKORDER_DEADLINE_WORKDAYS working days on the
   ticket team's clock, kefu.sla); retried with the same Idempotency-Key it returns the first
   order.
2. ``workorder_transition``: accept, return (reason), complete (result), re-dispatch (same or
   another department, new deadline), cancel (reason); kefu.dispatch.workflow decides.
3. ``workorders_overdue_notify``: the periodic task; each open order past its deadline is
   announced once (a flag claimed with a conditional UPDATE).
4. ``open_work_orders_guard``: the ticket may not be resolved or closed while an order is open.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core.counters import daily_counter_next
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden, NotFound
from kefu.core.text import clean_text
from kefu.desk.models import Notification, Ticket
from kefu.desk.workflow import machine_for
from kefu.dispatch.access import is_desk, sees_ticket, workorder_roles
from kefu.dispatch.models import WorkOrder, WorkOrderCounter, WorkOrderEvent
from kefu.dispatch.workflow import OPEN, TransitionRefused, status_label, transition_check
from kefu.org.models import Department, User
from kefu.sla.engine import clock_for

MAX_ID = 2**63 - 1
MAX_AHEAD = timedelta(days=366)
OVERDUE_BATCH = 200
St = WorkOrder.Status


def _invalid(errors: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError(
        _("提交的内容有误，请检查标出的字段。"), code="invalid", status=400, fields=errors
    )


def _text(
    value: str | None,
    name: str,
    limit: int,
    errors: dict[str, list[str]],
    *,
    required: bool = False,
) -> str:
    try:
        return clean_text(value or "", max_length=limit, required=required)
    except ValueError as exc:
        errors[name] = [str(exc)]
        return ""


# --- numbers and deadlines -----------------------------------------------------------------------


def workorder_number_next(day: date) -> str:
    """The next number of the day, PG20261125-0007: one upsert that returns the new value (the
    row stays locked until the dispatch commits, so two dispatches never share a number)."""
    value = daily_counter_next(WorkOrderCounter, day)
    return f"PG{day:%Y%m%d}-{value:04d}"


def workorder_default_deadline(*, ticket: Ticket, now: datetime) -> datetime:
    """KEFU_WORKORDER_DEADLINE_WORKDAYS working days after the dispatch, on the calendar and
    business hours of the ticket's team (kefu.sla), at the same wall time. A dispatch out of
    hours counts from the next opening: Friday 20:00 → Monday 09:00 → Wednesday 09:00 (two
    working days); holidays and 调休 follow the working calendar."""
    clock = clock_for(ticket.team_id)
    start = clock.add(now, timedelta(0))  # the next moment the team is open (now if open)
    return clock.add_workdays(start, settings.WORKORDER_DEADLINE_WORKDAYS)


def deadline_parse(value: str, errors: dict[str, list[str]], name: str = "deadline") -> Any:
    """A deadline typed into a form (2026-11-27T17:00, local time) → aware datetime; "" → None
    (the default applies)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        errors[name] = [_("请填写有效的时间，例如 2026-11-27 17:00。")]
        return None
    return parsed


def _deadline(
    value: datetime | None, *, ticket: Ticket, now: datetime, errors: dict[str, list[str]]
) -> datetime | None:
    if value is None:
        return workorder_default_deadline(ticket=ticket, now=now)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # a wall time typed in the company's zone
    if value <= now:
        errors["deadline"] = [_("完成时限必须晚于现在。")]
        return None
    if value > now + MAX_AHEAD:
        errors["deadline"] = [_("完成时限不能超过一年。")]
        return None
    return value


def _department(department_id: int | None, errors: dict[str, list[str]]) -> Department | None:
    found = (
        Department.objects.filter(pk=department_id).first()
        if department_id is not None and 0 < department_id <= MAX_ID
        else None
    )
    if found is None:
        errors["department_id"] = [_("请选择承办部门（部门不存在）。")]
    return found


def ticket_dispatch_refusal(ticket: Ticket) -> str | None:
    """Why no work may be sent for this ticket now (resolved, closed, merged), or None."""
    machine = machine_for(ticket.type)
    if ticket.merged_into_id:
        return _("工单 %(number)s 已合并到其他工单，不能派工。") % {"number": ticket.number}
    if ticket.status in machine.resolved or ticket.status in machine.final:
        return _("工单 %(number)s 当前状态为“%(status)s”，不能派工；如需继续处理请先重开。") % {
            "number": ticket.number,
            "status": ticket.get_status_display(),
        }
    return None


# --- who hears about it --------------------------------------------------------------------------


def department_members(department_id: int) -> list[User]:
    """Active staff of the department: by their own department or a team of it."""
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(department_id=department_id) | Q(memberships__team__department_id=department_id))
        .distinct()
        .order_by("id")
    )


def _notify(
    order: WorkOrder,
    *,
    desk: bool,
    department: bool,
    kind: str,
    message: str,
    exclude: User | None = None,
) -> int:
    """The desk side (the ticket's assignee, else whoever dispatched) is told with a link to the
    ticket; the department's members without one (most of them cannot open the ticket; the
    message names the work order, which their inbox shows)."""
    rows: dict[int, Notification] = {}
    if department:
        for user in department_members(order.department_id):
            rows[user.pk] = Notification(user=user, kind=kind, message=message[:300])
    if desk:
        user_id = order.ticket.assignee_id or order.created_by_id
        if user_id:
            rows[user_id] = Notification(
                user_id=user_id, ticket=order.ticket, kind=kind, message=message[:300]
            )
    if exclude is not None:
        rows.pop(exclude.pk, None)
    Notification.objects.bulk_create([rows[user_id] for user_id in sorted(rows)])
    return len(rows)


# --- dispatch ------------------------------------------------------------------------------------


def _by_key(actor: User, key: str) -> WorkOrder | None:
    return WorkOrder.objects.filter(created_by=actor, idempotency_key=key).first()


def workorder_dispatch(
    *,
    actor: User,
    ticket: Ticket,
    department_id: int | None,
    instructions: str,
    deadline: datetime | None = None,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> tuple[WorkOrder, bool]:
    """Send work to a department: (order, True), or (the first order, False) when this user
    already used ``idempotency_key``. The unique constraint on (created_by, key) decides a race
    between two identical requests; the loser answers with the winner's order."""
    if not is_desk(actor):
        raise Forbidden(_("您没有派工的权限。"))
    key = (idempotency_key or "").strip()
    if len(key) > 100:
        raise _invalid({"Idempotency-Key": [_("幂等键最多 100 个字符。")]})
    if key:
        existing = _by_key(actor, key)
        if existing is not None:
            return existing, False
    try:
        order = _dispatch(
            actor=actor,
            ticket=ticket,
            department_id=department_id,
            instructions=instructions,
            deadline=deadline,
            key=key,
            now=now or timezone.now(),
        )
    except IntegrityError:
        existing = _by_key(actor, key) if key else None
        if existing is None:
            raise
        return existing, False
    return order, True


@transaction.atomic
def _dispatch(
    *,
    actor: User,
    ticket: Ticket,
    department_id: int | None,
    instructions: str,
    deadline: datetime | None,
    key: str,
    now: datetime,
) -> WorkOrder:
    # The ticket's row lock orders this dispatch against a concurrent close (whose guard then
    # sees the new order) on PostgreSQL; SQLite serialises writers anyway.
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if not sees_ticket(actor, ticket):
        raise NotFound(_("工单不存在。"))
    refusal = ticket_dispatch_refusal(ticket)
    if refusal:
        raise Conflict(refusal, code="ticket_closed")
    errors: dict[str, list[str]] = {}
    department = _department(department_id, errors)
    instructions = _text(instructions, "instructions", 2000, errors, required=True)
    due = _deadline(deadline, ticket=ticket, now=now, errors=errors)
    if errors or department is None or due is None:
        raise _invalid(errors)
    order = WorkOrder.objects.create(
        number=workorder_number_next(timezone.localtime(now).date()),
        ticket=ticket,
        department=department,
        instructions=instructions,
        deadline=due,
        status=St.DISPATCHED,
        created_by=actor,
        dispatched_at=now,
        idempotency_key=key,
    )
    WorkOrderEvent.objects.create(
        work_order=order,
        actor=actor,
        from_status="",
        to_status=St.DISPATCHED,
        department=department,
        note=instructions,
        created_at=now,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=order,
        changes={
            "ticket": ticket.number,
            "department": department.name,
            "deadline": timezone.localtime(due).isoformat(),
        },
        note=instructions,
    )
    _notify(
        order,
        desk=False,
        department=True,
        kind=Notification.Kind.WORK_ORDER,
        message=_("新派工单 %(number)s（工单 %(ticket)s）：%(text)s，%(deadline)s 前完成。")
        % {
            "number": order.number,
            "ticket": ticket.number,
            "text": instructions[:120],
            "deadline": f"{timezone.localtime(due):%Y-%m-%d %H:%M}",
        },
        exclude=actor,
    )
    return order


# --- transitions ---------------------------------------------------------------------------------


@transaction.atomic
def workorder_transition(
    *,
    actor: User,
    work_order: WorkOrder,
    to: str,
    note: str = "",
    result: str = "",
    department_id: int | None = None,
    deadline: datetime | None = None,
    instructions: str | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """Take one step of the order's lifecycle (kefu.dispatch.workflow).

    1. the row is locked, the step checked: none from here → 409 with the allowed ones, not
       the user's role → 403;
    2. a return or cancellation needs a reason (``note``), a completion the result (``result``,
       else ``note``); a re-dispatch takes an optional new department, deadline (default: as
       for a new order) and instructions, and the ticket must still be open;
    3. the order, its event, the audit event and the notifications are written together.
    """
    now = now or timezone.now()
    order = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    order.ticket = Ticket.objects.get(pk=order.ticket_id)
    roles = workorder_roles(actor, order)
    try:
        step = transition_check(order.status, to, roles)
    except TransitionRefused as exc:
        error_class = Forbidden if exc.forbidden else Conflict
        raise error_class(
            exc.message,
            code="forbidden" if exc.forbidden else "transition_not_allowed",
            extra={"allowed": exc.allowed},
        ) from None
    errors: dict[str, list[str]] = {}
    note = _text(note, "note", 2000, errors)
    result = _text(result, "result", 2000, errors) or (note if step.result else "")
    if step.reason and not note and "note" not in errors:
        errors["note"] = [_("请填写原因。")]
    if step.result and not result and "result" not in errors:
        errors["result"] = [_("请填写处理结果。")]
    changes: dict[str, Any] = {"status": [order.status, to]}
    department = None
    if to == St.DISPATCHED:
        order.ticket = Ticket.objects.select_for_update().get(pk=order.ticket_id)
        refusal = ticket_dispatch_refusal(order.ticket)
        if refusal:
            raise Conflict(refusal, code="ticket_closed", extra={"allowed": []})
        department = _department(department_id or order.department_id, errors)
        text = _text(instructions, "instructions", 2000, errors) if instructions else ""
        due = _deadline(deadline, ticket=order.ticket, now=now, errors=errors)
    if errors:
        raise _invalid(errors)

    source = order.status
    order.status = to
    fields = ["status", "updated_at"]
    event_note = note
    if to == St.ACCEPTED:
        order.accepted_by, order.accepted_at = actor, now
        fields += ["accepted_by", "accepted_at"]
    elif to == St.RETURNED:
        order.returned_by, order.returned_at, order.reason = actor, now, note
        fields += ["returned_by", "returned_at", "reason"]
    elif to == St.CANCELLED:
        order.cancelled_by, order.cancelled_at, order.reason = actor, now, note
        fields += ["cancelled_by", "cancelled_at", "reason"]
    elif to == St.COMPLETED:
        order.completed_by, order.completed_at, order.result = actor, now, result
        fields += ["completed_by", "completed_at", "result"]
        event_note = result
    elif to == St.DISPATCHED:
        assert department is not None
        assert due is not None
        if department.pk != order.department_id:
            changes["department"] = [order.department.name, department.name]
        changes["deadline"] = [
            timezone.localtime(order.deadline).isoformat(),
            timezone.localtime(due).isoformat(),
        ]
        order.department, order.deadline = department, due
        order.instructions = text or order.instructions
        order.dispatched_at, order.dispatch_count = now, order.dispatch_count + 1
        order.accepted_by, order.accepted_at = None, None
        order.overdue_notified_at = None  # a new deadline: a new overdue notice if missed
        fields += [
            "department",
            "deadline",
            "instructions",
            "dispatched_at",
            "dispatch_count",
            "accepted_by",
            "accepted_at",
            "overdue_notified_at",
        ]
        event_note = note or text
    order.save(update_fields=fields)
    WorkOrderEvent.objects.create(
        work_order=order,
        actor=actor,
        from_status=source,
        to_status=to,
        department_id=order.department_id,
        note=event_note,
        created_at=now,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=order,
        field="status",
        changes=changes,
        note=event_note,
    )
    _after_transition(order, source=source, to=to, actor=actor, note=event_note)
    return order


def _after_transition(order: WorkOrder, *, source: str, to: str, actor: User, note: str) -> None:
    """The next one to act hears of it: the desk when the department returned or completed the
    work, the department when the desk re-dispatched or cancelled it."""
    values = {
        "number": order.number,
        "ticket": order.ticket.number,
        "department": order.department.name,
        "note": note[:150],
    }
    if to == St.RETURNED:
        message = _("派工单 %(number)s（工单 %(ticket)s）被%(department)s退回：%(note)s") % values
        _notify(
            order, desk=True, department=False, kind=Notification.Kind.WORK_ORDER, message=message
        )
    elif to == St.COMPLETED:
        message = _("派工单 %(number)s（工单 %(ticket)s）已由%(department)s完成：%(note)s") % values
        _notify(
            order, desk=True, department=False, kind=Notification.Kind.WORK_ORDER, message=message
        )
    elif to == St.DISPATCHED:
        values["deadline"] = f"{timezone.localtime(order.deadline):%Y-%m-%d %H:%M}"
        message = (
            _("派工单 %(number)s（工单 %(ticket)s）重新派给%(department)s，%(deadline)s 前完成。")
            % values
        )
        _notify(
            order,
            desk=False,
            department=True,
            kind=Notification.Kind.WORK_ORDER,
            message=message,
            exclude=actor,
        )
    elif to == St.CANCELLED and source != St.RETURNED:
        message = _("派工单 %(number)s（工单 %(ticket)s）已撤销：%(note)s") % values
        _notify(
            order,
            desk=False,
            department=True,
            kind=Notification.Kind.WORK_ORDER,
            message=message,
            exclude=actor,
        )


# --- overdue -------------------------------------------------------------------------------------


def workorders_overdue_notify(*, now: datetime | None = None) -> int:
    """Announce every open order past its deadline, once: to the ticket's assignee and the
    department's members. Reads only the partial index of open, not yet announced orders;
    each order is claimed by a conditional UPDATE in its own transaction, so two workers (or a
    re-run) never announce one twice. Returns how many orders were announced."""
    now = now or timezone.now()
    announced = 0
    while True:
        ids = list(
            WorkOrder.objects.filter(
                status__in=OPEN, overdue_notified_at__isnull=True, deadline__lt=now
            )
            .order_by("deadline", "id")
            .values_list("id", flat=True)[:OVERDUE_BATCH]
        )
        for pk in ids:
            announced += _overdue_announce(pk, now)
        if len(ids) < OVERDUE_BATCH:
            return announced


@transaction.atomic
def _overdue_announce(pk: int, now: datetime) -> int:
    claimed = WorkOrder.objects.filter(
        pk=pk, status__in=OPEN, overdue_notified_at__isnull=True, deadline__lt=now
    ).update(overdue_notified_at=now)
    if not claimed:
        return 0  # another worker got there first, or the order moved on meanwhile
    order = WorkOrder.objects.select_related("ticket", "department").get(pk=pk)
    late = now - order.deadline
    hours = int(late.total_seconds() // 3600)
    message = _(
        "派工单 %(number)s（工单 %(ticket)s，%(department)s）已逾期%(late)s：时限 %(deadline)s，"
        "当前状态“%(status)s”。"
    ) % {
        "number": order.number,
        "ticket": order.ticket.number,
        "department": order.department.name,
        "late": _(" %(hours)d 小时") % {"hours": hours} if hours else "",
        "deadline": f"{timezone.localtime(order.deadline):%Y-%m-%d %H:%M}",
        "status": status_label(order.status),
    }
    # The bell has no kind of its own for work orders; "已超时" (overdue) is what this is.
    _notify(
        order,
        desk=True,
        department=True,
        kind=Notification.Kind.WORK_ORDER_OVERDUE,
        message=message,
    )
    audit_record(
        actor=None,
        action=AuditEvent.Action.UPDATE,
        target=order,
        field="overdue_notified_at",
        changes={"overdue_notified_at": [None, now.isoformat()]},
        note=_("逾期通知"),
    )
    return 1


# --- the ticket's side ---------------------------------------------------------------------------


def open_work_orders_guard(ticket: Ticket, to: str, actor: Any) -> str | None:
    """The desk's transition guard: no move into a resolved or final status while a work order
    is still dispatched or accepted; the message names them."""
    machine = machine_for(ticket.type)
    if to not in machine.resolved and to not in machine.final:
        return None
    orders = list(
        WorkOrder.objects.filter(ticket_id=ticket.pk, status__in=OPEN)
        .order_by("id")
        .values_list("number", "department__name", "status")
    )
    if not orders:
        return None
    listed = "、".join(
        f"{number}（{department}，{status_label(status)}）" for number, department, status in orders
    )
    return _("工单还有未完成的派工单：%(orders)s。请等承办部门完成，或撤销派工单后再办结。") % {
        "orders": listed
    }
