"""/routing/: the supervisors' board, the presence switch of the top bar, skills and rules."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError, Forbidden, NotFound
from kefu.org.models import User
from kefu.routing.forms import AgentSkillForm, RuleForm, SkillForm
from kefu.routing.models import AgentPresence
from kefu.routing.selectors import (
    agent_skill_rows,
    board_for,
    rule_get,
    rule_list,
    skill_list,
)
from kefu.routing.services import (
    agent_skill_remove,
    agent_skill_set,
    presence_heartbeat,
    presence_of,
    presence_set,
    routing_rule_create,
    routing_rule_delete,
    routing_rule_update,
    skill_create,
)

BOARD_REFRESH_SECONDS = 10


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _refused(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "web/error.html", {"message": exc.message}, status=exc.status)


def can_view_board(user: User) -> bool:
    return user.has_perm("routing.view_routing_board")


# htmx stops polling on this status (a logged-out or offline browser has nothing to report)
STOP_POLLING = 286


def presence_widget(user: User) -> dict[str, object] | None:
    """The top bar's presence switch, for those who take work; while the agent is not offline
    it carries the heartbeat poll (every KEFU_PRESENCE_HEARTBEAT_SECONDS)."""
    if not user.has_perm("routing.set_own_presence"):
        return None
    presence = presence_of(user)
    return {
        "presence": presence,
        "statuses": AgentPresence.Status.choices,
        "heartbeat_seconds": settings.PRESENCE_HEARTBEAT_SECONDS,
    }


def heartbeat_view(request: HttpRequest) -> HttpResponse:
    """Polled by the top bar of a working agent: 204, and ``last_seen_at`` written at most once
    per interval (presence_heartbeat). Logged out: 286, the poll stops."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return HttpResponse(status=STOP_POLLING)
    presence_heartbeat(user=user)
    return HttpResponse(status=204)


@login_required
@require_POST
def presence_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    status = 200
    try:
        presence_set(
            actor=user,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", "")[:200],
        )
    except ApplicationError as exc:
        if not request.htmx:  # type: ignore[attr-defined]
            return _refused(request, exc)
        messages.error(request, exc.message)
        status = exc.status
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect(request.POST.get("next") or "web:home")
    widget = presence_widget(user)
    if widget is None:
        return HttpResponse(status=403)
    return render(
        request, "routing/partials/_presence_switch.html", {"widget": widget}, status=status
    )


@login_required
def board_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        teams = board_for(user=user)
    except Forbidden as exc:
        return _refused(request, exc)
    context: dict[str, Any] = {"teams": teams, "refresh": BOARD_REFRESH_SECONDS}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "routing/partials/_board.html", context)
    return render(request, "routing/board.html", context)


@login_required
def rules_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        rules = list(rule_list(user=user))
    except Forbidden as exc:
        return _refused(request, exc)
    return render(
        request,
        "routing/rules.html",
        {"rules": rules, "can_change": user.has_perm("routing.change_routingrule")},
    )


@login_required
def rule_create_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.has_perm("routing.add_routingrule"):
        return _refused(request, Forbidden(_("您没有维护技能与分配规则的权限。")))
    form = RuleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                routing_rule_create(actor=user, data=form.to_input())
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(request, _("已新建分配规则。"))
                return redirect("routing:rules")
        status = 422
    return render(request, "routing/rule_form.html", {"form": form}, status=status)


@login_required
def rule_edit_view(request: HttpRequest, rule_id: int) -> HttpResponse:
    user = _user(request)
    try:
        rule = rule_get(user=user, rule_id=rule_id)
    except NotFound:
        raise Http404(_("分配规则不存在。")) from None
    except Forbidden as exc:
        return _refused(request, exc)
    can_change = user.has_perm("routing.change_routingrule")
    if request.method == "POST" and not can_change:
        return _refused(request, Forbidden(_("您没有维护技能与分配规则的权限。")))
    form = RuleForm(request.POST or None, initial=RuleForm.initial_for(rule))
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                routing_rule_update(actor=user, rule=rule, data=form.to_input())
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(request, _("已保存分配规则。"))
                return redirect("routing:rules")
        status = 422
    return render(
        request,
        "routing/rule_form.html",
        {"form": form, "rule": rule, "can_change": can_change},
        status=status,
    )


@login_required
@require_POST
def rule_delete_view(request: HttpRequest, rule_id: int) -> HttpResponse:
    user = _user(request)
    try:
        rule = rule_get(user=user, rule_id=rule_id)
        routing_rule_delete(actor=user, rule=rule)
    except NotFound:
        raise Http404(_("分配规则不存在。")) from None
    except ApplicationError as exc:
        return _refused(request, exc)
    messages.success(request, _("已删除分配规则“%(name)s”。") % {"name": rule.name})
    return redirect("routing:rules")


@login_required
def skills_view(request: HttpRequest) -> HttpResponse:
    """Skills, and each agent's skills with a form to give or change one."""
    user = _user(request)
    try:
        skills = list(skill_list(user=user))
        rows = agent_skill_rows(user=user)
    except Forbidden as exc:
        return _refused(request, exc)
    agents = [agent for agent, _skills in rows]
    skill_form = SkillForm(request.POST if request.POST.get("form") == "skill" else None)
    agent_form = AgentSkillForm(
        request.POST if request.POST.get("form") == "agent_skill" else None, agents=agents
    )
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("form") == "skill" and skill_form.is_valid():
                skill_create(actor=user, **skill_form.cleaned_data)
                messages.success(request, _("已新增技能。"))
                return redirect("routing:skills")
            if request.POST.get("form") == "agent_skill" and agent_form.is_valid():
                data = agent_form.cleaned_data
                agent = next(agent for agent in agents if agent.pk == data["user_id"])
                agent_skill_set(
                    actor=user, user=agent, skill_code=data["skill"], level=data["level"]
                )
                messages.success(request, _("已保存坐席技能。"))
                return redirect("routing:skills")
            if request.POST.get("form") == "remove":
                holder = next((a for a in agents if str(a.pk) == request.POST.get("user_id")), None)
                if holder is None:
                    raise NotFound(_("坐席不存在。"))
                agent_skill_remove(
                    actor=user, user=holder, skill_code=request.POST.get("skill", "")
                )
                messages.success(request, _("已移除坐席技能。"))
                return redirect("routing:skills")
        except Forbidden as exc:
            return _refused(request, exc)
        except ApplicationError as exc:
            form = skill_form if request.POST.get("form") == "skill" else agent_form
            form.add_service_errors(exc.fields or {"__all__": [exc.message]})
        status = 422
    return render(
        request,
        "routing/skills.html",
        {
            "skills": skills,
            "rows": rows,
            "skill_form": skill_form,
            "agent_form": agent_form,
            "can_change": user.has_perm("routing.change_agentskill"),
        },
        status=status,
    )
