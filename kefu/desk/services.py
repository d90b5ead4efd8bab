"""Every change to a ticket goes through here: one transaction, one audit event, the SLA fields
kept in step (kefu.desk.sla) and the lifecycle asked of kefu.desk.workflow.

Creating a ticket is on the hot path (the API must take hundreds a second), so it counts its
queries: the customer (scoped), the day's counter (one upsert), the ticket, its search grams,
its first transition and the audit event. Webhooks go out after commit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core import fastsql
from kefu.core.counters import daily_counter_next, daily_counter_next_with_id
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden, NotFound
from kefu.core.text import clean_text
from kefu.customers.access import customer_scope_filter, customer_visible
from kefu.customers.models import Asset, Contact, Customer
from kefu.desk import signals, sla
from kefu.desk.models import (
    Notification,
    Ticket,
    TicketApproval,
    TicketAttachment,
    TicketComment,
    TicketCounter,
    TicketSearchGram,
    TicketTransition,
    open_tickets_q,
)
from kefu.desk.notify import notify_escalation_level, notify_roles, notify_users
from kefu.desk.webhooks import webhook_emit
from kefu.desk.workflow import (
    ROLE_LABELS,
    TransitionRefused,
    actor_roles,
    machine_for,
    signoff_complete,
    signoff_options,
    signoff_role,
    status_label,
    transition_check,
)
from kefu.orders.models import Order
from kefu.org.models import Department, Team, User
from kefu.routing.engine import RouteDecision, route

logger = logging.getLogger(__name__)
MAX_ID = 2**63 - 1
MAX_AMOUNT = Decimal("999999999999.99")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _invalid(errors: dict[str, list[str]], *, status: int = 400) -> ApplicationError:
    return ApplicationError(
        _("提交的内容有误，请检查标出的字段。"), code="invalid", status=status, fields=errors
    )


# --- numbers and search grams ------------------------------------------------------------------


def ticket_number_next(day: date) -> str:
    """The next number of the day, GD20261125-000123. One upsert that returns the new value:
    the counter row stays locked (PostgreSQL) or the database write-locked (SQLite, IMMEDIATE)
    until the create commits, so concurrent creates queue here and a rollback gives the
    number back: unique and gap-free."""
    return _number(day, daily_counter_next(TicketCounter, day))


def _number(day: date, value: int) -> str:
    return f"GD{day:%Y%m%d}-{value:06d}"


def subject_grams(text: str) -> set[str]:
    """The 2-character Chinese fragments of a subject: 空调漏水 → 空调, 调漏, 漏水."""
    grams = set()
    previous = ""
    for char in text:
        if _CJK.match(char):
            if previous:
                grams.add(previous + char)
            previous = char
        else:
            previous = ""
    return grams


def _write_grams(ticket: Ticket, *, replace: bool = False, deferrable: bool = False) -> None:
    if replace:
        TicketSearchGram.objects.filter(ticket=ticket).delete()
    grams = subject_grams(ticket.subject)
    if grams:
        fastsql.insert_rows(
            TicketSearchGram,
            ("ticket_id", "gram"),
            [(ticket.pk, gram) for gram in sorted(grams)],
            deferrable=deferrable,
        )


# --- input ---------------------------------------------------------------------------------------


@dataclass
class TicketInput:
    """Ticket fields as given; ``None`` means "not given" (partial updates). An id of 0 clears
    the reference (assignee, team, contact, order, asset, parent)."""

    type: str | None = None
    channel: str | None = None
    priority: str | None = None
    subject: str | None = None
    body: str | None = None
    customer_id: int | None = None
    contact_id: int | None = None
    order_id: int | None = None
    asset_id: int | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    parent_id: int | None = None
    recovery_status: str | None = None
    recovery_outcome: str | None = None


@dataclass
class StepFields:
    """Type-specific fields a transition may carry (domain.md §4.2, §4.4, §4.5)."""

    complaint_level: str | None = None
    responsible_department_id: int | None = None
    liability: str | None = None
    root_cause: str | None = None
    proposal: str | None = None
    compensation_amount: Any = None
    recovery_outcome: str | None = None
    escalation_level: int | None = None
    assignee_id: int | None = None
    team_id: int | None = None


def _choice(
    value: str, choices: type[Any], name: str, label: str, errors: dict[str, list[str]]
) -> str:
    if value not in choices.values:
        errors[name] = [
            _("%(label)s“%(value)s”无效，可选：%(choices)s。")
            % {"label": label, "value": str(value)[:30], "choices": "、".join(choices.values)}
        ]
        return ""
    return value


def _text(
    value: str, name: str, limit: int, errors: dict[str, list[str]], *, required: bool = False
) -> str:
    try:
        return clean_text(value, max_length=limit, required=required)
    except ValueError as exc:
        errors[name] = [str(exc)]
        return ""


def _amount(value: Any, errors: dict[str, list[str]]) -> Decimal | None:
    if isinstance(value, bool):
        value = None
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if value is not None else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        errors["compensation_amount"] = [_("请填写有效的金额（元）。")]
        return None
    if amount < 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        errors["compensation_amount"] = [
            _("金额须在 0 到 999,999,999,999.99 元之间，最多两位小数。")
        ]
        return None
    return amount.quantize(Decimal("0.01"))


_CUSTOMER_COLUMNS = ("id", "name", "tier", "region", "owner_id", "serving_team_id")
_CUSTOMER_READ = fastsql.Prepared(
    lambda pk: Customer.objects.filter(pk=pk).values_list(*_CUSTOMER_COLUMNS, "serving_team__name")
)


def _customer_for(actor: User, customer_id: int) -> Customer:
    """The customer, if the actor may see it (404 otherwise: ids don't leak), with the columns
    a new ticket needs. Its serving team's name comes in the same read: that team is usually
    the ticket's, which the answer names. Read by id with a statement compiled once, then
    tested against the actor's scope (``customer_visible``, the same scope the lists filter by).
    """
    row = _CUSTOMER_READ.first(customer_id) if 0 < customer_id <= MAX_ID else None
    if row is None or not customer_visible(actor, serving_team_id=row[5], owner_id=row[4]):
        raise NotFound(_("客户不存在。"), fields={"customer_id": [_("客户不存在。")]})
    customer = fastsql.instance(Customer, dict(zip(_CUSTOMER_COLUMNS, row, strict=False)))
    serving_team_id, team_name = row[5], row[6]
    if serving_team_id is not None:
        customer.serving_team = Team.from_db(
            "default", ["id", "name"], [serving_team_id, team_name]
        )
    return customer


def _staff(user_id: int, errors: dict[str, list[str]]) -> User | None:
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id <= MAX_ID else None
    if user is None:
        errors["assignee_id"] = [_("处理人不存在或已停用。")]
    elif not user.has_perm("desk.work_ticket"):
        errors["assignee_id"] = [_("%(name)s 不能处理工单（没有坐席权限）。") % {"name": user}]
    return user


def _references(
    data: TicketInput | StepFields,
    *,
    customer_id: int | None,
    clean: dict[str, Any],
    errors: dict[str, list[str]],
) -> None:
    """Check the ids given: contact, order and asset must be the customer's."""
    checks: list[tuple[str, Any, str]] = [
        ("contact_id", Contact, _("联系人不存在或不属于该客户。")),
        ("order_id", Order, _("订单不存在或不属于该客户。")),
        ("asset_id", Asset, _("设备不存在或不属于该客户。")),
    ]
    for name, model, message in checks:
        value = getattr(data, name, None)
        if value is None:
            continue
        if value == 0:
            clean[name] = None
            continue
        if customer_id is None or value > MAX_ID:
            errors[name] = [message]
            continue
        if not model.objects.filter(pk=value, customer_id=customer_id).exists():
            errors[name] = [message]
        else:
            clean[name] = value
    if data.team_id is not None:
        if data.team_id == 0:
            clean["team_id"] = None
        elif data.team_id > MAX_ID or not Team.objects.filter(pk=data.team_id).exists():
            errors["team_id"] = [_("班组不存在。")]
        else:
            clean["team_id"] = data.team_id
    if data.assignee_id is not None:
        if data.assignee_id == 0:
            clean["assignee_id"] = None
        elif _staff(data.assignee_id, errors) is not None and "assignee_id" not in errors:
            clean["assignee_id"] = data.assignee_id


def _validate_fields(
    data: TicketInput, *, creating: bool, customer_id: int | None
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if creating:
        for name in ("type", "channel", "subject"):
            if getattr(data, name) in (None, ""):
                errors[name] = [_("此项为必填项。")]
    if data.type is not None and "type" not in errors:
        clean["type"] = _choice(data.type, Ticket.Type, "type", _("工单类型"), errors)
    if data.channel is not None and "channel" not in errors:
        clean["channel"] = _choice(data.channel, Ticket.Channel, "channel", _("渠道"), errors)
    if data.priority is not None:
        clean["priority"] = _choice(data.priority, Ticket.Priority, "priority", _("优先级"), errors)
    if data.subject is not None and "subject" not in errors:
        clean["subject"] = _text(data.subject, "subject", 200, errors, required=True)
    if data.body is not None:
        clean["body"] = _text(data.body, "body", 10000, errors)
    if data.recovery_status is not None:
        clean["recovery_status"] = _choice(
            data.recovery_status, Ticket.Recovery, "recovery_status", _("追偿状态"), errors
        )
    if data.recovery_outcome is not None:
        clean["recovery_outcome"] = _text(data.recovery_outcome, "recovery_outcome", 500, errors)
    if data.parent_id is not None:
        if data.parent_id == 0:
            clean["parent_id"] = None
        elif data.parent_id > MAX_ID or not Ticket.objects.filter(pk=data.parent_id).exists():
            errors["parent_id"] = [_("关联工单不存在。")]
        else:
            clean["parent_id"] = data.parent_id
    _references(data, customer_id=customer_id, clean=clean, errors=errors)
    if errors:
        raise _invalid(errors)
    return clean


def _ticket_by_key(actor: User, key: str) -> Ticket | None:
    return Ticket.objects.filter(created_by=actor, idempotency_key=key).first()


# --- create --------------------------------------------------------------------------------------


def ticket_create(
    *,
    actor: User,
    data: TicketInput,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> tuple[Ticket, bool]:
    """Open a ticket: (ticket, True), or (the first ticket, False) when ``idempotency_key``
    was already used by this user. The unique constraint on (created_by, key) decides a race
    between two identical requests: the loser's transaction rolls back (its number with it)
    and it answers with the winner's ticket."""
    if not actor.has_perm("desk.add_ticket"):
        raise Forbidden(_("您没有新建工单的权限。"))
    key = idempotency_key.strip()
    if len(key) > 100:
        raise _invalid({"Idempotency-Key": [_("幂等键最多 100 个字符。")]})
    if key:
        existing = _ticket_by_key(actor, key)
        if existing is not None:
            return existing, False
    try:
        return _ticket_insert(actor=actor, data=data, key=key, now=now), True
    except IntegrityError:
        if key:
            existing = _ticket_by_key(actor, key)
            if existing is not None:
                return existing, False
        raise


@transaction.atomic
def _ticket_insert(*, actor: User, data: TicketInput, key: str, now: datetime | None) -> Ticket:
    now = now or timezone.now()
    customer = _customer_for(actor, data.customer_id) if data.customer_id is not None else None
    clean = _validate_fields(data, creating=True, customer_id=customer.pk if customer else None)
    ticket = Ticket(
        type=clean["type"],
        channel=clean["channel"],
        priority=clean.get("priority") or Ticket.Priority.NORMAL,
        subject=clean["subject"],
        body=clean.get("body", ""),
        customer=customer,
        customer_team_id=customer.serving_team_id if customer else None,
        tier=customer.tier if customer else "",
        created_by=actor,
        created_at=now,
        idempotency_key=key,
    )
    for name in ("contact_id", "order_id", "asset_id", "assignee_id", "parent_id"):
        if clean.get(name) is not None:
            setattr(ticket, name, clean[name])
    team_id = clean.get("team_id")
    if team_id is None and ticket.assignee_id is None:
        # Nobody chosen by hand: the routing rules decide (a key account's bound team first,
        # then the first matching rule, among online agents with the skill).
        decision = _route(ticket, customer)
        if decision.assignee_id is not None:
            ticket.assignee_id = decision.assignee_id
        team_id = decision.team_id
        ticket._route_reason = decision.reason  # type: ignore[attr-defined]
    ticket.team_id = (
        team_id if team_id is not None else customer.serving_team_id if customer else None
    )
    if customer is not None and ticket.team_id and ticket.team_id == customer.serving_team_id:
        ticket.team = customer.serving_team  # loaded with the customer: no query to name it
    ticket.status = machine_for(ticket.type).initial
    # Due times are computed before the INSERT, inside its transaction: no ticket is ever
    # stored without them.
    sla.sla_compute(ticket)
    # The day's number (ticket_number_next) and, on PostgreSQL, the ticket's id in one statement.
    day = timezone.localtime(now).date()
    value, ticket.pk = daily_counter_next_with_id(TicketCounter, day, Ticket)
    ticket.number = _number(day, value)
    # The hot path's rows go in through statements compiled once (kefu.core.fastsql): these
    # models have no save() of their own and no save receivers (a test keeps it so). With its
    # id known, the ticket and the rows that hang off it (grams, first transition, audit event,
    # status link) reach PostgreSQL in one round trip, before the commit.
    with fastsql.together():
        fastsql.insert(ticket, deferrable=True)
        _write_grams(ticket, deferrable=True)
        fastsql.insert(
            TicketTransition(
                ticket=ticket, actor=actor, from_status="", to_status=ticket.status, created_at=now
            ),
            deferrable=True,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            target=ticket,
            changes={
                "number": ticket.number,
                "type": ticket.type,
                "channel": ticket.channel,
                "priority": ticket.priority,
                "customer": ticket.customer_id,
            },
        )
        if ticket.assignee_id and ticket.assignee_id != actor.pk:
            _notify_assigned(ticket)
        signals.ticket_created.send(sender=Ticket, ticket=ticket, actor=actor)
        webhook_emit("ticket.created", ticket)
    return ticket


def _route(ticket: Ticket, customer: Customer | None) -> RouteDecision:
    product = ""
    if ticket.asset_id is not None:
        product = (
            Asset.objects.filter(pk=ticket.asset_id).values_list("product_model", flat=True).first()
            or ""
        )
    return route(
        ticket_type=ticket.type,
        product=product,
        region=customer.region if customer else "",
        tier=ticket.tier,
        customer_id=customer.pk if customer else None,
    )


def open_tickets_per_agent(user_ids: list[int]) -> dict[int, int]:
    """The routing load counter (kefu.routing.hooks): each agent's tickets still open."""
    rows = (
        Ticket.objects.filter(open_tickets_q(), assignee_id__in=user_ids)
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    return {row["assignee_id"]: row["n"] for row in rows}


def ticket_types_from_call() -> list[tuple[str, Any]]:
    """The types the screen pop offers (an arbitration is opened from a complaint or a claim,
    never straight from a call); inquiry, the default, first."""
    return [
        (value, label) for value, label in Ticket.Type.choices if value != Ticket.Type.ARBITRATION
    ]


def _call_summary(call: Any, when: datetime) -> str:
    """The ticket's body: when, which call, how long the caller waited (whole seconds) and
    talked; a call still going on (the usual case: the agent files it while on the phone) has
    no talk time yet, and saying "通话 0 秒" would be wrong."""
    facts = {
        "when": when.strftime("%Y-%m-%d %H:%M"),
        "call": call.call_id,
        "wait": round(call.wait_seconds or 0),
        "talk": round(call.talk_seconds or 0),
    }
    if call.talk_seconds is None:
        return _("%(when)s 来电（通话编号 %(call)s，等待 %(wait)s 秒，建单时通话中）。") % facts
    return _("%(when)s 来电（通话编号 %(call)s，等待 %(wait)s 秒，通话 %(talk)s 秒）。") % facts


def ticket_from_call(call: Any, actor: User, *, ticket_type: str = "", subject: str = "") -> str:
    """The call center's "转为工单" (kefu.calls.hooks): a ticket by phone (an inquiry unless
    the agent picked another type in the pop) for the caller's customer when the agent may see
    them (else without a customer: the number is in the body), linked to the call; answers the
    ticket's page. A blank subject becomes "来电 138****5678"."""
    from django.urls import reverse

    customer_id = call.customer_id
    scope = customer_scope_filter(actor)
    if (
        customer_id is not None
        and scope is not None
        and not Customer.objects.filter(scope, pk=customer_id).exists()
    ):
        customer_id = None
    when = timezone.localtime(call.offered_at or call.created_at)
    ticket, _created = ticket_create(
        actor=actor,
        data=TicketInput(
            type=ticket_type or Ticket.Type.INQUIRY,
            channel=Ticket.Channel.PHONE,
            subject=subject.strip()
            or _("来电 %(number)s") % {"number": call.customer_number_masked},
            body=_call_summary(call, when),
            customer_id=customer_id,
            assignee_id=actor.pk,
        ),
    )
    call.ticket_id = ticket.pk
    return reverse("desk:detail", args=[ticket.pk])


# --- update ------------------------------------------------------------------------------------

_PATCHABLE = (
    "priority",
    "subject",
    "body",
    "contact_id",
    "order_id",
    "asset_id",
    "assignee_id",
    "team_id",
    "parent_id",
    "recovery_status",
    "recovery_outcome",
)


@transaction.atomic
def ticket_update(
    *, actor: User, ticket: Ticket, data: TicketInput, now: datetime | None = None
) -> Ticket:
    """Change a ticket's fields (not its type, customer or status: status moves only by
    transitions). A new priority or team recomputes the due times."""
    if not actor.has_perm("desk.change_ticket"):
        raise Forbidden(_("您没有处理工单的权限。"))
    if data.type is not None or data.channel is not None or data.customer_id is not None:
        raise _invalid({"__all__": [_("工单的类型、渠道和客户建单后不能修改。")]})
    clean = _validate_fields(data, creating=False, customer_id=ticket.customer_id)
    if clean.get("parent_id") == ticket.pk:
        raise _invalid({"parent_id": [_("工单不能关联到自己。")]})
    changes: dict[str, list[Any]] = {}
    for name in _PATCHABLE:
        if name in clean and getattr(ticket, name) != clean[name]:
            changes[name] = [getattr(ticket, name), clean[name]]
            setattr(ticket, name, clean[name])
    if not changes:
        return ticket
    update_fields = [*changes, "updated_at"]
    if "priority" in changes or "team_id" in changes:
        sla.sla_compute(ticket)
        update_fields += sla.SLA_FIELDS
    ticket.save(update_fields=update_fields)
    if "subject" in changes:
        _write_grams(ticket, replace=True)
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=ticket, changes=changes)
    if "assignee_id" in changes and ticket.assignee_id and ticket.assignee_id != actor.pk:
        _notify_assigned(ticket)
    webhook_emit("ticket.updated", ticket)
    return ticket


def tickets_retier(*, customer: Customer | None = None) -> int:
    """Open tickets whose customer's tier changed get the new tier's targets (a diamond
    customer is bumped one priority level): one customer's (a manual pin), or every such
    ticket (the nightly job after the tier recompute, which writes tiers in bulk). Returns how
    many tickets were recomputed."""
    from django.db.models import F

    stale = Ticket.objects.filter(open_tickets_q(), customer__isnull=False).exclude(
        tier=F("customer__tier")
    )
    if customer is not None:
        stale = stale.filter(customer=customer)
    count = 0
    for pk in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            ticket = (
                Ticket.objects.select_for_update(of=("self",)).select_related("customer").get(pk=pk)
            )
            assert ticket.customer is not None
            if ticket.tier == ticket.customer.tier:
                continue
            ticket.tier = ticket.customer.tier
            sla.sla_compute(ticket)
            ticket.save(update_fields=["tier", *sla.SLA_FIELDS, "updated_at"])
            count += 1
    return count


def _notify_assigned(ticket: Ticket) -> None:
    assert ticket.assignee_id is not None
    Notification.objects.create(
        user_id=ticket.assignee_id,
        ticket=ticket,
        kind=Notification.Kind.ASSIGNED,
        message=_("工单 %(number)s 分派给您：%(subject)s")
        % {"number": ticket.number, "subject": ticket.subject[:100]},
    )


# --- transitions -------------------------------------------------------------------------------


def _clean_step(ticket: Ticket, step: StepFields) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if step.complaint_level is not None:
        clean["complaint_level"] = _choice(
            step.complaint_level, Ticket.ComplaintLevel, "complaint_level", _("投诉级别"), errors
        )
    if step.liability is not None:
        clean["liability"] = _choice(
            step.liability, Ticket.Liability, "liability", _("责任判定"), errors
        )
    if step.root_cause is not None:
        clean["root_cause"] = _choice(
            step.root_cause, Ticket.RootCause, "root_cause", _("原因分类"), errors
        )
    if step.proposal is not None:
        clean["proposal"] = _choice(
            step.proposal, Ticket.Proposal, "proposal", _("处理方案"), errors
        )
    if step.compensation_amount is not None:
        clean["compensation_amount"] = _amount(step.compensation_amount, errors)
    if step.recovery_outcome is not None:
        clean["recovery_outcome"] = _text(
            step.recovery_outcome, "recovery_outcome", 500, errors, required=True
        )
    if step.responsible_department_id is not None:
        department_id = step.responsible_department_id
        if department_id > MAX_ID or not Department.objects.filter(pk=department_id).exists():
            errors["responsible_department_id"] = [_("部门不存在。")]
        else:
            clean["responsible_department_id"] = department_id
    if step.escalation_level is not None:
        if not ticket.escalation_level < step.escalation_level <= 4:
            errors["escalation_level"] = [
                _("升级层级须高于当前的 L%(level)d，最高 L4。") % {"level": ticket.escalation_level}
            ]
        else:
            clean["escalation_level"] = step.escalation_level
    _references(step, customer_id=ticket.customer_id, clean=clean, errors=errors)
    if errors:
        raise _invalid(errors)
    return clean


_FIELD_LABELS = {
    "complaint_level": _("投诉级别"),
    "responsible_department_id": _("责任部门"),
    "liability": _("责任判定"),
    "root_cause": _("原因分类"),
    "proposal": _("处理方案"),
    "compensation_amount": _("赔偿金额"),
    "recovery_outcome": _("处理结果"),
}


@transaction.atomic
def ticket_transition(
    *,
    actor: User | None,
    ticket: Ticket,
    to: str,
    note: str = "",
    step: StepFields | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Move a ticket to ``to`` if its lifecycle allows it for this actor (None = the system's
    timer), with the note and the type-specific fields the step needs.

    1. the workflow says whether the step exists (else 409, listing the allowed ones) and
       whether the actor's role may take it (else 403);
    2. the step's required note and fields are checked (given now or already on the ticket);
    3. sign-off steps (approval by amount, the arbitration panel) record the actor's sign-off
       and move only once a complete set of roles has signed;
    4. the SLA clocks pause, resume, stop or continue; the transition, the audit event and the
       notifications are written; webhooks go out after commit.
    """
    if actor is not None and not actor.has_perm("desk.change_ticket"):
        raise Forbidden(_("您没有处理工单的权限。"))
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    try:
        transition = transition_check(ticket, to, actor, now)
    except TransitionRefused as exc:
        error_class = Forbidden if exc.forbidden else Conflict
        raise error_class(
            exc.message,
            code="forbidden" if exc.forbidden else "transition_not_allowed",
            extra={"allowed": exc.allowed},
        ) from None
    refusal = signals.transition_refusal(ticket, to, actor)
    if refusal:
        raise Conflict(refusal, code="transition_guarded", extra={"allowed": []})
    errors: dict[str, list[str]] = {}
    note = _text(note or "", "note", 2000, errors)
    if errors:
        raise _invalid(errors)
    clean = _clean_step(ticket, step or StepFields())
    if transition.note and not note:
        raise _invalid({"note": [_("此操作需要填写说明（原因）。")]})
    missing = [
        name
        for name in transition.fields
        if clean.get(name) in (None, "") and getattr(ticket, name) in (None, "")
    ]
    if missing:
        raise _invalid(
            {
                name: [_("此操作需要填写%(field)s。") % {"field": _FIELD_LABELS[name]}]
                for name in missing
            }
        )
    source = ticket.status
    changes: dict[str, list[Any]] = {}
    for name, value in clean.items():
        if name == "escalation_level":
            continue
        if getattr(ticket, name) != value:
            changes[name] = [getattr(ticket, name), value]
            setattr(ticket, name, value)

    if transition.signoff:
        assert actor is not None
        if not _sign(ticket, transition, actor, note, now):
            # recorded; the status waits for the remaining sign-offs
            ticket.save(update_fields=[*changes, "updated_at"])
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                target=ticket,
                field="approval",
                changes={"stage": transition.target, **changes},
                note=note,
            )
            return ticket

    machine = machine_for(ticket.type)
    ticket.status = to
    if source in machine.paused and to not in machine.paused:
        sla.sla_resume(ticket, now)
    if to in machine.paused:
        sla.sla_pause(ticket, now)
    if to == Ticket.Status.REOPENED:
        sla.sla_reopen(ticket, now)
        ticket.reopen_count += 1
        ticket.resolved_at = None
        ticket.closed_at = None
    if to in machine.resolved and source not in machine.resolved:
        ticket.resolved_at = ticket.resolved_at or now
    if to in machine.final:
        ticket.closed_at = now
    if "complaint_level" in changes or "team_id" in changes:
        sla.sla_compute(ticket)
    if to == Ticket.Status.PROPOSED:
        ticket.proposal_round += 1
    if to == Ticket.Status.DECIDED:
        ticket.decision = note
    if to == Ticket.Status.CONFIRMED and ticket.liability in (
        Ticket.Liability.SUPPLIER,
        Ticket.Liability.CARRIER,
    ):
        ticket.recovery_status = Ticket.Recovery.OPEN  # recovery against supplier or carrier
    if to == Ticket.Status.ESCALATED:
        ticket.escalation_level = clean.get("escalation_level") or min(
            ticket.escalation_level + 1, 4
        )
    sla.sla_schedule(ticket)
    ticket.save()
    TicketTransition.objects.create(
        ticket=ticket, actor=actor, from_status=source, to_status=to, note=note, created_at=now
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=ticket,
        field="status",
        changes={"status": [source, to], **changes},
        note=note,
    )
    _after_transition(ticket, source=source, to=to, actor=actor, note=note)
    signals.ticket_transitioned.send(
        sender=Ticket, ticket=ticket, source=source, to=to, actor=actor, note=note
    )
    webhook_emit("ticket.updated", ticket)
    return ticket


def _sign(ticket: Ticket, transition: Any, actor: User, note: str, now: datetime) -> bool:
    """Record the actor's sign-off; True when a complete set of roles has now signed."""
    options = signoff_options(ticket, transition)
    signed = set(
        TicketApproval.objects.filter(
            ticket=ticket, stage=transition.target, round=ticket.proposal_round
        ).values_list("role", flat=True)
    )
    role = signoff_role(options, signed, actor_roles(actor))
    if not role:
        needed = " 或 ".join(
            "＋".join(str(ROLE_LABELS[r]) for r in sorted(option)) for option in options
        )
        if signed and any(r in signed for r in actor_roles(actor)):
            raise Conflict(_("您已经签批过了，等待其他人签批：%(needed)s。") % {"needed": needed})
        raise Forbidden(
            _("这一步需要 %(needed)s 签批。") % {"needed": needed},
            extra={"allowed": []},
        )
    TicketApproval.objects.create(
        ticket=ticket,
        stage=transition.target,
        round=ticket.proposal_round,
        role=role,
        approver=actor,
        amount=ticket.compensation_amount,
        note=note[:500],
        created_at=now,
    )
    signed.add(role)
    if signoff_complete(options, signed):
        return True
    remaining = set().union(*options) - signed
    notify_roles(
        ticket,
        roles=sorted(remaining),
        kind=Notification.Kind.APPROVAL,
        message=_("工单 %(number)s 等待您签批（%(target)s）")
        % {"number": ticket.number, "target": status_label(transition.target)},
    )
    return False


def _after_transition(
    ticket: Ticket, *, source: str, to: str, actor: User | None, note: str
) -> None:
    if to == Ticket.Status.ASSESSED and ticket.complaint_level == Ticket.ComplaintLevel.MAJOR:
        notify_roles(
            ticket,
            roles=["manager", "gm"],
            kind=Notification.Kind.MAJOR_COMPLAINT,
            message=_("重大投诉 %(number)s：%(subject)s")
            % {"number": ticket.number, "subject": ticket.subject[:100]},
        )
    if to == Ticket.Status.ESCALATED:
        notify_escalation_level(ticket, note=note)
    if to == Ticket.Status.ARBITRATION:
        _open_arbitration(ticket, actor=actor, note=note)


def _open_arbitration(ticket: Ticket, *, actor: User | None, note: str) -> Ticket:
    """A complaint escalated to arbitration, or a rejected claim appealed: a linked
    arbitration ticket (§4.5) starts at FILED."""
    now = timezone.now()
    case = Ticket(
        type=Ticket.Type.ARBITRATION,
        channel=ticket.channel,
        priority=ticket.priority,
        status=machine_for(Ticket.Type.ARBITRATION).initial,
        subject=_("仲裁：%(subject)s") % {"subject": ticket.subject[:190]},
        body=note,
        customer_id=ticket.customer_id,
        customer_team_id=ticket.customer_team_id,
        contact_id=ticket.contact_id,
        order_id=ticket.order_id,
        asset_id=ticket.asset_id,
        team_id=ticket.team_id,
        tier=ticket.tier,
        liability=ticket.liability,
        compensation_amount=ticket.compensation_amount,
        parent=ticket,
        created_by=actor,
        created_at=now,
    )
    sla.sla_compute(case)
    case.number = ticket_number_next(timezone.localtime(now).date())
    case.save(force_insert=True)
    _write_grams(case)
    TicketTransition.objects.create(
        ticket=case, actor=actor, from_status="", to_status=case.status, note=note, created_at=now
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=case,
        changes={"number": case.number, "type": case.type, "parent": ticket.pk},
    )
    webhook_emit("ticket.created", case)
    return case


# --- comments and attachments ------------------------------------------------------------------


def attachment_limits() -> tuple[int, set[str]]:
    return (
        int(settings.TICKET_ATTACHMENT_MAX_BYTES),
        {ext.lower() for ext in settings.TICKET_ATTACHMENT_TYPES},
    )


def _check_file(upload: UploadedFile) -> str:
    max_bytes, allowed = attachment_limits()
    name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "file"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in allowed:
        raise _invalid(
            {
                "files": [
                    _("不支持的文件类型“%(name)s”，允许：%(types)s。")
                    % {"name": name, "types": "、".join(sorted(allowed))}
                ]
            }
        )
    if (upload.size or 0) > max_bytes:
        raise _invalid(
            {
                "files": [
                    _("文件“%(name)s”超过 %(mb)s MB 的上限。")
                    % {"name": name, "mb": f"{max_bytes / 1024 / 1024:g}"}
                ]
            }
        )
    return name


@contextmanager
def attachment_files_guard() -> Iterator[list[FieldFile]]:
    """The files a write stores, deleted again when the write fails.

    Storage is not transactional: a comment whose transaction rolls back (a refused second
    file, a database error, a failed COMMIT) would leave its first files behind. Enter the
    guard outside the transaction, ``with attachment_files_guard() as stored,
    transaction.atomic():``, so that the COMMIT is inside it too; ``_attachment_save`` appends
    each file it stores. A caller that runs the write inside a larger transaction of its own
    and rolls that back later must clean up itself (nobody does today)."""
    stored: list[FieldFile] = []
    try:
        yield stored
    except BaseException:
        for stored_file in stored:
            try:
                stored_file.storage.delete(stored_file.name or "")
            except Exception:  # the original error matters more than a file left over
                logger.exception("could not delete the attachment %s", stored_file.name)
        raise


def _attachment_save(
    *,
    ticket: Ticket,
    comment: TicketComment,
    name: str,
    content_type: str,
    size: int,
    content: File[Any],
    uploaded_by: User | None,
    now: datetime,
    stored: list[FieldFile],
) -> TicketAttachment:
    attachment = TicketAttachment(
        ticket=ticket,
        comment=comment,
        filename=name,
        content_type=(content_type or "application/octet-stream")[:100],
        size=size,
        uploaded_by=uploaded_by,
        created_at=now,
    )
    attachment.file.save(name, content, save=False)
    stored.append(attachment.file)
    attachment.save()
    return attachment


def comment_add(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    public: bool,
    files: Sequence[UploadedFile] | None = None,
    now: datetime | None = None,
) -> TicketComment:
    """An internal note or a public reply (the first public reply stops the response clock),
    with attachments checked for type and size and stored through Django's storage API. Every
    file is checked before anything is written; a write that fails removes the files it stored
    (``attachment_files_guard``)."""
    with attachment_files_guard() as stored, transaction.atomic():
        if not actor.has_perm("desk.change_ticket"):
            raise Forbidden(_("您没有处理工单的权限。"))
        now = now or timezone.now()
        errors: dict[str, list[str]] = {}
        body = _text(body, "body", 10000, errors, required=True)
        if errors:
            raise _invalid(errors)
        names = [_check_file(upload) for upload in files or []]
        comment = TicketComment.objects.create(
            ticket=ticket, author=actor, body=body, public=public, created_at=now
        )
        for upload, name in zip(files or [], names, strict=True):
            _attachment_save(
                ticket=ticket,
                comment=comment,
                name=name,
                content_type=upload.content_type or "",
                size=upload.size or 0,
                content=upload,
                uploaded_by=actor,
                now=now,
                stored=stored,
            )
        if public and ticket.first_responded_at is None:
            ticket.first_responded_at = now
            sla.sla_schedule(ticket)
            ticket.save(update_fields=["first_responded_at", "sla_next_check_at", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            target=ticket,
            field="reply" if public else "note",
            changes={"comment": comment.pk, "attachments": names},
        )
        signals.comment_added.send(sender=Ticket, ticket=ticket, comment=comment, actor=actor)
        webhook_emit("ticket.updated", ticket)
    return comment


def comment_from_customer(
    *,
    ticket: Ticket,
    body: str,
    via: str,
    files: list[tuple[str, str, bytes]] | None = None,
    now: datetime | None = None,
) -> TicketComment:
    """A reply the customer wrote (portal, email, SMS). The caller has already established who
    the customer is (a ticket token, a matched sender address). ``files`` are (name, content
    type, bytes); a file over the size limit or of a refused type is not stored, and the
    comment says so instead of failing: the customer's words are never dropped.

    A ticket waiting on the customer goes back to work (its clock resumes); a resolved one is
    reopened when its lifecycle allows it."""
    with attachment_files_guard() as stored, transaction.atomic():
        return _comment_from_customer(
            ticket=ticket, body=body, via=via, files=files, now=now, stored=stored
        )


def _comment_from_customer(
    *,
    ticket: Ticket,
    body: str,
    via: str,
    files: list[tuple[str, str, bytes]] | None,
    now: datetime | None,
    stored: list[FieldFile],
) -> TicketComment:
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    body = (body or "").strip()[:10000] or _("（无正文）")
    max_bytes, allowed = attachment_limits()
    kept: list[tuple[str, str, bytes]] = []
    refused: list[str] = []
    for name, content_type, data in files or []:
        clean_name = (name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "file"
        extension = clean_name.rsplit(".", 1)[-1].lower() if "." in clean_name else ""
        if extension not in allowed:
            refused.append(_("附件“%(name)s”类型不允许，未保存。") % {"name": clean_name})
        elif len(data) > max_bytes:
            refused.append(
                _("附件“%(name)s”超过 %(mb)s MB 的上限，未保存。")
                % {"name": clean_name, "mb": f"{max_bytes / 1024 / 1024:g}"}
            )
        else:
            kept.append((clean_name, content_type, data))
    if refused:
        body = body + "\n\n" + "\n".join(f"[{line}]" for line in refused)
    comment = TicketComment.objects.create(
        ticket=ticket,
        author=None,
        body=body[:10000],
        public=True,
        from_customer=True,
        via=via,
        created_at=now,
    )
    for name, content_type, data in kept:
        _attachment_save(
            ticket=ticket,
            comment=comment,
            name=name,
            content_type=content_type,
            size=len(data),
            content=ContentFile(data),
            uploaded_by=None,
            now=now,
            stored=stored,
        )
    audit_record(
        actor=None,
        action=AuditEvent.Action.CREATE,
        target=ticket,
        field="customer_reply",
        changes={"comment": comment.pk, "via": via, "refused": len(refused)},
    )
    machine = machine_for(ticket.type)
    for target in (Ticket.Status.IN_PROGRESS, Ticket.Status.DOCS_REVIEW, Ticket.Status.REOPENED):
        if ticket.status in machine.paused or ticket.status in machine.resolved:
            try:
                transition_check(ticket, target, None, now)
            except TransitionRefused:
                continue
            ticket = ticket_transition(
                actor=None, ticket=ticket, to=target, note=_("客户回复"), now=now
            )
            break
    if ticket.assignee is not None:
        notify_users(
            ticket,
            [ticket.assignee],
            kind=Notification.Kind.CUSTOMER_REPLY,
            message=_("客户回复了工单 %(number)s") % {"number": ticket.number},
        )
    signals.comment_added.send(sender=Ticket, ticket=ticket, comment=comment, actor=None)
    webhook_emit("ticket.updated", ticket)
    return comment


@transaction.atomic
def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def step_fields_names() -> list[str]:
    return [f.name for f in fields(StepFields)]
