"""/workspace/: bulk actions from the ticket list, the ticket page's reply and macro and merge
forms, the management pages of canned replies and macros, and the supervisors' live load."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError, Forbidden, NotFound
from kefu.desk.access import ticket_get_for_user, tickets_for_user
from kefu.desk.models import Ticket
from kefu.desk.views import ticket_agents
from kefu.org.models import Team, User
from kefu.web.helpers import form_id, refuse, request_user
from kefu.workspace.access import (
    can_supervise,
    can_view_load,
    can_work,
    item_get_for_user,
    manageable_teams,
    may_change,
    usable,
)
from kefu.workspace.models import CannedReply, Macro, Scope, Shared
from kefu.workspace.selectors import team_load
from kefu.workspace.services import (
    BulkRefused,
    MacroInput,
    ReplyInput,
    canned_reply_save,
    macro_run,
    macro_save,
    reply_render,
    shared_delete,
    ticket_merge,
    tickets_bulk,
)
from kefu.workspace.variables import VARIABLES

LOAD_REFRESH_SECONDS = 10


def _message(exc: ApplicationError) -> str:
    detail = "；".join(m for ms in exc.fields.values() for m in ms)
    return f"{exc.message} {detail}".strip()


# --- bulk --------------------------------------------------------------------------------------


@login_required
@require_POST
def bulk_view(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    post = request.POST
    back = post.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    back = back or "/tickets/"
    ids = [number for number in (form_id(v) for v in post.getlist("ids")) if number]
    try:
        changed = tickets_bulk(
            actor=user,
            ids=ids,
            action=post.get("action", ""),
            assignee_id=form_id(post.get("assignee_id")),
            team_id=form_id(post.get("team_id")),
            note=post.get("note", ""),
        )
    except BulkRefused as exc:
        return render(
            request,
            "workspace/bulk_refused.html",
            {"message": exc.message, "failures": exc.failures, "back": back},
            status=409,
        )
    except ApplicationError as exc:
        if exc.status in (403, 404):
            return refuse(request, exc)
        messages.error(request, _message(exc))
    else:
        messages.success(request, _("已处理 %(n)d 张工单。") % {"n": changed})
    return redirect(back)


# --- the ticket page ---------------------------------------------------------------------------


@login_required
def reply_fill_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The reply box filled with the chosen canned reply (htmx swaps the desk's textarea)."""
    user = request_user(request)
    try:
        ticket = ticket_get_for_user(user=user, ticket_id=ticket_id, write=True)
        reply_id = form_id(request.GET.get("reply"))
        text = ""
        if reply_id is not None:
            reply = item_get_for_user(CannedReply, user=user, item_id=reply_id)
            text = reply_render(reply=reply, ticket=ticket, user=user)
    except ApplicationError as exc:
        return refuse(request, exc)
    return render(request, "workspace/partials/_reply_box.html", {"text": text})


@login_required
@require_POST
def macro_run_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = request_user(request)
    try:
        ticket = ticket_get_for_user(user=user, ticket_id=ticket_id, write=True)
        macro = item_get_for_user(Macro, user=user, item_id=form_id(request.POST.get("macro")) or 0)
        macro_run(actor=user, macro=macro, ticket=ticket)
    except ApplicationError as exc:
        if exc.status == 403 or (exc.status == 404 and "macro" not in request.POST):
            return refuse(request, exc)
        messages.error(request, _message(exc))
    else:
        messages.success(request, _("已执行宏“%(title)s”。") % {"title": macro.title})
    return redirect("desk:detail", ticket_id=ticket_id)


def _target(user: User, value: str) -> Ticket:
    value = value.strip()[:24]
    tickets = tickets_for_user(user)
    found = None
    if value.upper().startswith("GD"):
        found = tickets.filter(number=value.upper()).first()
    elif (ticket_id := form_id(value)) is not None:
        found = tickets.filter(pk=ticket_id).first()
    if found is None:
        raise NotFound(
            _("找不到工单“%(value)s”：请填写要保留的工单号，如 GD20261125-000123。")
            % {"value": value}
        )
    return found


@login_required
@require_POST
def merge_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = request_user(request)
    try:
        source = ticket_get_for_user(user=user, ticket_id=ticket_id, write=True)
    except ApplicationError as exc:
        return refuse(request, exc)
    try:
        target = _target(user, request.POST.get("into", ""))
        ticket_merge(actor=user, source=source, target=target)
    except ApplicationError as exc:
        messages.error(request, _message(exc))
        return redirect("desk:detail", ticket_id=ticket_id)
    messages.success(
        request,
        _("已将 %(source)s 合并到 %(target)s。")
        % {"source": source.number, "target": target.number},
    )
    return redirect("desk:detail", ticket_id=target.pk)


# --- canned replies and macros -----------------------------------------------------------------


def _require_work(user: User) -> None:
    if not can_work(user) and not can_supervise(user):
        raise Forbidden(_("您没有使用快捷回复和宏的权限。"))


@login_required
def replies_view(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    try:
        _require_work(user)
    except ApplicationError as exc:
        return refuse(request, exc)
    replies = list(usable(CannedReply, user).order_by("scope", "title", "id"))
    macros = list(usable(Macro, user).select_related("reply").order_by("scope", "title", "id"))
    return render(
        request,
        "workspace/replies.html",
        {
            "replies": [(item, may_change(user, item)) for item in replies],
            "macros": [(item, may_change(user, item)) for item in macros],
            "variables": VARIABLES,
            "nav_section": "tickets",
        },
    )


def _shared_values(post: Any) -> dict[str, Any]:
    return {
        "title": post.get("title", ""),
        "scope": post.get("scope", Scope.PERSONAL),
        "team_id": form_id(post.get("team_id")),
        "active": post.get("active") == "1",
    }


def _form_context(
    user: User, kind: str, item: Shared | None, values: dict[str, Any]
) -> dict[str, Any]:
    scopes = [
        (v, label) for v, label in Scope.choices if v == Scope.PERSONAL or can_supervise(user)
    ]
    context: dict[str, Any] = {
        "kind": kind,
        "item": item,
        "values": values,
        "scopes": scopes,
        "teams": list(manageable_teams(user).order_by("name")),
        "variables": VARIABLES,
        "nav_section": "tickets",
    }
    if kind == "macro":
        context.update(
            {
                "replies": list(usable(CannedReply, user).filter(active=True)),
                "priorities": Ticket.Priority.choices,
                "all_teams": list(Team.objects.order_by("name")),
                "agents": ticket_agents(),
                "statuses": Ticket.Status.choices,
            }
        )
    return context


def _initial(item: Shared | None, kind: str) -> dict[str, Any]:
    if item is None:
        return {"scope": Scope.PERSONAL, "active": True, "reply_public": True}
    values: dict[str, Any] = {
        "title": item.title,
        "scope": item.scope,
        "team_id": item.team_id,
        "active": item.active,
    }
    if isinstance(item, CannedReply):
        values["body"] = item.body
    if isinstance(item, Macro):
        values.update(
            {
                "reply_id": item.reply_id,
                "reply_public": item.reply_public,
                "set_priority": item.set_priority,
                "set_team_id": item.set_team_id,
                "set_assignee_id": item.set_assignee_id,
                "assign_to_self": item.assign_to_self,
                "transition_to": item.transition_to,
                "note": item.note,
            }
        )
    return values


def _edit(request: HttpRequest, kind: str, item_id: int | None) -> HttpResponse:
    user = request_user(request)
    model: type[Shared] = CannedReply if kind == "reply" else Macro
    item: Shared | None = None
    try:
        _require_work(user)
        if item_id is not None:
            item = item_get_for_user(model, user=user, item_id=item_id)
            if request.method == "POST" and not may_change(user, item):
                raise Forbidden(_("您不能修改这一条：个人的只有本人能改，本组和全员的由主管维护。"))
    except ApplicationError as exc:
        return refuse(request, exc)
    values = _initial(item, kind)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        post = request.POST
        values = _shared_values(post)
        try:
            if kind == "reply":
                values["body"] = post.get("body", "")
                assert item is None or isinstance(item, CannedReply)
                canned_reply_save(actor=user, data=ReplyInput(**values), reply=item)
            else:
                values.update(
                    {
                        "reply_id": form_id(post.get("reply_id")),
                        "reply_public": post.get("reply_public") == "1",
                        "set_priority": post.get("set_priority", ""),
                        "set_team_id": form_id(post.get("set_team_id")),
                        "set_assignee_id": form_id(post.get("set_assignee_id")),
                        "assign_to_self": post.get("assign_to_self") == "1",
                        "transition_to": post.get("transition_to", ""),
                        "note": post.get("note", ""),
                    }
                )
                assert item is None or isinstance(item, Macro)
                macro_save(actor=user, data=MacroInput(**values), macro=item)
        except ApplicationError as exc:
            if exc.status == 403:
                return refuse(request, exc)
            errors = exc.fields or {"__all__": [exc.message]}
            status = 422
        else:
            messages.success(request, _("已保存。"))
            return redirect("workspace:replies")
    context = _form_context(user, kind, item, values)
    context.update(
        {
            "errors": errors,
            "general_errors": errors.get("__all__", []),
            "can_change": item is None or may_change(user, item),
        }
    )
    return render(request, "workspace/shared_form.html", context, status=status)


@login_required
def reply_create_view(request: HttpRequest) -> HttpResponse:
    return _edit(request, "reply", None)


@login_required
def reply_edit_view(request: HttpRequest, item_id: int) -> HttpResponse:
    return _edit(request, "reply", item_id)


@login_required
def macro_create_view(request: HttpRequest) -> HttpResponse:
    return _edit(request, "macro", None)


@login_required
def macro_edit_view(request: HttpRequest, item_id: int) -> HttpResponse:
    return _edit(request, "macro", item_id)


@login_required
@require_POST
def delete_view(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    user = request_user(request)
    model: type[Shared] = CannedReply if kind == "reply" else Macro
    try:
        item = item_get_for_user(model, user=user, item_id=item_id, write=True)
        shared_delete(actor=user, item=item)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            return refuse(request, exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除“%(title)s”。") % {"title": item.title})
    return redirect("workspace:replies")


# --- live load ---------------------------------------------------------------------------------


@login_required
def load_view(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not can_view_load(user):
        return refuse(request, Forbidden(_("只有主管及以上可以查看坐席负载。")))
    context: dict[str, Any] = {
        "teams": team_load(user=user),
        "refresh": LOAD_REFRESH_SECONDS,
        "nav_section": "workspace_load",
    }
    if getattr(request, "htmx", False):
        return render(request, "workspace/partials/_load.html", context)
    return render(request, "workspace/load.html", context)
