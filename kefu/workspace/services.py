"""Every write of the workspace: canned replies and macros (kept here), and the actions on
tickets that go through the desk's services so that its rules, audit and hooks all apply:
running a macro, bulk assign/resolve/close, and merging one ticket into another."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden
from kefu.core.text import clean_text
from kefu.desk.access import tickets_for_user
from kefu.desk.models import Ticket, TicketAttachment, TicketComment
from kefu.desk.services import TicketInput, comment_add, ticket_transition, ticket_update
from kefu.desk.webhooks import webhook_emit
from kefu.desk.workflow import (
    SUPERVISOR,
    SYSTEM,
    Transition,
    actor_roles,
    machine_for,
    status_label,
)
from kefu.org.models import Team, User
from kefu.workspace.access import can_supervise, can_work, manageable_teams, may_change, usable
from kefu.workspace.models import CannedReply, Macro, Scope, Shared
from kefu.workspace.variables import template_check, template_render

MAX_ID = 2**63 - 1
BULK_MAX = 200
S = TypeVar("S", bound=Shared)


def _invalid(errors: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError(
        _("提交的内容有误，请检查标出的字段。"), code="invalid", status=400, fields=errors
    )


def _text(
    value: str, name: str, limit: int, errors: dict[str, list[str]], *, required: bool = False
) -> str:
    try:
        return clean_text(value or "", max_length=limit, required=required)
    except ValueError as exc:
        errors[name] = [str(exc)]
        return ""


# --- canned replies and macros -----------------------------------------------------------------


@dataclass
class SharedInput:
    title: str = ""
    scope: str = Scope.PERSONAL
    team_id: int | None = None
    active: bool = True


@dataclass
class ReplyInput(SharedInput):
    body: str = ""


@dataclass
class MacroInput(SharedInput):
    reply_id: int | None = None
    reply_public: bool = True
    set_priority: str = ""
    set_team_id: int | None = None
    set_assignee_id: int | None = None
    assign_to_self: bool = False
    transition_to: str = ""
    note: str = ""


def _clean_shared(actor: User, data: SharedInput, errors: dict[str, list[str]]) -> dict[str, Any]:
    """Title, scope and team; the scope must be one the actor may write."""
    clean: dict[str, Any] = {
        "title": _text(data.title, "title", 100, errors, required=True),
        "active": bool(data.active),
        "owner": None,
        "team": None,
    }
    scope = data.scope
    if scope not in Scope.values:
        errors["scope"] = [_("范围只能是个人、本组或全员。")]
        return clean
    clean["scope"] = scope
    if scope == Scope.PERSONAL:
        if not can_work(actor):
            raise Forbidden(_("您没有使用快捷回复和宏的权限。"))
        clean["owner"] = actor
    elif not can_supervise(actor):
        errors["scope"] = [_("本组和全员范围的只有主管可以维护；您可以保存为个人的。")]
    elif scope == Scope.TEAM:
        team = (
            manageable_teams(actor).filter(pk=data.team_id).first()
            if data.team_id and 0 < data.team_id <= MAX_ID
            else None
        )
        if team is None:
            errors["team_id"] = [_("请选择您所在（或您管理）的班组。")]
        clean["team"] = team
    return clean


def _save(actor: User, item: S, clean: dict[str, Any], *, creating: bool) -> S:
    changes: dict[str, Any] = {}
    for name, value in clean.items():
        old = getattr(item, name)
        if creating or old != value:
            changes[name] = value if creating else [old, value]
            setattr(item, name, value)
    item.updated_by = actor
    item.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
        target=item,
        changes=changes,
    )
    return item


def _check_writable(actor: User, item: Shared | None) -> None:
    if item is not None and not may_change(actor, item):
        raise Forbidden(_("您不能修改这一条：个人的只有本人能改，本组和全员的由主管维护。"))


@transaction.atomic
def canned_reply_save(
    *, actor: User, data: ReplyInput, reply: CannedReply | None = None
) -> CannedReply:
    """Create (``reply`` None) or change a canned reply. The body's variables are checked
    here: an unknown one is refused with the list of those that exist."""
    _check_writable(actor, reply)
    errors: dict[str, list[str]] = {}
    clean = _clean_shared(actor, data, errors)
    clean["body"] = _text(data.body, "body", 5000, errors, required=True)
    if "body" not in errors:
        problems = template_check(clean["body"])
        if problems:
            errors["body"] = problems
    if errors:
        raise _invalid(errors)
    if reply is not None and clean["scope"] == Scope.PERSONAL:
        # a personal one stays its owner's (a supervisor narrowing a shared one takes it over)
        clean["owner"] = reply.owner if reply.scope == Scope.PERSONAL else actor
    return _save(actor, reply or CannedReply(), clean, creating=reply is None)


def _clean_macro(actor: User, data: MacroInput, errors: dict[str, list[str]]) -> dict[str, Any]:
    clean = _clean_shared(actor, data, errors)
    clean["reply"] = None
    if data.reply_id:
        reply = (
            usable(CannedReply, actor).filter(pk=data.reply_id, active=True).first()
            if 0 < data.reply_id <= MAX_ID
            else None
        )
        if reply is None:
            errors["reply_id"] = [_("快捷回复不存在或已停用。")]
        elif reply.scope == Scope.PERSONAL and clean.get("scope") != Scope.PERSONAL:
            errors["reply_id"] = [_("共享的宏不能使用个人的快捷回复（别人看不到它）。")]
        clean["reply"] = reply
    clean["reply_public"] = bool(data.reply_public)
    if data.set_priority and data.set_priority not in Ticket.Priority.values:
        errors["set_priority"] = [_("优先级无效。")]
    clean["set_priority"] = data.set_priority or ""
    clean["set_team"] = None
    if data.set_team_id:
        team = (
            Team.objects.filter(pk=data.set_team_id).first() if data.set_team_id <= MAX_ID else None
        )
        if team is None:
            errors["set_team_id"] = [_("班组不存在。")]
        clean["set_team"] = team
    clean["set_assignee"] = None
    if data.set_assignee_id:
        user = (
            User.objects.filter(pk=data.set_assignee_id, is_active=True).first()
            if data.set_assignee_id <= MAX_ID
            else None
        )
        if user is None or not user.has_perm("desk.work_ticket"):
            errors["set_assignee_id"] = [_("处理人不存在、已停用或没有坐席权限。")]
        clean["set_assignee"] = user
    clean["assign_to_self"] = bool(data.assign_to_self)
    if clean["assign_to_self"] and clean["set_assignee"] is not None:
        errors["set_assignee_id"] = [_("“分派给执行人”和指定处理人只能选一个。")]
    if data.transition_to and data.transition_to not in Ticket.Status.values:
        errors["transition_to"] = [_("状态无效。")]
    clean["transition_to"] = data.transition_to or ""
    clean["note"] = _text(data.note, "note", 2000, errors)
    if clean["note"]:
        problems = template_check(clean["note"])
        if problems:
            errors["note"] = problems
    does_something = (
        clean["reply"] is not None
        or clean["set_priority"]
        or clean["set_team"] is not None
        or clean["set_assignee"] is not None
        or clean["assign_to_self"]
        or clean["transition_to"]
        or clean["note"]
    )
    if not does_something and not errors:
        errors["__all__"] = [_("宏至少要包含一项操作：回复、改优先级、改派、转状态或内部备注。")]
    return clean


@transaction.atomic
def macro_save(*, actor: User, data: MacroInput, macro: Macro | None = None) -> Macro:
    _check_writable(actor, macro)
    errors: dict[str, list[str]] = {}
    clean = _clean_macro(actor, data, errors)
    if errors:
        raise _invalid(errors)
    if macro is not None and clean["scope"] == Scope.PERSONAL:
        clean["owner"] = macro.owner if macro.scope == Scope.PERSONAL else actor
    return _save(actor, macro or Macro(), clean, creating=macro is None)


@transaction.atomic
def shared_delete(*, actor: User, item: Shared) -> None:
    _check_writable(actor, item)
    if isinstance(item, CannedReply) and item.macros.exists():
        titles = "、".join(item.macros.values_list("title", flat=True)[:5])
        raise Conflict(
            _("这条快捷回复还被宏使用（%(titles)s），请先修改这些宏。") % {"titles": titles}
        )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=item,
        changes={"title": item.title, "scope": item.scope},
    )
    item.delete()


def reply_render(*, reply: CannedReply, ticket: Ticket, user: User) -> str:
    return template_render(reply.body, ticket=ticket, user=user)


@transaction.atomic
def macro_run(*, actor: User, macro: Macro, ticket: Ticket) -> Ticket:
    """Run a macro on one ticket, all or nothing:

    1. priority, team and assignee through ``ticket_update`` (due times recomputed there);
    2. the canned reply (to the customer, or as a note) and the internal note through
       ``comment_add``, their variables filled in for this ticket and the actor;
    3. the status step through ``ticket_transition`` (its note: the macro's note, else its
       title), so the lifecycle and the transition guards decide.

    Any refusal rolls everything back; the run itself is audited on the ticket."""
    if not macro.active:
        raise Conflict(_("宏“%(title)s”已停用。") % {"title": macro.title})
    update = TicketInput(
        priority=macro.set_priority or None,
        team_id=macro.set_team_id,
        assignee_id=actor.pk if macro.assign_to_self else macro.set_assignee_id,
    )
    if update.priority or update.team_id or update.assignee_id:
        ticket = ticket_update(actor=actor, ticket=ticket, data=update)
    if macro.reply is not None:
        comment_add(
            actor=actor,
            ticket=ticket,
            body=template_render(macro.reply.body, ticket=ticket, user=actor),
            public=macro.reply_public,
        )
    note = template_render(macro.note, ticket=ticket, user=actor) if macro.note else ""
    if note:
        comment_add(actor=actor, ticket=ticket, body=note, public=False)
    if macro.transition_to and macro.transition_to != ticket.status:
        ticket = ticket_transition(
            actor=actor,
            ticket=ticket,
            to=macro.transition_to,
            note=note or _("宏：%(title)s") % {"title": macro.title},
        )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=ticket,
        field="macro",
        changes={"macro": macro.pk, "title": macro.title},
    )
    return ticket


# --- bulk actions ------------------------------------------------------------------------------

BULK_ACTIONS = {
    "assign": None,
    "resolve": Ticket.Status.RESOLVED,
    "close": Ticket.Status.CLOSED,
    "cancel": Ticket.Status.CANCELLED,
}


class BulkRefused(Conflict):
    """Some tickets refused: nothing was changed. ``failures`` lists (ticket id, number,
    reason) for each one that refused."""

    code = "bulk_refused"

    def __init__(self, failures: list[tuple[int, str, str]]) -> None:
        super().__init__(
            _("有 %(n)d 张工单不能处理，所有工单均未修改。") % {"n": len(failures)},
            extra={"failures": failures},
        )
        self.failures = failures


def _reason(exc: ApplicationError) -> str:
    detail = "；".join(message for messages in exc.fields.values() for message in messages)
    return f"{exc.message} {detail}".strip()


def tickets_bulk(
    *,
    actor: User,
    ids: list[int],
    action: str,
    assignee_id: int | None = None,
    team_id: int | None = None,
    note: str = "",
) -> int:
    """Assign (to an agent, a team or both), resolve, close or cancel several tickets at once,
    each through the desk's services, in one transaction: if any ticket refuses, every change
    is rolled back and BulkRefused lists each refusal with its reason (every ticket is tried,
    so the list is complete). Returns the number of tickets changed."""
    if not actor.has_perm("desk.change_ticket"):
        raise Forbidden(_("您没有处理工单的权限。"))
    errors: dict[str, list[str]] = {}
    unique = list(dict.fromkeys(i for i in ids if 0 < i <= MAX_ID))
    if not unique:
        errors["ids"] = [_("请先勾选要处理的工单。")]
    elif len(unique) > BULK_MAX:
        errors["ids"] = [_("一次最多处理 %(n)d 张工单。") % {"n": BULK_MAX}]
    if action not in BULK_ACTIONS:
        errors["action"] = [_("请选择操作：分派、解决、关闭或取消。")]
    elif action == "assign" and not assignee_id and not team_id:
        errors["assignee_id"] = [_("请选择处理人或班组。")]
    note = _text(note, "note", 2000, errors)
    if action in ("resolve", "cancel") and not note and "note" not in errors:
        errors["note"] = [_("解决或取消工单需要填写说明。")]
    if errors:
        raise _invalid(errors)
    failures: list[tuple[int, str, str]] = []
    with transaction.atomic():
        found = {
            ticket.pk: ticket
            for ticket in tickets_for_user(actor)
            .select_related("customer")
            .filter(pk__in=unique)
            .order_by("pk")
        }
        for ticket_id in unique:
            ticket = found.get(ticket_id)
            if ticket is None:
                failures.append((ticket_id, f"#{ticket_id}", _("工单不存在或您无权查看。")))
                continue
            try:
                # each service call is its own savepoint: a refusal rolls back that ticket
                # only, so the others are still tried and every reason is reported
                if action == "assign":
                    ticket_update(
                        actor=actor,
                        ticket=ticket,
                        data=TicketInput(assignee_id=assignee_id, team_id=team_id),
                    )
                else:
                    ticket_transition(
                        actor=actor, ticket=ticket, to=str(BULK_ACTIONS[action]), note=note
                    )
            except ApplicationError as exc:
                failures.append((ticket.pk, ticket.number, _reason(exc)))
        if failures:
            raise BulkRefused(failures)  # leaves the atomic block: everything rolls back
    return len(unique)


# --- merge -------------------------------------------------------------------------------------

# When several ways end a ticket in as few steps, these say "not done, merged" best.
_PREFERRED_ENDS = (
    Ticket.Status.CANCELLED,
    Ticket.Status.WITHDRAWN,
    Ticket.Status.DISMISSED,
    Ticket.Status.CLOSED,
)


def _may(transition: Transition, roles: frozenset[str]) -> bool:
    if roles & transition.roles:
        return True
    return SYSTEM in transition.roles and SUPERVISOR in roles  # the timer's steps by hand


def closing_path(ticket: Ticket, actor: User, now: datetime) -> list[str] | None:
    """The shortest sequence of statuses that ends the ticket through its lifecycle with steps
    the actor may take alone (no sign-offs, no fields the ticket lacks), preferring
    cancelled/withdrawn over closed; None when there is none (e.g. a claim before its
    approval). The desk's ``ticket_transition`` still checks each step."""
    machine = machine_for(ticket.type)
    roles = actor_roles(actor)
    steps: dict[str, list[Transition]] = {}
    for transition in machine.transitions:
        if transition.signoff or not _may(transition, roles):
            continue
        if any(getattr(ticket, name, None) in (None, "") for name in transition.fields):
            continue
        if transition.guard is not None and transition.guard(ticket, now):
            continue
        for source in transition.sources:
            steps.setdefault(source, []).append(transition)
    queue: deque[list[str]] = deque([[ticket.status]])
    seen = {ticket.status}
    while queue:
        level = list(queue)
        queue.clear()
        ends = [path for path in level if path[-1] in machine.final and len(path) > 1]
        if ends:
            rank: dict[str, int] = {str(status): i for i, status in enumerate(_PREFERRED_ENDS)}
            best = min(ends, key=lambda path: rank.get(path[-1], len(rank)))
            return best[1:]
        for path in level:
            if path[-1] in machine.final or len(path) > 5:
                continue
            for transition in steps.get(path[-1], []):
                if transition.target not in seen:
                    seen.add(transition.target)
                    queue.append([*path, transition.target])
    return None


def _copy_attachment(attachment: TicketAttachment, target: Ticket, comment: TicketComment) -> None:
    copy = TicketAttachment(
        ticket=target,
        comment=comment,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        uploaded_by_id=attachment.uploaded_by_id,
        created_at=attachment.created_at,
    )
    with attachment.file.open("rb") as handle:
        copy.file.save(attachment.filename, File(handle), save=False)
    copy.save()


@transaction.atomic
def ticket_merge(
    *, actor: User, source: Ticket, target: Ticket, now: datetime | None = None
) -> Ticket:
    """Merge ticket ``source`` (B) into ``target`` (A), all in one transaction:

    1. both rows are locked (in id order: two opposite merges cannot deadlock) and checked:
       not the same ticket, the same customer, neither ended nor already merged;
    2. B's description, comments and attachments are copied to A as internal notes headed
       "合并自 GD…" (copies: B's own record stays as it was);
    3. B gets ``merged_into`` = A and is ended through its lifecycle (``ticket_transition``,
       the shortest way the actor may take: cancelled, withdrawn or resolved → closed), each
       step noted "已合并到 GD…"; a step the lifecycle or a guard refuses undoes everything;
    4. A gets a note saying what was merged; both are audited. Returns A."""
    if not actor.has_perm("desk.change_ticket"):
        raise Forbidden(_("您没有处理工单的权限。"))
    now = now or timezone.now()
    if source.pk == target.pk:
        raise _invalid({"into": [_("工单不能合并到自己。")]})
    locked = {
        ticket.pk: ticket
        for ticket in Ticket.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id is not None:
        raise Conflict(_("工单 %(number)s 已经合并过了。") % {"number": source.number})
    if target.merged_into_id is not None:
        raise Conflict(
            _("工单 %(number)s 已合并到其他工单，不能再作为合并目标。") % {"number": target.number}
        )
    for ticket in (source, target):
        if ticket.status in machine_for(ticket.type).final:
            raise Conflict(
                _("工单 %(number)s 已%(status)s，不能合并。")
                % {"number": ticket.number, "status": status_label(ticket.status)}
            )
    if source.customer_id is None or source.customer_id != target.customer_id:
        raise Conflict(_("只能合并同一客户的工单。"))
    path = closing_path(source, actor, now)
    if path is None:
        raise Conflict(
            _(
                "您不能按流程结束工单 %(number)s（%(type)s，当前“%(status)s”），"
                "请由有权限的同事处理或合并。"
            )
            % {
                "number": source.number,
                "type": source.get_type_display(),
                "status": status_label(source.status),
            }
        )
    header = _("合并自 %(number)s") % {"number": source.number}
    copied_comments = copied_files = 0
    if source.body:
        intro = TicketComment.objects.create(
            ticket=target,
            author=source.created_by,
            body=f"{header}（{_('原描述')}：{source.subject}）\n{source.body}"[:10000],
            public=False,
            created_at=now,
        )
        for attachment in source.attachments.filter(comment__isnull=True):
            _copy_attachment(attachment, target, intro)
            copied_files += 1
    for comment in source.comments.select_related("author").prefetch_related("attachments"):
        kind = (
            _("客户来信")
            if comment.from_customer
            else _("回复客户")
            if comment.public
            else _("内部备注")
        )
        who = (
            str(comment.author)
            if comment.author
            else _("客户")
            if comment.from_customer
            else _("系统")
        )
        when = timezone.localtime(comment.created_at).strftime("%Y-%m-%d %H:%M")
        copy = TicketComment.objects.create(
            ticket=target,
            author=comment.author,
            body=f"{header}（{when} {who} · {kind}）\n{comment.body}"[:10000],
            public=False,
            created_at=now,
        )
        copied_comments += 1
        for attachment in comment.attachments.all():
            _copy_attachment(attachment, target, copy)
            copied_files += 1
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    note = _("已合并到 %(number)s") % {"number": target.number}
    for status in path:
        source = ticket_transition(actor=actor, ticket=source, to=status, note=note, now=now)
    TicketComment.objects.create(
        ticket=target,
        author=actor,
        body=_(
            "已将工单 %(number)s（%(subject)s）合并到本工单：%(comments)d 条记录、%(files)d 个附件"
        )
        % {
            "number": source.number,
            "subject": source.subject[:100],
            "comments": copied_comments,
            "files": copied_files,
        },
        public=False,
        created_at=now,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=target,
        field="merge",
        changes={
            "merged": source.number,
            "comments": copied_comments,
            "attachments": copied_files,
        },
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=source,
        field="merged_into",
        changes={"merged_into": [None, target.number], "path": path},
    )
    webhook_emit("ticket.updated", target)
    return target
